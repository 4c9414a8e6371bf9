"""Sign-in lockout, production settings that pass Django's deployment checks, the health check,
and a database that goes away and comes back under a running gunicorn."""

import datetime
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from rest_framework.authtoken.models import Token

from tests.celery_helpers import broker_at
from tests.tcp_proxy import Proxy

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)


def sign_in(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password},
                       HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="198.51.100.7")


@pytest.mark.django_db
def test_repeated_wrong_passwords_lock_that_user_name_from_that_address(client, staff_user, settings):
    settings.AXES_FAILURE_LIMIT = 5
    with time_machine.travel(NOW, tick=False):
        for _attempt in range(4):
            assert sign_in(client, "staffer", "wrong").status_code == 200
        locked = sign_in(client, "staffer", "wrong")
        assert locked.status_code == 429 and "Sign-in locked" in locked.content.decode()
        # Even the right password is refused while locked ...
        assert sign_in(client, "staffer", "x-staff-pass-42").status_code == 429
        # ... but nobody else is locked out by it, not even from the same address.
        django_user = type(staff_user).objects.create_user("other", password="x-other-pass-42")
        assert sign_in(client, django_user.username, "x-other-pass-42").status_code == 302
    with time_machine.travel(NOW + datetime.timedelta(minutes=16), tick=False):
        assert sign_in(client, "staffer", "x-staff-pass-42").status_code == 302


@pytest.mark.django_db
def test_weak_passwords_are_refused_when_staff_set_them(admin_client):
    response = admin_client.post("/admin/auth/user/add/", {
        "username": "newstaff", "password1": "12345678", "password2": "12345678", "usable_password": "true",
    }, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and "This password is too common." in response.content.decode()
    with pytest.raises(ValidationError):
        validate_password("password123")
    validate_password("Mariehamn-Växel-2026!")


def production_env(**extra) -> dict:
    # The test run's own switches (DEBUG, plain HTTP, the browser tests' async allowance) are not
    # a production environment's.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DEBUG", "SECURE_", "SESSION_", "CSRF_", "DJANGO_ALLOW_ASYNC_UNSAFE"))}
    env.update(SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="desk.example",
               DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://desk@db.internal:5432/desk"))
    env.update(extra)
    return env


def test_production_settings_pass_the_deployment_checks():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=production_env(), capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    code = ("from django.conf import settings as s;"
            "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,"
            " s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS)")
    shown = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=production_env(),
                           capture_output=True, text=True)
    assert shown.stdout.splitlines()[-1].split() == ["True", "True", "True", "True", "31536000"], shown.stderr


def test_production_refuses_to_start_without_a_secret():
    env = production_env()
    del env["SECRET_KEY"]
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]
    with broker_at("redis://127.0.0.1:1/0"):
        degraded = client.get("/healthz")
    # Reports are still taken without the broker (their mail waits), so the check stays 200.
    assert degraded.status_code == 200 and degraded.json()["broker"].startswith("unavailable")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str, token: str | None = None) -> tuple[int, dict, bytes]:
    headers = {"Accept-Language": "en", **({"Authorization": f"Token {token}"} if token else {})}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wait_for(predicate, what: str, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


@pytest.mark.skipif(not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
                    reason="the database restart is a PostgreSQL server going away")
def test_a_database_restart_answers_503_and_the_service_recovers_by_itself(transactional_db, staff_user):
    token = Token.objects.create(user=staff_user).key
    database = django_settings.DATABASES["default"]
    proxy = Proxy(database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432))
    proxy.start()
    port = free_port()
    env = production_env(
        DATABASE_URL=f"postgres://{database['USER']}@127.0.0.1:{proxy.port}/{database['NAME']}",
        ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="false", CELERY_BROKER_URL="memory://",
    )
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1",
         "--timeout", "30"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(f"{base}/healthz"), "gunicorn to answer")
        assert fetch(f"{base}/api/terms/", token)[0] == 200

        proxy.cut()
        status, headers, body = fetch(f"{base}/healthz")
        assert status == 503 and json.loads(body)["database"].startswith("unavailable")
        status, headers, body = fetch(f"{base}/api/terms/", token)
        assert status == 503 and headers["Retry-After"] == "30"
        assert "briefly unavailable" in json.loads(body)["detail"]
        status, headers, body = fetch(f"{base}/accounts/login/?next=/desk/")
        assert status in (200, 503)  # the sign-in page itself needs no database

        proxy.start()
        wait_for(lambda: fetch(f"{base}/healthz")[0] == 200, "the service to recover")
        assert fetch(f"{base}/api/terms/", token)[0] == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
        proxy.cut()


def _answers(url: str) -> bool:
    try:
        return fetch(url)[0] == 200
    except OSError:
        return False
