"""Load without loss: concurrent fault reports to gunicorn, on PostgreSQL for a minute and on
the embedded SQLite (`make run`, a small operator) for a shorter while. Every accepted report
is stored exactly once, ticket numbers are unique and gapless, nothing answers 5xx.
(Throughput is measured in bench/, not asserted here.)"""

import datetime
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from tests import gunicorn_server
from tickets.models import Ticket

SECONDS = float(os.environ.get("LOAD_TEST_SECONDS", "60"))
SQLITE_SECONDS = min(SECONDS, 20)
CLIENTS = 8


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="the suite's database is not PostgreSQL",
)
def test_concurrent_fault_reports_are_each_stored_once(seeded, contract_a, contract_b, customer_a_user, staff_user):
    from tests.factories import CustomerUserFactory

    customer_b_user = CustomerUserFactory(customer=contract_b.customer, username="beta-load")
    reporters = [
        (Token.objects.create(user=customer_a_user).key, contract_a.pk, "018 12345"),
        (Token.objects.create(user=customer_b_user).key, contract_b.pk, "08-123 456 78"),
        (Token.objects.create(user=staff_user).key, contract_a.pk, "018 12345"),
    ]
    with gunicorn_server.running(workers=2) as base:
        answers = send_reports(base, reporters, SECONDS)

    stored = dict(Ticket.objects.filter(description__startswith="load-").values_list("description", "number"))
    assert_each_stored_once(answers, stored)
    print(f"\n{len(answers)} reports in {SECONDS:.0f} s from {CLIENTS} clients: {len(answers) / SECONDS:.0f}/s")


def test_concurrent_fault_reports_on_sqlite_are_each_stored_once(tmp_path):
    """Whatever the suite runs on: gunicorn with 2 workers on an SQLite file of the test's own,
    where two writers at once used to fail instead of waiting for each other."""
    path = tmp_path / "desk.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{path}", "ALLOWED_HOSTS": "127.0.0.1", "CELERY_BROKER_URL": "memory://"}
    process_env = gunicorn_server.production_env(**env)
    root = gunicorn_server.ROOT
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=root,
        env=process_env,
        check=True,
        capture_output=True,
    )
    seed = subprocess.run(
        [sys.executable, "-m", "tests.load_seed"], cwd=root, env=process_env, check=True, capture_output=True, text=True
    )
    reporters = [tuple(reporter) for reporter in json.loads(seed.stdout.splitlines()[-1])]

    with gunicorn_server.running(workers=2, **env) as base:
        answers = send_reports(base, reporters, SQLITE_SECONDS)

    with sqlite3.connect(path) as database:
        stored = dict(
            database.execute("SELECT description, number FROM tickets_ticket WHERE description LIKE 'load-%'")
        )
    assert_each_stored_once(answers, stored)
    print(f"\n{len(answers)} reports in {SQLITE_SECONDS:.0f} s from {CLIENTS} clients on SQLite")


def send_reports(base: str, reporters: list[tuple[str, int, str]], seconds: float) -> list[tuple[int, str, bytes]]:
    """CLIENTS threads each sending fault reports for `seconds`: (status, marker, body) of each."""
    answers: list[tuple[int, str, bytes]] = []
    lock = threading.Lock()

    def client(index: int, until: float) -> None:
        token, contract, a_number = reporters[index % len(reporters)]
        while time.monotonic() < until:
            marker = f"load-{uuid.uuid4()}"
            body = json.dumps(
                {
                    "contract": contract,
                    "a_number": a_number,
                    "b_number": "040 123 4567",
                    "fault_occurred_at": (
                        datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
                    ).isoformat(),
                    "description": marker,
                }
            ).encode()
            try:
                status, _headers, content = gunicorn_server.fetch(f"{base}/api/tickets/", token=token, body=body)
            except OSError as error:  # a refused or dropped connection is a failure too
                status, content = 0, str(error).encode()
            with lock:
                answers.append((status, marker, content))

    until = time.monotonic() + seconds
    threads = [threading.Thread(target=client, args=(index, until)) for index in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def assert_each_stored_once(answers: list[tuple[int, str, bytes]], stored: dict[str, str]) -> None:
    failures = [(status, content[:200]) for status, _marker, content in answers if status != 201]
    assert failures == [], f"{len(failures)} of {len(answers)} reports not accepted: {failures[:5]}"
    accepted = {marker: json.loads(content)["number"] for status, marker, content in answers if status == 201}
    assert stored == accepted  # each accepted report stored once, with the number it was given
    for prefix in ("DST", "TSC"):
        numbers = sorted(int(n.rsplit("-", 1)[1]) for n in stored.values() if n.startswith(prefix))
        assert numbers == list(range(1, len(numbers) + 1)), f"{prefix} numbers have gaps or repeats"
