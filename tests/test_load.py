"""Load without loss: concurrent fault reports for a minute to gunicorn on PostgreSQL. Every
accepted report is stored exactly once, ticket numbers are unique and gapless, nothing answers
5xx. (Throughput is measured in bench/, not asserted here.)"""

import datetime
import json
import os
import threading
import time
import uuid

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from tests import gunicorn_server
from tickets.models import Ticket

SECONDS = float(os.environ.get("LOAD_TEST_SECONDS", "60"))
CLIENTS = 8

pytestmark = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="concurrent writers need PostgreSQL",
)


def test_concurrent_fault_reports_are_each_stored_once(seeded, contract_a, contract_b, customer_a_user, staff_user):
    from tests.factories import CustomerUserFactory

    customer_b_user = CustomerUserFactory(customer=contract_b.customer, username="beta-load")
    reporters = [
        (Token.objects.create(user=customer_a_user).key, contract_a.pk, "018 12345"),
        (Token.objects.create(user=customer_b_user).key, contract_b.pk, "08-123 456 78"),
        (Token.objects.create(user=staff_user).key, contract_a.pk, "018 12345"),
    ]
    answers: list[tuple[int, str, bytes]] = []
    lock = threading.Lock()

    def client(index: int, base: str, until: float) -> None:
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

    with gunicorn_server.running(workers=2) as base:
        until = time.monotonic() + SECONDS
        threads = [threading.Thread(target=client, args=(index, base, until)) for index in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    failures = [(status, content[:200]) for status, _marker, content in answers if status != 201]
    assert failures == [], f"{len(failures)} of {len(answers)} reports not accepted: {failures[:5]}"
    accepted = {marker: json.loads(content)["number"] for status, marker, content in answers if status == 201}
    stored = dict(Ticket.objects.filter(description__startswith="load-").values_list("description", "number"))
    assert stored == accepted  # each accepted report stored once, with the number it was given
    for prefix in ("DST", "TSC"):
        numbers = sorted(int(n.rsplit("-", 1)[1]) for n in stored.values() if n.startswith(prefix))
        assert numbers == list(range(1, len(numbers) + 1)), f"{prefix} numbers have gaps or repeats"
    print(f"\n{len(answers)} reports in {SECONDS:.0f} s from {CLIENTS} clients: {len(answers) / SECONDS:.0f}/s")
