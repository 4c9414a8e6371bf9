"""A real Celery worker on the real Redis closes a ticket whose reply deadline has passed."""

import contextlib
import datetime
import os
import time
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.utils import timezone

from tests.celery_helpers import broker_at, start_worker
from tests.factories import ContractFactory, CustomerFactory, CustomerUserFactory, ensure_seed_terms
from tickets import services
from tickets.models import Channel, Notification, Status

pytestmark = pytest.mark.django_db(transaction=True)


def redis_test_url() -> str:
    """The tests' own Redis database (15), so nothing is mixed with a running desk's queue."""
    base = os.environ["TEST_REDIS_URL"].rsplit("/", 1)[0]
    return f"{base}/15"


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture
def redis_broker():
    url = redis_test_url()
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {url}")
    client.flushdb()
    yield url
    client.flushdb()


@pytest.fixture
def worker(redis_broker, tmp_path):
    with worker_process(redis_broker, tmp_path) as log:
        yield log


@contextlib.contextmanager
def worker_process(redis_broker: str, tmp_path: Path):
    """A Celery worker on `redis_broker` and the test database, with its log file."""
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": redis_broker,
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    process = start_worker(env, log)
    try:
        yield log
    finally:
        process.terminate()
        process.wait(30)


def wait_for(condition, log, seconds=30):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


def test_the_worker_closes_a_ticket_left_unanswered(worker, redis_broker):
    from tickets.tasks import close_unanswered_tickets

    ensure_seed_terms()
    customer = CustomerFactory()
    customer.contacts.create(name="Anna", email="anna@kund.example", is_primary=True)
    contract = ContractFactory(customer=customer)
    reporter = CustomerUserFactory(customer=customer)
    asked = timezone.now() - datetime.timedelta(hours=49)
    with broker_at(redis_broker):  # the acknowledgement and the question go out first, in order
        ticket = services.ticket_create(
            contract=contract,
            reported_by=reporter,
            channel=Channel.WEB,
            a_number="018 12345",
            b_number="040 123 4567",
            fault_occurred_at=asked - datetime.timedelta(hours=2),
            description="Samtal bryts.",
            received_at=asked - datetime.timedelta(hours=1),
            now=asked,
        )
        services.ticket_request_info(ticket=ticket, actor=reporter, message="Vilken modell?", now=asked)
        close_unanswered_tickets.delay()

    def closed():
        ticket.refresh_from_db()
        return ticket.status == Status.CLOSED

    wait_for(closed, worker)
    assert ticket.close_reason == "no_customer_feedback"
    closing = Notification.objects.get(ticket=ticket, kind="closed")
    wait_for(lambda: Notification.objects.get(pk=closing.pk).sent_at is not None, worker)
    assert not Notification.objects.filter(ticket=ticket, sent_at__isnull=True).exists()
    assert ticket.number in worker.read_text()  # the console mail backend printed the closing
