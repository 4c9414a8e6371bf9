"""Faults with real processes: the broker (a Redis of the test's own) stops while reports come in
to gunicorn; a Celery worker is killed in the middle of sending a mail."""

import datetime
import email
import email.policy
import json
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.conf import settings
from django.utils import timezone
from rest_framework.authtoken.models import Token

from tests import gunicorn_server
from tests.celery_helpers import start_worker
from tests.ports import free_port
from tickets import tasks
from tickets.models import Notification, Ticket

pytestmark = [
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="several processes share the database: PostgreSQL",
    ),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="no redis-server to start"),
]


class PrivateRedis:
    """A Redis of the test's own on a free port, to stop and start at will."""

    def __init__(self):
        self.port = free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        gunicorn_server.wait_for(lambda: _pings(self.port), "redis to answer")

    def stop(self):
        self.process.kill()
        self.process.wait(10)


def _pings(port: int) -> bool:
    import redis

    return redis.Redis(port=port, socket_connect_timeout=0.5).ping()


@pytest.fixture
def private_redis():
    server = PrivateRedis()
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


def report(base: str, token: str, contract: int, marker: str) -> int:
    body = json.dumps(
        {
            "contract": contract,
            "a_number": "018 12345",
            "b_number": "040 123 4567",
            "fault_occurred_at": (datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)).isoformat(),
            "description": marker,
        }
    ).encode()
    return gunicorn_server.fetch(f"{base}/api/tickets/", token=token, body=body)[0]


def mails_in(folder: Path) -> list[str]:
    """Message-IDs of the mails the file backend wrote."""
    found = []
    for path in folder.glob("*.log"):
        found += [
            line.split(":", 1)[1].strip() for line in path.read_text().splitlines() if line.startswith("Message-ID:")
        ]
    return found


def test_reports_are_stored_while_the_broker_is_down_and_their_mail_goes_out_after(
    seeded, contract_a, customer_a_user, private_redis, tmp_path, settings
):
    contract_a.customer.contacts.create(name="Anna", email="anna@alfa.example", is_primary=True)
    token = Token.objects.create(user=customer_a_user).key
    outbox = tmp_path / "mail"
    outbox.mkdir()
    env = gunicorn_server.production_env(
        DATABASE_URL=gunicorn_server.database_url(),
        CELERY_BROKER_URL=private_redis.url,
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(outbox),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
    )
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        # After a failed hand-over a process leaves the broker alone for this long (15 s by default).
        with gunicorn_server.running(
            workers=2,
            CELERY_BROKER_URL=private_redis.url,
            BROKER_PAUSE_AFTER_FAILURE="0.5",
            EMAIL_BACKEND=env["EMAIL_BACKEND"],
            EMAIL_FILE_PATH=str(outbox),
        ) as base:
            assert [report(base, token, contract_a.pk, f"up-{i}") for i in range(3)] == [201] * 3
            gunicorn_server.wait_for(lambda: len(mails_in(outbox)) == 3, "the acknowledgements")

            private_redis.stop()
            started = time.monotonic()
            assert [report(base, token, contract_a.pk, f"down-{i}") for i in range(5)] == [201] * 5
            assert time.monotonic() - started < 30  # each report waits about a second for the broker, no more
            assert Ticket.objects.filter(description__startswith="down-").count() == 5
            assert Notification.objects.filter(sent_at__isnull=True).count() == 5

            private_redis.start()
            # The beat sweep sends what the broker never carried (it leaves rows younger than
            # two minutes to the broker, hence the travel).
            settings.EMAIL_BACKEND = env["EMAIL_BACKEND"]
            settings.EMAIL_FILE_PATH = str(outbox)
            with time_machine.travel(timezone.now() + datetime.timedelta(minutes=3)):
                assert tasks.send_pending_notifications() == 5
            # New reports flow through the broker again, once the web processes' pause after the
            # failure is over (real time in other processes: no clock to travel).
            time.sleep(0.6)
            assert report(base, token, contract_a.pk, "after") == 201
            gunicorn_server.wait_for(lambda: len(mails_in(outbox)) == 9, "the mail after the broker came back")
    finally:
        worker.terminate()
        worker.wait(30)
    sent = mails_in(outbox)
    assert len(sent) == len(set(sent)) == 9  # every report's acknowledgement, none twice
    assert Notification.objects.filter(sent_at__isnull=True).count() == 0


def test_a_broker_that_hangs_holds_no_report_up_and_the_health_check_answers(
    seeded, contract_a, customer_a_user, private_redis, tmp_path, settings
):
    """A Redis that stops answering without closing its connections (SIGSTOP): before, each
    report waited ~30 s and answered 500 although it was stored, and /healthz hung."""
    token = Token.objects.create(user=customer_a_user).key
    contract_a.customer.contacts.create(name="Anna", email="anna@alfa.example", is_primary=True)
    with gunicorn_server.running(workers=1, CELERY_BROKER_URL=private_redis.url) as base:
        assert report(base, token, contract_a.pk, "before") == 201  # the broker's connection is open
        private_redis.process.send_signal(signal.SIGSTOP)
        try:
            timings = []
            for i in range(3):
                started = time.monotonic()
                assert report(base, token, contract_a.pk, f"hung-{i}") == 201
                timings.append(time.monotonic() - started)
            started = time.monotonic()
            status, _headers, body = gunicorn_server.fetch(f"{base}/healthz")
            health_took = time.monotonic() - started
        finally:
            private_redis.process.send_signal(signal.SIGCONT)
    assert max(timings) < 2, timings  # the first waits out the socket timeout, the rest skip the broker
    assert status == 200 and json.loads(body)["broker"] == "unavailable: TimeoutError" and health_took < 2
    hung = Ticket.objects.filter(description__startswith="hung-")
    assert hung.count() == 3  # each report stored once: nothing made the client try again
    assert Notification.objects.filter(ticket__in=hung, sent_at__isnull=True).count() == 3
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=3)):
        assert tasks.send_pending_notifications() >= 3  # the sweep sends what the broker never got


class SlowServer:
    """An SMTP server that holds the first message until released: a worker is killed while
    it waits."""

    def __init__(self):
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        if not self.received and not self.release.is_set():
            self.arrived.set()
            while not self.release.is_set():
                import asyncio

                await asyncio.sleep(0.05)
            return "451 try again later"  # the killed worker's connection is gone anyway
        self.received.append(message)
        return "250 OK"


def test_a_worker_killed_mid_task_leaves_the_task_to_be_redone_once(
    seeded, contract_a, customer_a_user, private_redis, tmp_path
):
    from tests.celery_helpers import broker_at
    from tickets import services
    from tickets.models import Channel

    contract_a.customer.contacts.create(name="Anna", email="anna@alfa.example", is_primary=True)
    smtp = SlowServer()
    port = free_port()
    controller = Controller(smtp, hostname="127.0.0.1", port=port)
    controller.start()
    env = gunicorn_server.production_env(
        DATABASE_URL=gunicorn_server.database_url(),
        CELERY_BROKER_URL=private_redis.url,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(port),
        EMAIL_USE_TLS="false",
        ALLOWED_HOSTS="127.0.0.1",
        # Unacknowledged tasks come back after this many seconds (an hour in production).
        CELERY_BROKER_VISIBILITY_TIMEOUT="5",
        # The killed worker's claim on the mail lapses after this (ten minutes in production).
        MAIL_CLAIM_LEASE_SECONDS="3",
    )
    try:
        first = start_worker(env, tmp_path / "first.log")
        with broker_at(private_redis.url):
            ticket = services.ticket_create(
                contract=contract_a,
                reported_by=customer_a_user,
                channel=Channel.WEB,
                a_number="018 12345",
                b_number="040 123 4567",
                fault_occurred_at=timezone.now() - datetime.timedelta(minutes=5),
                description="Killed mid-send",
            )
        assert smtp.arrived.wait(60), (tmp_path / "first.log").read_text()
        first.send_signal(signal.SIGKILL)  # the worker dies while the mail server holds the message
        first.wait(10)
        smtp.release.set()
        assert Notification.objects.get(ticket=ticket).sent_at is None

        second = start_worker(env, tmp_path / "second.log")
        try:
            gunicorn_server.wait_for(
                lambda: Notification.objects.get(ticket=ticket).sent_at is not None, "the redelivered task", 60
            )
        finally:
            second.terminate()
            second.wait(30)
    finally:
        controller.stop()
    assert len(smtp.received) == 1 and smtp.received[0]["Subject"].startswith(f"[{ticket.number}]")
    assert Notification.objects.get(ticket=ticket).attempts == 2  # the killed attempt counts; its mail never arrived
