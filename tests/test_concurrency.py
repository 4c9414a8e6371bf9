"""Races that only a real database shows (PostgreSQL in CI)."""

import datetime
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from tests.factories import ContractFactory, CustomerFactory, ensure_seed_terms
from tickets import services
from tickets.models import Channel, Status, Ticket

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


def waiting_ticket(moment):
    ensure_seed_terms()
    customer = CustomerFactory()
    contract = ContractFactory(customer=customer)
    from tests.factories import CustomerUserFactory

    customer_user = CustomerUserFactory(customer=customer)
    ticket = services.ticket_create(
        contract=contract,
        reported_by=customer_user,
        channel=Channel.WEB,
        a_number="018 12345",
        b_number="040 123 4567",
        fault_occurred_at=moment - datetime.timedelta(hours=1),
        description="Samtal bryts.",
        received_at=moment,
        now=moment,
    )
    services.ticket_request_info(ticket=ticket, actor=customer_user, message="?", now=moment)
    return ticket, customer_user


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_a_reply_being_written_is_never_overtaken_by_the_closing_job():
    moment = datetime.datetime(2026, 10, 1, 13, 0, tzinfo=MARIEHAMN)
    ticket, customer_user = waiting_ticket(moment)
    after_deadline = moment + datetime.timedelta(hours=48, seconds=1)
    last_second = moment + datetime.timedelta(hours=48, seconds=-1)
    locked, release = threading.Event(), threading.Event()

    def customer_replies(_i: int) -> None:
        from django.db import transaction

        with transaction.atomic():
            services.ticket_reply(ticket=ticket, actor=customer_user, message="Svar i sista stund", at=last_second)
            locked.set()
            release.wait(30)

    replier = threading.Thread(target=lambda: run_at_once(1, customer_replies))
    replier.start()
    assert locked.wait(30)
    assert services.close_unanswered(now=after_deadline) == 0  # the reply holds the row: skipped
    release.set()
    replier.join(30)
    assert services.close_unanswered(now=after_deadline) == 0  # and then it is no longer waiting
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.parametrize("round_", range(5))
def test_the_closing_job_and_a_reply_racing_end_in_one_consistent_state(round_):
    """A reply that reached us a second before the deadline wins whoever takes the row first:
    the sweep skips the row, or closes the ticket and the reply opens it again (D §16.7)."""
    moment = datetime.datetime(2026, 10, 1, 13, 0, tzinfo=MARIEHAMN)
    ticket, customer_user = waiting_ticket(moment)
    after_deadline = moment + datetime.timedelta(hours=48, seconds=1)
    last_second = moment + datetime.timedelta(hours=48, seconds=-1)
    outcome = {}

    def race(i: int) -> None:
        if i == 0:
            outcome["closed"] = services.close_unanswered(now=after_deadline)
        else:
            services.ticket_reply(ticket=ticket, actor=customer_user, message="Svar", at=last_second)

    assert run_at_once(2, race) == []
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS and ticket.messages.filter(body="Svar").count() == 1
    reopened = ticket.events.filter(field="status", old_value="closed", note__startswith="answered-in-time ")
    assert reopened.count() == outcome["closed"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_workers_closing_at_once_close_each_ticket_once():
    moment = datetime.datetime(2026, 10, 1, 13, 0, tzinfo=MARIEHAMN)
    for _ in range(30):
        waiting_ticket(moment)
    after_deadline = moment + datetime.timedelta(hours=49)
    counts = []
    assert run_at_once(3, lambda i: counts.append(services.close_unanswered(now=after_deadline, batch=4))) == []
    assert sum(counts) == 30
    assert Ticket.objects.filter(status=Status.CLOSED).count() == 30
    from tickets.models import Notification

    assert Notification.objects.filter(kind="closed").count() == 30


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_an_outage_changed_while_its_month_is_recomputed_leaves_the_report_stale():
    """The recomputation holds the report's row; the change waits for it and marks the report
    again, so figures computed before the change are never taken as current."""
    import time

    from django.db import transaction

    from sla import reports
    from sla.models import MonthlyReport

    ensure_seed_terms()
    contract = ContractFactory(customer=CustomerFactory())
    now = datetime.datetime(2026, 11, 5, 12, 0, tzinfo=datetime.UTC)
    reports.store_month(2026, 10, now=now)
    MonthlyReport.objects.update(stale=True, stale_reason="first change")
    locked, marked = threading.Event(), threading.Event()

    def recompute(_i):
        with transaction.atomic():
            report = MonthlyReport.objects.select_for_update().get(contract=contract)
            locked.set()
            time.sleep(0.5)  # the figures are being computed from the outages as they were
            MonthlyReport.objects.filter(pk=report.pk).update(stale=False, stale_reason="")

    def change(_i):
        locked.wait(10)
        reports.mark_reports_stale(MonthlyReport.objects.filter(contract=contract), reason="second change")
        marked.set()

    errors = []
    threads = [threading.Thread(target=lambda f=f: _collect(errors, f)) for f in (recompute, change)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] and marked.is_set()
    report = MonthlyReport.objects.get(contract=contract)
    assert report.stale and report.stale_reason == "second change"


def _collect(errors, work):
    try:
        work(0)
    except BaseException as error:  # noqa: BLE001 - reported by the test
        errors.append(error)
    finally:
        connection.close()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_three_workers_send_each_customers_outage_update_once(monkeypatch, mailoutbox):
    from contracts.models import ContactPerson
    from sla import outage_mail
    from sla import services as sla_services

    ensure_seed_terms()
    monkeypatch.setattr(outage_mail, "dispatch", lambda ids: None)  # the workers below take them
    for n in range(12):
        customer = CustomerFactory()
        ContactPerson.objects.create(customer=customer, name="Kontakt", email=f"drift{n}@kund.example", is_primary=True)
        ContractFactory(customer=customer)
    outage = sla_services.outage_register(
        started_at=datetime.datetime.now(MARIEHAMN) - datetime.timedelta(hours=1),
        kind="unplanned",
        responsibility="supplier",
    )
    sla_services.outage_post_update(outage=outage, text="Calls fail; we are on it.", notify=True)
    counts = []
    assert run_at_once(3, lambda i: counts.append(outage_mail.send_pending())) == []
    assert sum(counts) == 12
    assert sorted(address for message in mailoutbox for address in message.to) == sorted(
        f"drift{n}@kund.example" for n in range(12)
    )
