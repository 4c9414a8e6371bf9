"""The service under gunicorn, as it runs in production, against the test database: for the
tests that need real processes, real sockets and real concurrency."""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings

from tests.ports import free_port

ROOT = Path(__file__).resolve().parent.parent


def database_url(*, port: int | None = None, name: str | None = None) -> str:
    """The test database's URL, or another database (`name`) or port on the same server."""
    database = settings.DATABASES["default"]
    return (
        f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
        f"{port or database['PORT'] or 5432}/{name or database['NAME']}"
    )


def production_env(**extra) -> dict:
    """The environment of a production process: the test run's own switches (DEBUG, plain HTTP,
    the browser tests' async allowance) removed, a real secret."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DEBUG", "SECURE_", "SESSION_", "CSRF_", "DJANGO_ALLOW_ASYNC_UNSAFE"))
    }
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="desk.example",
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://desk@db.internal:5432/desk"),
    )
    env.update(extra)
    return env


def fetch(
    url: str, *, token: str | None = None, body: bytes | None = None, session: str | None = None
) -> tuple[int, dict, bytes]:
    """GET (or POST `body` as JSON) with an API token or a signed-in session's key."""
    headers = {"Accept-Language": "en", **({"Authorization": f"Token {token}"} if token else {})}
    if session is not None:
        headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={session}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wait_for(predicate, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if predicate():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


@contextlib.contextmanager
def running(*, workers: int = 2, **env):
    """gunicorn on a free loopback port; yields its base URL."""
    port = free_port()
    environment = production_env(
        **{
            "DATABASE_URL": database_url(),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "CELERY_BROKER_URL": "memory://",
            **env,
        }
    )
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: fetch(f"{base}/healthz")[0] in (200, 503), "gunicorn to answer")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=15)
