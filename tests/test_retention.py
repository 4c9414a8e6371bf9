"""Retention: attachments, e-mails and phone numbers of long-closed tickets are removed; what the
desk needs for its figures stays."""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from tickets import attachments, inbound, references, retention, services
from tickets.models import Channel, InboundEmail, Message, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
NOW = datetime.datetime(2026, 11, 23, 3, 15, tzinfo=MARIEHAMN)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.RETENTION_MONTHS = 24


def closed_ticket(contract, user, staff, *, closed: datetime.datetime, message_id: str) -> Ticket:
    with time_machine.travel(closed - datetime.timedelta(days=2), tick=False):
        record = inbound.receive(
            b"From: anna@alfa.example\r\nSubject: Fel 040 123 4567\r\nMessage-ID: "
            + message_id.encode()
            + b"\r\n\r\nA-nummer: 018 12345\r\nB-nummer: 040 123 4567\r\nTidpunkt: "
            + (closed - datetime.timedelta(days=2, hours=1)).strftime("%Y-%m-%d %H:%M").encode()
            + b"\r\nRing mig p\xc3\xa5 +46 70 123 45 67.\r\n"
        )
        assert record.outcome == InboundEmail.Outcome.NEW_TICKET, record.note
        ticket = record.ticket
        checked = attachments.upload_problems(
            [SimpleUploadedFile("trace.log", b"INVITE sip:0401234567@pbx SIP/2.0\r\n")]
        )[0]
        attachments.store(ticket, checked, actor=user)
        references.reference_add(
            ticket=ticket, actor=user, url="https://share.example/anna-svensson/calls", name="Anna"
        )
        services.ticket_start(ticket=ticket, actor=staff)
        services.ticket_reply(ticket=ticket, actor=staff, message="Vi ringer upp 040-123 45 67 i dag kl. 14:00.")
    with time_machine.travel(closed, tick=False):
        services.ticket_close(ticket=ticket, actor=staff, close_reason="resolved")
    return Ticket.objects.get(pk=ticket.pk)


@pytest.fixture
def old_and_recent(customer_a, contract_a, customer_a_user, staff_user):
    customer_a.contacts.create(name="Anna", email="anna@alfa.example", is_primary=True)
    contract_a.signed_on, contract_a.delivered_on = datetime.date(2022, 1, 10), datetime.date(2022, 2, 1)
    contract_a.save()
    old = closed_ticket(
        contract_a,
        customer_a_user,
        staff_user,
        closed=NOW - datetime.timedelta(days=740),
        message_id="<old@alfa.example>",
    )
    recent = closed_ticket(
        contract_a,
        customer_a_user,
        staff_user,
        closed=NOW - datetime.timedelta(days=700),
        message_id="<recent@alfa.example>",
    )
    return old, recent


def test_a_ticket_closed_longer_than_the_period_loses_its_personal_data(
    old_and_recent, django_capture_on_commit_callbacks
):
    old, recent = old_and_recent
    file_name = old.attachments.get().file.name
    assert default_storage.exists(file_name)
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        call_command("apply_retention", stdout=out)
    assert out.getvalue().splitlines() == [
        "1 tickets anonymised, 1 attachments and 1 e-mails removed",
        "0 audit events removed",  # the audit log's own period (tests/test_audit.py)
    ]

    old.refresh_from_db()
    assert (old.a_number, old.b_number) == ("+358", "+358")
    assert old.anonymised_at == NOW and old.status == Status.CLOSED
    assert "12345" not in old.description and "123 4567" not in old.description and "+46 70" not in old.description
    assert "Tidpunkt: 2024-" in old.description  # dates are not phone numbers
    assert not old.attachments.exists() and not default_storage.exists(file_name)
    assert not old.attachment_references.exists()
    bodies = " ".join(Message.objects.filter(ticket=old).values_list("body", flat=True))
    assert "Vi ringer upp *** i dag kl. 14:00." in bodies
    history = " ".join(f"{e.old_value} {e.new_value}" for e in TicketEvent.objects.filter(ticket=old))
    assert "+3581812345" not in history and "+358401234567" not in history
    assert "anna-svensson" not in history and "1 links to files" in history
    assert TicketEvent.objects.filter(ticket=old, field="retention").count() == 1
    record = InboundEmail.objects.get(ticket=old)
    assert bytes(record.raw) == b"" and "040 123 4567" not in record.subject
    # What the figures need stays: number, times, category, deadlines.
    assert old.number and old.received_at and old.closed_at and old.service_start_due

    recent.refresh_from_db()
    assert recent.anonymised_at is None and recent.a_number == "+3581812345" and recent.attachments.count() == 1
    assert recent.attachment_references.count() == 1


def test_retention_runs_once_and_a_dry_run_changes_nothing(old_and_recent):
    old, _recent = old_and_recent
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("apply_retention", "--dry-run", stdout=out)
        assert out.getvalue().splitlines()[0] == "1 tickets closed before 2024-11-23 are due"
        assert Ticket.objects.get(pk=old.pk).anonymised_at is None
        assert retention.apply().tickets == 1
        assert retention.apply().tickets == 0
    with time_machine.travel(NOW + datetime.timedelta(days=40), tick=False):
        assert retention.apply().tickets == 1  # the other one's time has come


def test_open_tickets_are_never_touched_however_old(contract_a, customer_a_user):
    with time_machine.travel(NOW - datetime.timedelta(days=1000), tick=False):
        ticket = services.ticket_create(
            contract=contract_a,
            reported_by=customer_a_user,
            channel=Channel.WEB,
            a_number="018 12345",
            b_number="040 123 4567",
            fault_occurred_at=NOW - datetime.timedelta(days=1000, hours=1),
            description="Still open",
        )
    with time_machine.travel(NOW, tick=False):
        assert retention.apply().tickets == 0
    assert Ticket.objects.get(pk=ticket.pk).a_number == "+3581812345"


@pytest.mark.parametrize(
    ("now", "months", "expected"),
    [
        (datetime.datetime(2026, 11, 23, 3, 15), 24, datetime.datetime(2024, 11, 23, 3, 15)),
        (datetime.datetime(2026, 3, 31, 0, 0), 1, datetime.datetime(2026, 2, 28, 0, 0)),
        (datetime.datetime(2026, 1, 15, 12, 0), 13, datetime.datetime(2024, 12, 15, 12, 0)),
    ],
)
def test_the_cutoff_is_counted_in_calendar_months(now, months, expected):
    assert retention.cutoff(now, months) == expected


def test_numbers_in_text_are_masked_but_dates_and_ticket_numbers_stay():
    text = "Ärende DST-2026-000042: ring 018 12345 eller +46 8 123 456 78 före 2026-10-01 12:40."
    assert (
        retention.scrub(text, ["AX", "FI", "SE"]) == "Ärende DST-2026-000042: ring *** eller *** före 2026-10-01 12:40."
    )


def test_a_bad_period_is_refused():
    with pytest.raises(ValueError, match="at least one month"):
        retention.apply(months=0)
