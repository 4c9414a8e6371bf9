"""Fault reports and replies by e-mail: real-world shaped messages through the one pipeline."""

import datetime
import io
import sys
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from tickets import inbound, mailparse, notifications, services
from tickets.models import InboundEmail, Notification, Status, Ticket

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
NOW = datetime.datetime(2026, 10, 1, 13, 0, tzinfo=MARIEHAMN)
Outcome = InboundEmail.Outcome


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def contact(customer_a, contract_a):
    return customer_a.contacts.create(name="Anna Eriksson", email="anna@alfa.example", is_primary=True)


def plain(
    body: str,
    *,
    subject="Fel på växeln",
    sender="Anna Eriksson <anna@alfa.example>",
    message_id="<m1@alfa.example>",
    extra: str = "",
) -> bytes:
    return (
        f"From: {sender}\r\nTo: support@desk.example\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\nDate: Thu, 01 Oct 2026 12:55:00 +0300\r\n{extra}"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"{body}\r\n"
    ).encode()


def test_a_mail_from_a_contact_opens_a_fault_report_with_its_numbers(contact, contract_a):
    record = inbound.receive(
        plain("Samtal bryts.\nA-nummer: 018 12345\nB-nummer: 040 123 4567\nTidpunkt: 2026-10-01 12:40\n")
    )
    assert record.outcome == Outcome.NEW_TICKET
    ticket = record.ticket
    assert (ticket.channel, ticket.a_number, ticket.b_number) == ("email", "+3581812345", "+358401234567")
    assert ticket.fault_occurred_at == datetime.datetime(2026, 10, 1, 12, 40, tzinfo=MARIEHAMN)
    assert ticket.received_at == NOW and not ticket.details_missing
    assert ticket.description.startswith("Fel på växeln")
    assert Notification.objects.filter(ticket=ticket, kind="acknowledgement").exists()


def test_english_field_names_are_read_too(contact):
    record = inbound.receive(
        plain("A-number: 018 12345\nB-number: +46 70 123 45 67\nTime: 2026-10-01 12:40\nCalls drop.")
    )
    assert record.ticket.b_number == "+46701234567" and not record.ticket.details_missing


def test_missing_details_open_the_ticket_and_the_acknowledgement_asks_for_them(contact):
    record = inbound.receive(plain("Ingen kan ringa in sedan i morse."))
    ticket = record.ticket
    assert ticket.details_missing and ticket.a_number == "" and ticket.fault_occurred_at is None
    notifications.send(Notification.objects.get(ticket=ticket).pk)
    assert "D §16.9" in mail.outbox[0].body and "A-nummer: 018 12345" in mail.outbox[0].body
    assert mail.outbox[0].subject.startswith(f"[{ticket.number}]")


def test_latin_1_mail_keeps_its_swedish_letters(contact):
    raw = (
        b"From: anna@alfa.example\r\nSubject: =?iso-8859-1?q?V=E4xeln_=E4r_nere?=\r\nMessage-ID: <latin@alfa.example>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"H=E4lsningar fr=E5n =D6sterg=E5rd: v=E4xeln svarar inte.\r\n"
    )
    ticket = inbound.receive(raw).ticket
    assert ticket.description == "Växeln är nere\n\nHälsningar från Östergård: växeln svarar inte."


def test_outlook_html_only_mail_becomes_plain_text(contact):
    raw = (
        b"From: anna@alfa.example\r\nSubject: Fel\r\nMessage-ID: <html@alfa.example>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=windows-1252\r\n\r\n"
        b"<html><head><style>p{color:red}</style></head><body><p>Hej,</p><p>V\xe4xeln &amp; k\xf6erna<br>fungerar inte.</p>"
        b"<script>alert(1)</script></body></html>\r\n"
    )
    description = inbound.receive(raw).ticket.description
    assert "Växeln & köerna\nfungerar inte." in description
    assert "<" not in description and "alert" not in description and "color" not in description


def test_a_reply_with_the_ticket_number_resumes_the_waiting_ticket(contact, staff_user):
    ticket = inbound.receive(plain("Ingen kan ringa in.")).ticket
    services.ticket_request_info(ticket=ticket, actor=staff_user, message="Vilken telefon?")
    record = inbound.receive(
        plain(
            "> Vilken telefon?\n\nYealink T54W.",
            subject=f"SV: [{ticket.number}] Vi behöver mer information",
            message_id="<m2@alfa.example>",
        )
    )
    assert record.outcome == Outcome.REPLY and record.ticket == ticket
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS and Ticket.objects.count() == 1
    assert ticket.messages.filter(channel="email", body__contains="Yealink").exists()


def test_a_reply_is_threaded_by_in_reply_to_even_without_the_number(contact):
    ticket = inbound.receive(plain("Ingen kan ringa in.")).ticket
    acknowledgement = Notification.objects.get(ticket=ticket)
    notifications.send(acknowledgement.pk)
    acknowledgement.refresh_from_db()
    assert mail.outbox[0].extra_headers["Message-ID"] == acknowledgement.message_id
    record = inbound.receive(
        plain(
            "Tack!",
            subject="Re: your mail",
            message_id="<m3@alfa.example>",
            extra=f"In-Reply-To: {acknowledgement.message_id}\r\n",
        )
    )
    assert record.outcome == Outcome.REPLY and record.ticket == ticket


def test_a_subject_with_two_numbers_threads_to_the_senders_own_ticket(contact, customer_b, contract_b, staff_user):
    customer_b.contacts.create(name="Bertil Berg", email="bertil@beta.example", is_primary=True)
    theirs = inbound.receive(
        plain("Växeln svarar inte.", sender="Bertil Berg <bertil@beta.example>", message_id="<b1@beta.example>")
    ).ticket
    own = inbound.receive(plain("Ingen kan ringa in.", message_id="<m2@alfa.example>")).ticket
    services.ticket_request_info(ticket=own, actor=staff_user, message="Vilken telefon?")
    record = inbound.receive(
        plain(
            "Samma fel som hos er andra kund? Yealink T54W.",
            subject=f"Re: [{theirs.number}] and [{own.number}] Vi behöver mer information",
            message_id="<m3@alfa.example>",
        )
    )
    assert record.outcome == Outcome.REPLY and record.ticket == own
    own.refresh_from_db()
    assert own.status == Status.IN_PROGRESS and own.messages.filter(body__contains="Yealink").exists()
    assert not theirs.messages.filter(body__contains="Yealink").exists()


def test_a_subject_with_only_another_customers_numbers_is_a_new_report(contact, customer_b, contract_b):
    customer_b.contacts.create(name="Bertil Berg", email="bertil@beta.example", is_primary=True)
    theirs = inbound.receive(
        plain("Växeln svarar inte.", sender="Bertil Berg <bertil@beta.example>", message_id="<b1@beta.example>")
    ).ticket
    record = inbound.receive(
        plain(
            "Ingen kan ringa in.",
            subject=f"Fwd: [{theirs.number}] and [{theirs.number[:-1]}9]",
            message_id="<m2@alfa.example>",
        )
    )
    assert record.outcome == Outcome.NEW_TICKET and record.ticket.customer == contact.customer
    assert not theirs.messages.exists() and Ticket.objects.filter(customer=customer_b).count() == 1


def test_a_forwarded_report_opens_a_ticket_for_the_forwarding_contact(contact):
    body = "Se nedan.\n\n---------- Forwarded message ---------\nFrom: Kalle <kalle@example.org>\nA-nummer: 018 12345\nB-nummer: 040 123 4567\nTidpunkt: 2026-10-01 11:00\nSamtalen bryts."
    record = inbound.receive(plain(body, subject="Fwd: Samtal bryts"))
    assert record.outcome == Outcome.NEW_TICKET and record.ticket.a_number == "+3581812345"


@pytest.mark.parametrize(
    "headers",
    [
        "Auto-Submitted: auto-replied\r\n",
        "X-Autoreply: yes\r\n",
        "X-Autorespond: Out of office\r\n",
        "Precedence: bulk\r\n",
        "Precedence: auto_reply\r\n",
        "Return-Path: <>\r\n",
        "List-Id: <staff.alfa.example>\r\n",
    ],
)
def test_automatic_mail_never_opens_a_ticket_or_gets_an_answer(contact, headers):
    record = inbound.receive(plain("Jag är på semester till 12 oktober.", subject="Frånvaro", extra=headers))
    assert record.outcome == Outcome.IGNORED
    assert not Ticket.objects.exists() and mail.outbox == []


def test_an_auto_reply_to_a_resolved_ticket_does_not_reopen_it(contact, staff_user):
    ticket = inbound.receive(
        plain("Samtal bryts.\nA-nummer: 018 12345\nB-nummer: 040 123 4567\nTidpunkt: 2026-10-01 12:40")
    ).ticket
    services.ticket_classify(ticket=ticket, actor=staff_user, classification="fault")
    services.ticket_resolve(ticket=ticket, actor=staff_user, message="Löst.")
    record = inbound.receive(
        plain(
            "Jag är på semester.",
            subject=f"Autosvar: Re: [{ticket.number}]",
            message_id="<ooo@alfa.example>",
            extra="Auto-Submitted: auto-replied\r\n",
        )
    )
    ticket.refresh_from_db()
    assert record.outcome == Outcome.IGNORED and ticket.status == Status.RESOLVED


def test_a_bounce_is_ignored(contact):
    raw = (
        b"From: MAILER-DAEMON@mx.alfa.example\r\nSubject: Undelivered Mail\r\nMessage-ID: <bounce@mx>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n--b--\r\n"
    )
    assert inbound.receive(raw).outcome == Outcome.IGNORED and not Ticket.objects.exists()


def test_an_unknown_sender_is_kept_for_staff_and_answered_politely(contract_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record = inbound.receive(plain("Hej, vår växel fungerar inte", sender="stranger@elsewhere.example"))
    assert record.outcome == Outcome.QUARANTINED and not Ticket.objects.exists()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["stranger@elsewhere.example"]
    assert mail.outbox[0].extra_headers["Auto-Submitted"] == "auto-replied"


def test_the_same_message_id_is_taken_once(contact):
    first = inbound.receive(plain("Samtal bryts."))
    second = inbound.receive(plain("Samtal bryts."))
    assert first.pk == second.pk and Ticket.objects.count() == 1


def test_a_reply_to_a_closed_ticket_is_kept_never_a_new_ticket(contact, staff_user):
    ticket = inbound.receive(plain("Samtal bryts.")).ticket
    services.ticket_close(ticket=ticket, actor=staff_user, close_reason="resolved")
    record = inbound.receive(plain("Det hände igen", subject=f"Re: [{ticket.number}]", message_id="<m9@alfa.example>"))
    assert record.outcome == Outcome.UNMATCHED and record.ticket == ticket
    assert Ticket.objects.count() == 1


def test_attachments_come_with_the_mail(contact):
    raw = (
        b"From: anna@alfa.example\r\nSubject: Logg\r\nMessage-ID: <att@alfa.example>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSe loggen.\r\n"
        b"--x\r\nContent-Type: text/plain; name=sip.log\r\nContent-Disposition: attachment; filename=sip.log\r\n\r\n"
        b"INVITE sip:100@pbx SIP/2.0\r\n--x--\r\n"
    )
    ticket = inbound.receive(raw).ticket
    assert [a.filename for a in ticket.attachments.all()] == ["sip.log"]


def test_the_mta_pipe_command_reads_standard_input(contact, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(plain("Samtal bryts."))))
    out = io.StringIO()
    call_command("receive_email", stdout=out)
    assert out.getvalue().strip() == "new_ticket DST-2026-000001"


def test_staff_turn_a_kept_mail_into_a_ticket_with_its_arrival_time(client, staff_user, contract_a):
    record = inbound.receive(plain("Vår växel fungerar inte\nA-nummer: 018 12345", sender="newcomer@alfa.example"))
    client.force_login(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/desk/inbox/").content.decode()
    assert "newcomer@alfa.example" in page and "Vår växel fungerar inte" in page
    with time_machine.travel(NOW + datetime.timedelta(days=1), tick=False):
        response = client.post("/desk/inbox/", {"email": record.pk, "contract": contract_a.pk})
    assert response.status_code == 302
    record.refresh_from_db()
    ticket = record.ticket
    assert record.outcome == Outcome.NEW_TICKET and record.handled_by == staff_user
    assert ticket.received_at == NOW and ticket.a_number == "+3581812345" and ticket.details_missing
    assert "newcomer@alfa.example" not in client.get("/desk/inbox/").content.decode()


def test_mislabelled_and_unknown_charsets_still_read_as_written(contact):
    mislabelled = (
        b"From: anna@alfa.example\r\nSubject: Fel\r\nMessage-ID: <ascii@alfa.example>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"V\xe4xeln i G\xf6teborg svarar inte.\r\n"
    )
    assert inbound.receive(mislabelled).ticket.description.endswith("Växeln i Göteborg svarar inte.")
    unknown = (
        b"From: anna@alfa.example\r\nSubject: Fel\r\nMessage-ID: <bogus@alfa.example>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=x-mac-nordic\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"K\xc3\xb6n \xc3\xa4r full.\r\n"
    )
    assert inbound.receive(unknown).ticket.description.endswith("Kön är full.")


def test_a_refused_attachment_costs_neither_the_report_nor_the_other_files(
    client, contact, staff_user, customer_a_user
):
    raw = (
        b"From: anna@alfa.example\r\nSubject: Loggar\r\nMessage-ID: <exe@alfa.example>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSe bifogat.\r\n"
        b"--x\r\nContent-Type: text/plain; name=sip.log\r\nContent-Disposition: attachment; filename=sip.log\r\n\r\n"
        b"INVITE sip:100@pbx SIP/2.0\r\n"
        b"--x\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=tool.exe\r\n\r\n"
        b"MZ\x90\x00\x03\x00\x00\x00\r\n--x--\r\n"
    )
    record = inbound.receive(raw)
    ticket = record.ticket
    assert record.outcome == Outcome.NEW_TICKET
    assert [a.filename for a in ticket.attachments.all()] == ["sip.log"]
    note = ticket.messages.get(internal=True)
    assert "tool.exe är inte en filtyp vi tar emot" in note.body and f"/desk/inbox/{record.pk}/raw/" in note.body
    # The customer does not see the staff note; staff download the whole mail as received.
    client.force_login(customer_a_user)
    assert "tool.exe" not in client.get(f"/portal/tickets/{ticket.number}/").content.decode()
    assert client.get(f"/desk/inbox/{record.pk}/raw/").status_code == 302
    client.force_login(staff_user)
    download = client.get(f"/desk/inbox/{record.pk}/raw/")
    assert download["Content-Type"] == "message/rfc822" and download.content == raw


def test_a_mail_that_cannot_be_read_is_kept_for_staff(contact, monkeypatch, client, staff_user):
    def unreadable(raw, **kwargs):
        raise ValueError("header folding gone wrong")

    monkeypatch.setattr(inbound, "parse", unreadable)
    monkeypatch.setattr(mailparse, "parse", unreadable)
    record = inbound.receive(b"From: anna@alfa.example\r\n\r\n\xff\xfe broken")
    assert record.outcome == Outcome.FAILED and bytes(record.raw).endswith(b"broken")
    assert inbound.receive(b"From: anna@alfa.example\r\n\r\n\xff\xfe broken").pk == record.pk
    client.force_login(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "(this e-mail could not be read)" in client.get("/desk/inbox/").content.decode()


def test_a_mail_that_breaks_while_being_placed_is_kept_whole(contact, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("numbering service down")

    monkeypatch.setattr(services, "ticket_create", broken)
    record = inbound.receive(plain("Samtal bryts."))
    assert record.outcome == Outcome.FAILED and "numbering service down" in record.note
    assert record.sender == "anna@alfa.example" and not Ticket.objects.exists()


def test_an_overlong_message_id_is_still_taken_once(contact):
    long_id = "<" + "x" * 400 + "@alfa.example>"
    first = inbound.receive(plain("Samtal bryts.", message_id=long_id))
    assert first.outcome == Outcome.NEW_TICKET and len(first.message_id) < 255
    assert inbound.receive(plain("Samtal bryts.", message_id=long_id)).pk == first.pk


def test_the_mta_pipe_asks_to_deliver_again_when_the_database_is_away(contact, monkeypatch):
    from django.db import OperationalError

    def away(raw, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(inbound, "receive", away)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(plain("Samtal bryts."))))
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("receive_email", stderr=err)
    assert exit_.value.code == 75 and "deliver it again later" in err.getvalue()


def test_staff_set_aside_spam_which_stays_stored(client, staff_user, contract_a):
    record = inbound.receive(plain("Köp billiga klockor", sender="spam@elsewhere.example"))
    client.force_login(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert client.post("/desk/inbox/", {"email": record.pk, "action": "dismiss"}).status_code == 302
    record.refresh_from_db()
    assert record.outcome == Outcome.DISMISSED and record.handled_by == staff_user
    assert "spam@elsewhere.example" not in client.get("/desk/inbox/").content.decode()
    response = client.post("/desk/inbox/", {"email": record.pk, "action": "dismiss"}, follow=True)
    assert "This e-mail is not waiting for staff." in response.content.decode()
    assert client.post("/desk/inbox/", {"email": "abc", "action": "dismiss"}).status_code == 404


def test_staff_find_any_contract_for_a_kept_mail_however_many_there_are(
    client, staff_user, contract_a, contract_b, monkeypatch
):
    from tickets import views

    monkeypatch.setattr(views, "INBOX_CONTRACTS", 1)
    inbound.receive(plain("Hej", sender="newcomer@elsewhere.example"))
    client.force_login(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/desk/inbox/").content.decode()
    assert "Only the first 1 contracts are offered" in page
    assert page.count(f'<option value="{contract_a.pk}">') + page.count(f'<option value="{contract_b.pk}">') == 1
    found = client.get("/desk/inbox/", {"contract_q": contract_b.customer.name}).content.decode()
    assert f'<option value="{contract_b.pk}">' in found and f'<option value="{contract_a.pk}">' not in found
    assert "No contract matches" in client.get("/desk/inbox/", {"contract_q": "no such customer"}).content.decode()


def with_files(body: str, *, sender: str, message_id: str, subject="Loggar") -> bytes:
    """A mail with a log file we take and a program we refuse."""
    return (
        f"From: {sender}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{body}\r\n--x\r\nContent-Type: text/plain; name=sip.log\r\nContent-Disposition: attachment; filename=sip.log\r\n\r\n"
        "INVITE sip:100@pbx SIP/2.0\r\n--x\r\nContent-Type: application/octet-stream\r\n"
        "Content-Disposition: attachment; filename=tool.exe\r\n\r\nMZ\r\n--x--\r\n"
    ).encode()


def mails_of_every_kind(n: int, staff_user, monkeypatch) -> None:
    """One of each mail the inbox keeps for staff (a reply to a closed ticket, an unknown sender,
    an address of two customers, a customer with two contracts, a mail that broke while being
    placed, one that failed authentication), and some it does not show: a report that opened a
    ticket with a file refused, and a mail set aside."""
    from django.test import override_settings

    from tests.factories import ContractFactory, CustomerFactory

    one, two, both = CustomerFactory(), CustomerFactory(), CustomerFactory()
    ContractFactory(customer=one)
    ContractFactory(customer=two)
    ContractFactory.create_batch(2, customer=both)
    one.contacts.create(name="Anna", email=f"anna{n}@one.example")
    for customer in (one, two):
        customer.contacts.create(name="Delad", email=f"shared{n}@example.com")
    both.contacts.create(name="Bo", email=f"bo{n}@both.example")
    report = inbound.receive(with_files("Samtal bryts.", sender=f"anna{n}@one.example", message_id=f"<r{n}@x>"))
    assert report.outcome == Outcome.NEW_TICKET
    services.ticket_close(ticket=report.ticket, actor=staff_user, close_reason="resolved")
    kept = [
        plain("Igen", subject=f"Re: [{report.ticket.number}]", sender=f"anna{n}@one.example", message_id=f"<c{n}@x>"),
        with_files("Hej", sender=f"stranger{n}@elsewhere.example", message_id=f"<u{n}@x>"),
        plain("Hej", sender=f"shared{n}@example.com", message_id=f"<s{n}@x>"),
        with_files("Vilken växel?", sender=f"bo{n}@both.example", message_id=f"<b{n}@x>"),
    ]
    for raw in kept:
        inbound.receive(raw)
    with monkeypatch.context() as patched:
        patched.setattr(services, "ticket_create", lambda **kwargs: 1 / 0)
        inbound.receive(plain("Samtal bryts.", sender=f"anna{n}@one.example", message_id=f"<f{n}@x>"))
    with override_settings(MAIL_AUTHSERV_ID="mx.desk.example"):
        forged = plain(
            "Stäng allt.",
            sender=f"anna{n}@one.example",
            message_id=f"<v{n}@x>",
            extra="Authentication-Results: mx.desk.example; dmarc=fail header.from=one.example\r\n",
        )
        inbound.receive(forged)
    spam = inbound.receive(plain("Köp!", sender=f"spam{n}@elsewhere.example", message_id=f"<x{n}@x>"))
    inbound.dismiss(spam, actor=staff_user)


def test_the_inbox_reads_as_many_queries_for_six_mails_as_for_forty_two(client, staff_user, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/desk/inbox/")
            assert response.status_code == 200
        return len(captured), response.content.decode().count('<section class="card">')

    client.force_login(staff_user)
    mails_of_every_kind(0, staff_user, monkeypatch)
    assert sorted(InboundEmail.objects.values_list("outcome", flat=True)) == sorted(
        ["new_ticket", "unmatched", "quarantined", "ambiguous", "ambiguous", "failed", "unverified", "dismissed"]
    )
    assert count() == (7, 6)
    for n in range(1, 7):
        mails_of_every_kind(n, staff_user, monkeypatch)
    assert count() == (7, 42)
