"""/healthz for load balancers and monitoring: is the database there, is the broker there."""

import redis
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from redis.backoff import NoBackoff
from redis.retry import Retry

from config.celery import app
from config.middleware import RETRY_AFTER_SECONDS


def _database() -> str:
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as error:  # noqa: BLE001 - reported, not raised
        connection.close_if_unusable_or_obsolete()
        return f"unavailable: {type(error).__name__}"


def _broker() -> str:
    """A PING to Redis, given up after the broker's own socket timeouts and not retried: a Redis
    that hangs makes the check answer "unavailable" in about a second, not hang with it."""
    url = app.conf.broker_url
    try:
        if url.startswith(("redis://", "rediss://", "unix://")):
            options = app.conf.broker_transport_options
            client = redis.Redis.from_url(
                url,
                socket_timeout=options.get("socket_timeout"),
                retry=Retry(NoBackoff(), 0),
                socket_connect_timeout=options.get("socket_connect_timeout"),
            )
            try:
                client.ping()
            finally:
                client.close()
        else:
            with app.connection_for_write() as broker:
                broker.ensure_connection(max_retries=1, timeout=1)
        return "ok"
    except Exception as error:  # noqa: BLE001 - reported, not raised
        return f"unavailable: {type(error).__name__}"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while reports can be taken (the database answers); the broker is reported but does
    not fail the check: without it reports are still stored and their mail waits."""
    database, broker = _database(), _broker()
    status = 200 if database == "ok" else 503
    response = JsonResponse(
        {"status": "ok" if status == 200 else "unavailable", "database": database, "broker": broker}, status=status
    )
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
