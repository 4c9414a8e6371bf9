"""Pointing the Celery app at a chosen broker from a test, and starting a real worker."""

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from tests import gunicorn_server

ROOT = Path(__file__).resolve().parent.parent


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


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    """A solo Celery worker with `env`, its output in `log`, once it says it is ready."""
    with open(log, "w") as output:  # the worker writes to its own copy of the file
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "solo",
                "--without-mingle",
                "--without-gossip",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    gunicorn_server.wait_for(lambda: "ready." in log.read_text() or process.poll() is not None, "the worker", 60)
    assert process.poll() is None, log.read_text()
    return process
