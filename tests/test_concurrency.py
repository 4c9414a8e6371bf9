"""Races that only a real database shows (PostgreSQL in CI)."""

import datetime
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from tests.factories import ContractFactory, CustomerFactory, ensure_seed_terms
from tickets import services
from tickets.models import Channel, Ticket

pytestmark = pytest.mark.django_db(transaction=True)
MARIEHAMN = ZoneInfo("Europe/Mariehamn")


def run_at_once(count: int, work) -> list[BaseException]:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def runner(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_concurrent_reports_get_unique_consecutive_numbers():
    ensure_seed_terms()
    contracts = [ContractFactory(customer=CustomerFactory()) for _ in range(4)]
    moment = datetime.datetime(2026, 10, 1, 13, 0, tzinfo=MARIEHAMN)

    def report(i: int) -> None:
        services.ticket_create(
            contract=contracts[i % 4],
            channel=Channel.API,
            a_number="018 12345",
            b_number="040 123 4567",
            fault_occurred_at=moment - datetime.timedelta(minutes=5),
            description=f"Report {i}",
            received_at=moment,
            now=moment,
        )

    assert run_at_once(12, report) == []
    numbers = sorted(Ticket.objects.values_list("number", flat=True))
    assert numbers == [f"DST-2026-{n:06d}" for n in range(1, 13)]
