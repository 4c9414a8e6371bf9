"""Pointing the Celery app at a chosen broker from a test."""

import contextlib
import os


@contextlib.contextmanager
def broker_at(url):
    """Point the Celery app at another broker. Celery reads CELERY_BROKER_URL from the
    environment before its own settings, and builds its pools from the URL on first use."""
    from config.celery import app

    def reset():
        app._pool = None
        app.amqp._producer_pool = None

    original = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = url
    reset()
    try:
        yield
    finally:
        if original is None:
            del os.environ["CELERY_BROKER_URL"]
        else:
            os.environ["CELERY_BROKER_URL"] = original
        reset()
