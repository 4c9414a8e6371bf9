"""Sign-in lockout, production settings that pass Django's deployment checks, the health check,
and a database that goes away and comes back under a running gunicorn."""

import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from rest_framework.authtoken.models import Token

from tests import gunicorn_server
from tests.celery_helpers import broker_at
from tests.gunicorn_server import fetch, production_env, wait_for
from tests.tcp_proxy import Proxy

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)


def sign_in(client, username, password):
    return client.post(
        "/accounts/login/",
        {"login": username, "password": password},
        HTTP_ACCEPT_LANGUAGE="en",
        REMOTE_ADDR="198.51.100.7",
    )


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
    response = admin_client.post(
        "/admin/auth/user/add/",
        {
            "username": "newstaff",
            "password1": "12345678",
            "password2": "12345678",
            "usable_password": "true",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200 and "This password is too common." in response.content.decode()
    with pytest.raises(ValidationError):
        validate_password("password123")
    validate_password("Mariehamn-Växel-2026!")


def test_production_settings_pass_the_deployment_checks():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,"
        " s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS)"
    )
    shown = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
    )
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


@pytest.mark.skipif(
    not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="the database restart is a PostgreSQL server going away",
)
def test_a_database_restart_answers_503_and_the_service_recovers_by_itself(
    transactional_db, staff_user, customer_a_user
):
    token = Token.objects.create(user=staff_user).key
    sessions = {"/desk/": signed_in(staff_user), "/portal/": signed_in(customer_a_user)}
    database = django_settings.DATABASES["default"]
    proxy = Proxy(database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432))
    proxy.start()
    try:
        with gunicorn_server.running(workers=1, DATABASE_URL=gunicorn_server.database_url(port=proxy.port)) as base:
            restart_under(base, proxy, token, sessions)
    finally:
        proxy.cut()


def signed_in(user) -> str:
    """The key of a session of `user`'s, stored where a server process finds it."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


def restart_under(base: str, proxy: Proxy, token: str, sessions: dict[str, str]) -> None:
    """The database goes away under a running service and comes back."""
    assert fetch(f"{base}/api/terms/", token=token)[0] == 200
    for page, session in sessions.items():
        assert fetch(f"{base}{page}", session=session)[0] == 200

    proxy.cut()
    status, headers, body = fetch(f"{base}/healthz")
    assert status == 503 and json.loads(body)["database"].startswith("unavailable")
    assert headers["Retry-After"] == "30"
    for page, session in sessions.items():  # the session and the user are the database's too
        status, headers, body = fetch(f"{base}{page}", session=session)
        assert (status, headers.get("Retry-After")) == (503, "30"), page
        assert b"briefly unavailable" in body
    status, headers, body = fetch(f"{base}/admin/", session=sessions["/desk/"])
    assert (status, headers.get("Retry-After")) == (503, "30")
    status, headers, body = fetch(f"{base}/api/terms/", token=token)
    assert status == 503 and headers["Retry-After"] == "30"
    assert "briefly unavailable" in json.loads(body)["detail"]
    status, headers, body = fetch(f"{base}/accounts/login/?next=/desk/")
    assert status in (200, 503)  # the sign-in page itself needs no database

    proxy.start()
    wait_for(lambda: fetch(f"{base}/healthz")[0] == 200, "the service to recover")
    assert fetch(f"{base}/api/terms/", token=token)[0] == 200
    for page, session in sessions.items():
        assert fetch(f"{base}{page}", session=session)[0] == 200


@pytest.mark.skipif(
    not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="the stalled database is a PostgreSQL server that stops answering",
)
def test_a_database_that_stops_answering_gets_503_in_seconds_and_the_service_recovers(transactional_db, staff_user):
    """A proxy that keeps accepting connections and bytes but passes nothing: without limits
    every request hung until gunicorn killed its worker (~31 s, connection dropped)."""
    import time

    token = Token.objects.create(user=staff_user).key
    database = django_settings.DATABASES["default"]
    proxy = Proxy(database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432))
    proxy.start()
    try:
        with gunicorn_server.running(
            workers=1,
            DATABASE_URL=gunicorn_server.database_url(port=proxy.port),
            DATABASE_STATEMENT_TIMEOUT="2",
            DATABASE_CONNECT_TIMEOUT="2",
        ) as base:
            assert fetch(f"{base}/api/terms/", token=token)[0] == 200

            proxy.stall()
            started = time.monotonic()
            status, headers, body = fetch(f"{base}/api/terms/", token=token)  # on the open connection
            assert status == 503 and headers["Retry-After"] == "30"
            assert "briefly unavailable" in json.loads(body)["detail"]
            assert time.monotonic() - started < 10  # 2 s statement limit + 3 s grace
            started = time.monotonic()
            status, headers, body = fetch(f"{base}/healthz")  # a new connection: the connect timeout
            assert status == 503 and json.loads(body)["database"].startswith("unavailable")
            assert time.monotonic() - started < 10

            proxy.resume()
            wait_for(lambda: fetch(f"{base}/healthz")[0] == 200, "the service to recover")
            assert fetch(f"{base}/api/terms/", token=token)[0] == 200
    finally:
        proxy.resume()
        proxy.cut()


@pytest.mark.skipif(
    not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="the stalled database is a PostgreSQL server that stops answering",
)
def test_clients_queued_on_a_stalled_database_each_get_503_within_the_limit(transactional_db, staff_user):
    """Six clients at once on two workers, signed in by token and by session: each answered 503
    within the statement limit + grace (2 s + 3 s here), measured from when it asked, however
    many queries its request makes and however long it queued behind the others."""
    import threading
    import time

    token = Token.objects.create(user=staff_user).key
    session = signed_in(staff_user)
    database = django_settings.DATABASES["default"]
    proxy = Proxy(database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432))
    proxy.start()
    answers: list[tuple[str, int, str | None, float]] = []
    try:
        with gunicorn_server.running(
            workers=2,
            DATABASE_URL=gunicorn_server.database_url(port=proxy.port),
            DATABASE_STATEMENT_TIMEOUT="2",
            DATABASE_CONNECT_TIMEOUT="2",
        ) as base:
            for _ in range(4):  # both workers connected
                assert fetch(f"{base}/api/terms/", token=token)[0] == 200
                assert fetch(f"{base}/desk/", session=session)[0] == 200
            proxy.stall()

            def client(page: str, **credentials) -> None:
                started = time.monotonic()
                status, headers, _body = fetch(f"{base}{page}", **credentials)
                answers.append((page, status, headers.get("Retry-After"), time.monotonic() - started))

            threads = [
                threading.Thread(target=client, args=("/api/terms/",), kwargs={"token": token})
                if index % 2
                else threading.Thread(target=client, args=("/desk/",), kwargs={"session": session})
                for index in range(6)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

            proxy.resume()
            wait_for(lambda: fetch(f"{base}/healthz")[0] == 200, "the service to recover")
            assert fetch(f"{base}/desk/", session=session)[0] == 200
    finally:
        proxy.resume()
        proxy.cut()
    assert [(page, status, retry) for page, status, retry, _seconds in answers] == [
        (page, 503, "30") for page, _status, _retry, _seconds in answers
    ]
    assert len(answers) == 6
    assert max(seconds for *_answer, seconds in answers) < 5 + 2, answers


@pytest.mark.skipif(
    not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="statement_timeout is PostgreSQL's",
)
def test_web_statements_are_cancelled_by_the_server_after_the_web_limit(transactional_db, settings):
    """The web process's limit reaches PostgreSQL (statement_timeout); commands keep none."""
    from django.db import OperationalError, connections

    from config import database

    original = dict(settings.DATABASES["default"]["OPTIONS"])
    try:
        connections["default"].close()
        database.limit_statements(1.5)
        with connections["default"].cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone() == ("1500ms",)
            with pytest.raises(OperationalError, match="statement timeout"):
                cursor.execute("SELECT pg_sleep(3)")
    finally:
        connections["default"].close()
        settings.DATABASES["default"]["OPTIONS"].clear()
        settings.DATABASES["default"]["OPTIONS"].update(original)
        database.limit_statements(0)
    with connections["default"].cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("0",)
