"""Polling a real IMAP mailbox (Dovecot on loopback, over TLS): mail becomes tickets and replies,
is marked or moved only once it is stored, and nothing is taken twice or lost."""

import datetime
import io
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import OperationalError

from tests import imap_server
from tickets import inbound, mailbox, notifications, services
from tickets.models import InboundEmail, Notification, Status, Ticket

if not os.path.exists(imap_server.DOVECOT):
    if os.environ.get("REQUIRE_IMAP"):
        raise RuntimeError(f"REQUIRE_IMAP is set but {imap_server.DOVECOT} is missing")
    pytest.skip("no Dovecot (apt-get install dovecot-imapd)", allow_module_level=True)

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
NOW = datetime.datetime(2026, 10, 1, 13, 0, tzinfo=MARIEHAMN)
Outcome = InboundEmail.Outcome


@pytest.fixture
def mailbox_settings(imap_settings):
    with time_machine.travel(NOW, tick=False):
        yield imap_settings


@pytest.fixture
def contact(customer_a, contract_a):
    return customer_a.contacts.create(name="Anna Eriksson", email="anna@alfa.example", is_primary=True)


def mail_from(
    body: str, *, subject="Fel på växeln", sender="anna@alfa.example", message_id="<m1@alfa.example>", extra: str = ""
) -> bytes:
    return (
        f"From: Anna Eriksson <{sender}>\r\nTo: support@desk.example\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\n{extra}MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"{body}\r\n"
    ).encode()


def flags(imap, box="INBOX") -> list[set[str]]:
    return [found for found, _raw in imap.messages(box)]


def test_a_mail_in_the_mailbox_becomes_a_ticket_and_the_number_goes_back(imap, mailbox_settings, contact):
    arrived = NOW - datetime.timedelta(minutes=5)
    imap.deliver(
        mail_from("Samtal bryts.\nA-nummer: 018 12345\nB-nummer: 040 123 4567\nTidpunkt: 2026-10-01 12:40"),
        arrived=arrived,
    )
    result = mailbox.poll()
    assert (result.taken, result.left, dict(result.outcomes)) == (1, 0, {Outcome.NEW_TICKET: 1})
    ticket = Ticket.objects.get()
    # The clock starts when the mail arrived at the mail server, not when it was fetched.
    assert ticket.received_at == arrived and ticket.channel == "email" and not ticket.details_missing
    assert ticket.service_start_due == datetime.datetime(2026, 10, 1, 16, 55, tzinfo=MARIEHAMN)
    assert flags(imap) == [{r"\Seen"}]
    notifications.send(Notification.objects.get(ticket=ticket, kind="acknowledgement").pk)
    assert mail.outbox[0].to == ["anna@alfa.example"] and mail.outbox[0].subject.startswith(f"[{ticket.number}]")

    again = mailbox.poll()
    assert (again.taken, Ticket.objects.count(), InboundEmail.objects.count()) == (0, 1, 1)


def test_a_reply_from_the_mailbox_resumes_the_waiting_ticket(imap, mailbox_settings, contact, staff_user):
    imap.deliver(mail_from("Samtal bryts."))
    mailbox.poll()
    ticket = Ticket.objects.get()
    services.ticket_start(ticket=ticket, actor=staff_user)
    services.ticket_request_info(ticket=ticket, actor=staff_user, message="Vilket A-nummer?")
    imap.deliver(
        mail_from("A-nummer: 018 12345", subject=f"SV: [{ticket.number}] Fråga", message_id="<m2@alfa.example>")
    )
    result = mailbox.poll()
    assert dict(result.outcomes) == {Outcome.REPLY: 1}
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.messages.filter(internal=False).last().body == "A-nummer: 018 12345"
    assert Ticket.objects.count() == 1


def test_taken_mail_is_moved_to_the_processed_mailbox(imap, mailbox_settings, contact):
    mailbox_settings.IMAP_PROCESSED_MAILBOX = "Behandlade ärenden"
    imap.deliver(mail_from("Samtal bryts."))
    imap.deliver(mail_from("Inget fungerar.", message_id="<m2@alfa.example>"))
    assert mailbox.poll().taken == 2
    assert imap.messages("INBOX") == []
    assert len(imap.messages("Behandlade ärenden")) == 2
    assert Ticket.objects.count() == 2


def test_loops_duplicates_and_strangers_in_one_poll(
    imap, mailbox_settings, contact, django_capture_on_commit_callbacks
):
    imap.deliver(mail_from("Samtal bryts."))
    imap.deliver(mail_from("Samtal bryts."))  # the same mail twice (sent to two of our addresses)
    imap.deliver(
        mail_from("Jag är på semester.", message_id="<ooo@alfa.example>", extra="Auto-Submitted: auto-replied\r\n")
    )
    imap.deliver(
        mail_from("Hej, vi vill bli kunder.", sender="someone@elsewhere.example", message_id="<x@elsewhere.example>")
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = mailbox.poll()
    assert result.taken == 4
    assert dict(result.outcomes) == {Outcome.NEW_TICKET: 2, Outcome.IGNORED: 1, Outcome.QUARANTINED: 1}
    assert Ticket.objects.count() == 1 and InboundEmail.objects.count() == 3
    assert flags(imap) == [{r"\Seen"}] * 4
    # The stranger got one polite answer; the auto-reply got none.
    assert [m.to for m in mail.outbox] == [["someone@elsewhere.example"]]
    assert mail.outbox[0].extra_headers["Auto-Submitted"] == "auto-replied"


def test_mail_the_database_could_not_take_stays_for_the_next_poll(imap, mailbox_settings, contact, monkeypatch):
    for number in range(3):
        imap.deliver(mail_from(f"Fel {number}", message_id=f"<m{number}@alfa.example>"))
    real_receive, calls = inbound.receive, []

    def database_goes_away_after_one(raw, **kwargs):
        calls.append(raw)
        if len(calls) > 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_receive(raw, **kwargs)

    monkeypatch.setattr(inbound, "receive", database_goes_away_after_one)
    result = mailbox.poll()
    assert (result.taken, result.left) == (1, 2)
    assert flags(imap) == [{r"\Seen"}, set(), set()]

    monkeypatch.setattr(inbound, "receive", real_receive)
    result = mailbox.poll()
    assert (result.taken, result.left) == (2, 0)
    assert sorted(Ticket.objects.values_list("description", flat=True)) == [
        "Fel på växeln\n\nFel 0",
        "Fel på växeln\n\nFel 1",
        "Fel på växeln\n\nFel 2",
    ]


def test_a_mail_that_breaks_the_pipeline_is_kept_for_staff_and_not_fetched_again(
    imap, mailbox_settings, contact, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("numbering service down")

    monkeypatch.setattr(services, "ticket_create", broken)
    imap.deliver(mail_from("Samtal bryts."))
    assert dict(mailbox.poll().outcomes) == {Outcome.FAILED: 1}
    record = InboundEmail.objects.get()
    assert "numbering service down" in record.note and bytes(record.raw).endswith(b"Samtal bryts.\r\n")
    assert flags(imap) == [{r"\Seen"}] and mailbox.poll().taken == 0


def test_a_backlog_is_taken_in_batches_oldest_first(imap, mailbox_settings, contact):
    for number in range(5):
        imap.deliver(
            mail_from(f"Fel {number}", message_id=f"<m{number}@alfa.example>"),
            arrived=NOW - datetime.timedelta(hours=5 - number),
        )
    first = mailbox.poll(batch=2)
    assert (first.taken, first.left) == (2, 3)
    assert list(Ticket.objects.order_by("number").values_list("description", flat=True)) == [
        "Fel på växeln\n\nFel 0",
        "Fel på växeln\n\nFel 1",
    ]
    second = mailbox.poll(batch=10)
    assert (second.taken, second.left) == (3, 0)
    assert Ticket.objects.count() == 5


def test_starttls_on_the_plain_port_works_too(imap, mailbox_settings, contact):
    mailbox_settings.IMAP_TLS, mailbox_settings.IMAP_PORT = "starttls", imap.starttls_port
    imap.deliver(mail_from("Samtal bryts."))
    assert mailbox.poll().taken == 1


def test_a_wrong_password_says_so_and_changes_nothing(imap, mailbox_settings, contact):
    mailbox_settings.IMAP_PASSWORD = "wrong"
    imap.deliver(mail_from("Samtal bryts."))
    with pytest.raises(mailbox.MailboxError, match="refused the sign-in as 'desk'"):
        mailbox.poll()
    assert flags(imap) == [set()] and not InboundEmail.objects.exists()


def test_a_server_certificate_that_is_not_trusted_is_refused(imap, mailbox_settings, contact):
    mailbox_settings.IMAP_CA_FILE = None  # the self-signed certificate is not in the system store
    imap.deliver(mail_from("Samtal bryts."))
    with pytest.raises(mailbox.MailboxError, match="TLS with the IMAP server"):
        mailbox.poll()
    assert flags(imap) == [set()] and not InboundEmail.objects.exists()


def test_a_missing_mailbox_is_named(imap, mailbox_settings):
    mailbox_settings.IMAP_MAILBOX = "Felanmälningar"
    with pytest.raises(mailbox.MailboxError, match="opening mailbox 'Felanmälningar'"):
        mailbox.poll()


def test_the_command_and_the_beat_task_poll_the_same_way(imap, mailbox_settings, contact):
    from tickets import tasks

    imap.deliver(mail_from("Samtal bryts."))
    out = io.StringIO()
    call_command("poll_mailbox", stdout=out)
    assert out.getvalue().strip() == "desk@127.0.0.1/INBOX: taken 1 (new_ticket: 1), left 0"
    imap.deliver(mail_from("Ett till fel.", message_id="<m2@alfa.example>"))
    assert tasks.poll_mailbox() == "taken 1 (new_ticket: 1), left 0"
    mailbox_settings.IMAP_PASSWORD = "wrong"
    with pytest.raises(CommandError, match="refused the sign-in"):
        call_command("poll_mailbox")


def settings_in_subprocess(**env) -> subprocess.CompletedProcess:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; django.setup();"
        "from django.conf import settings; entry = settings.CELERY_BEAT_SCHEDULE.get('poll-mailbox');"
        "print(entry and (entry['task'], entry['schedule']), settings.IMAP_PORT)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "DEBUG": "1", **env},
    )


def test_the_beat_polls_only_when_a_mailbox_is_configured_and_never_in_clear_text():
    assert settings_in_subprocess().stdout.split() == ["None", "993"]
    configured = settings_in_subprocess(IMAP_HOST="imap.example", IMAP_POLL_SECONDS="30", IMAP_TLS="starttls")
    assert configured.stdout.strip() == "('tickets.tasks.poll_mailbox', 30.0) 143"
    refused = settings_in_subprocess(IMAP_HOST="imap.example", IMAP_TLS="none")
    assert refused.returncode != 0 and "IMAP_TLS must be" in refused.stderr
