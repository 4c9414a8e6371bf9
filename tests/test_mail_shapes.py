"""Mail as real clients send it, through both ways in: the MTA pipe (`manage.py receive_email`)
and the IMAP mailbox (Dovecot on loopback). Nothing lost, nothing leaked, no loops."""

import datetime
import io
import sys
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from contracts.models import ContactPerson
from tests import mail_samples as samples
from tests.factories import ContractFactory, CustomerUserFactory
from tickets import mailbox, services
from tickets.models import InboundEmail, Status, Ticket

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
NOW = datetime.datetime(2026, 10, 1, 13, 0, tzinfo=MARIEHAMN)
Outcome = InboundEmail.Outcome


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def contact(customer_a, contract_a):
    return ContactPerson.objects.create(
        customer=customer_a, name="Anna Eriksson", email=samples.CONTACT, is_primary=True
    )


@pytest.fixture(params=["pipe", "imap"])
def deliver(request, django_capture_on_commit_callbacks):
    """Hand a raw mail to the desk the way the mail server would, arriving at `arrived`; returns
    the records it made."""
    if request.param == "imap":
        imap = request.getfixturevalue("imap")
        request.getfixturevalue("imap_settings")

    def hand_over(raw: bytes, *, arrived: datetime.datetime | None = None) -> list[InboundEmail]:
        before = set(InboundEmail.objects.values_list("pk", flat=True))
        with django_capture_on_commit_callbacks(execute=True):
            if request.param == "pipe":
                if arrived is not None:  # the MTA stamps its Received header when it takes the mail
                    stamp = arrived.strftime("%a, %d %b %Y %H:%M:%S %z")
                    raw = f"Received: from mx.alfa.example by mx.desk.example; {stamp}\r\n".encode() + raw
                stdin = io.TextIOWrapper(io.BytesIO(raw))
                out = io.StringIO()
                monkey = pytest.MonkeyPatch()
                monkey.setattr(sys, "stdin", stdin)
                try:
                    call_command("receive_email", stdout=out)
                finally:
                    monkey.undo()
            else:
                imap.deliver(raw, arrived=arrived)
                mailbox.poll()
        return list(InboundEmail.objects.exclude(pk__in=before).order_by("pk"))

    hand_over.via = request.param
    return hand_over


def one(records):
    assert len(records) == 1, records
    return records[0]


class TestNothingLost:
    def test_a_mail_forwarded_as_an_attachment_is_kept_whole_as_eml(self, deliver, contact):
        ticket = one(deliver(samples.forwarded_as_attachment())).ticket
        (attached,) = ticket.attachments.all()
        assert attached.filename == "Trunk SIP-1 down.eml" and attached.content_type == "text/plain"
        assert b"Trunk SIP-1 lost registration" in attached.file.read()
        assert ticket.a_number == "+3581812345"

    def test_an_smime_signed_mails_parts_are_stored_and_its_signature_listed(self, deliver, contact):
        ticket = one(deliver(samples.smime_signed())).ticket
        assert "Samtal bryts efter 30 sekunder" in ticket.description
        assert [a.filename for a in ticket.attachments.all()] == ["sip-trace.log"]
        note = ticket.messages.get(internal=True).body
        assert "smime.p7s är e-brevets digitala signatur" in note  # the desk's language

    def test_a_pgp_signed_mail_reads_as_its_text(self, deliver, contact):
        ticket = one(deliver(samples.pgp_signed())).ticket
        assert ticket.description.endswith("Queue 3 does not ring.")
        assert not ticket.attachments.exists()

    @pytest.mark.parametrize(
        ("sample", "files"),
        [
            ("outlook_pasted_screenshot", [("image001.png", "image/png")]),
            ("apple_mail_inline_pdf", [("faktura.pdf", "application/pdf")]),
            ("attachment_only", [("scan0001.pdf", "application/pdf")]),
            ("uuencoded_part", [("bild.png", "image/png")]),
            ("lotus_notes_uuencoded_in_text", [("display.png", "image/png")]),
        ],
    )
    def test_inline_and_encoded_files_are_stored(self, deliver, contact, sample, files):
        ticket = one(deliver(getattr(samples, sample)())).ticket
        stored = [(a.filename, a.content_type) for a in ticket.attachments.all()]
        assert stored == files
        assert all(a.size > 0 for a in ticket.attachments.all())
        assert "begin 644" not in ticket.description

    def test_apple_mails_text_around_an_inline_pdf_is_all_kept(self, deliver, contact):
        ticket = one(deliver(samples.apple_mail_inline_pdf())).ticket
        assert "Fakturan ni bad om:" in ticket.description and "Hälsningar, Anna" in ticket.description

    def test_an_empty_attachment_is_listed_never_stored(self, deliver, contact):
        ticket = one(deliver(samples.empty_attachment())).ticket
        assert not ticket.attachments.exists()
        assert "tom.log var tom." in ticket.messages.get(internal=True).body

    def test_the_same_mail_twice_is_one_a_different_mail_reusing_its_id_is_another(self, deliver, contact):
        first = one(deliver(samples.plain("Larm: trunk nere", message_id="<alarm@pbx.alfa.example>")))
        again = deliver(samples.plain("Larm: trunk nere", message_id="<alarm@pbx.alfa.example>"))
        assert again == [] and Ticket.objects.count() == 1
        other = one(deliver(samples.plain("Larm: trunk uppe igen", message_id="<alarm@pbx.alfa.example>")))
        assert other.pk != first.pk and other.outcome == Outcome.NEW_TICKET and Ticket.objects.count() == 2

    @pytest.mark.parametrize(
        ("sample", "field", "text"),
        [
            ("utf8_with_one_bad_byte", "description", "Växeln är nere sedan 12:40 – ingen når oss."),
            ("raw_8bit_subject", "description", "Växeln är nere i Göteborg"),
            (
                "windows_1252_labelled_latin_1",
                "description",
                "Kunden säger “det ringer inte” – fakturan på 120 € stämmer.",
            ),
        ],
    )
    def test_text_reads_as_written(self, deliver, contact, sample, field, text):
        ticket = one(deliver(getattr(samples, sample)())).ticket
        assert text in getattr(ticket, field) and "\ufffd" not in ticket.description

    def test_nul_bytes_in_from_and_message_id_still_keep_the_mail(self, deliver, contact):
        if deliver.via == "imap":
            pytest.skip("IMAP cannot carry NUL bytes in a message; the MTA pipe can")
        record = one(deliver(samples.nul_in_headers()))
        assert record.message_id == "<nul@alfa.example>" and bytes(record.raw) == samples.nul_in_headers()
        # A NUL inside an address could hide another one: such a mail names nobody and waits.
        assert record.outcome == Outcome.UNMATCHED and "control characters in From" in record.note

    def test_the_same_mail_through_different_filters_is_one(self, deliver, contact):
        body = samples.plain("Larm: trunk nere", message_id="<filtered@pbx.alfa.example>")
        one(deliver(b"DKIM-Filter: OpenDKIM Filter v2.11.0 mx1 4F2A1\r\nX-Spam-Report: 0.1\r\n" + body))
        assert deliver(b"DKIM-Filter: OpenDKIM Filter v2.11.0 mx2 99B03\r\nX-Rspamd-Queue-Id: 77\r\n" + body) == []
        assert Ticket.objects.count() == 1

    def test_an_invitation_and_html_beside_text_are_kept(self, deliver, contact):
        raw = samples.headers(subject="Möte om växeln").encode() + (
            b'Content-Type: multipart/mixed; boundary="m"\r\n\r\n--m\r\n'
            b'Content-Type: multipart/alternative; boundary="a"\r\n\r\n'
            b"--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nKan ni tisdag?\r\n"
            b"--a\r\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n"
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Vaxeln\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n--a--\r\n"
            b"--m\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Bifogad signatur: <b>Anna, IT</b></p>\r\n--m--\r\n"
        )
        ticket = one(deliver(raw)).ticket
        assert "Kan ni tisdag?" in ticket.description and "Anna, IT" in ticket.description
        assert [a.filename for a in ticket.attachments.all()] == ["invite.ics"]

    def test_a_blank_plain_alternative_falls_back_to_the_html(self, deliver, contact):
        raw = samples.headers().encode() + (
            b'Content-Type: multipart/alternative; boundary="a"\r\n\r\n'
            b"--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n \r\n"
            b"--a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Ingen ton i luren.</p>\r\n--a--\r\n"
        )
        assert "Ingen ton i luren." in one(deliver(raw)).ticket.description

    def test_a_multipart_without_its_boundary_is_read_as_text(self, deliver, contact):
        raw = samples.headers().encode() + b"Content-Type: multipart/mixed\r\n\r\nSamtal bryts hela tiden.\r\n"
        ticket = one(deliver(raw)).ticket
        assert "Samtal bryts hela tiden." in ticket.description and not ticket.attachments.exists()

    def test_an_opaque_smime_mail_is_listed_for_staff(self, deliver, contact):
        raw = samples.headers().encode() + (
            b'Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwGg\r\n"
        )
        ticket = one(deliver(raw)).ticket
        assert "smime.p7m är ett signerat e-brev" in ticket.messages.get(internal=True).body

    @pytest.mark.parametrize(
        "raw",
        [
            samples.plain("".join(f"begin 644 a{i}\n" for i in range(20000)), message_id="<uu@x>"),
            samples.plain("Hej", sender="a" * 40000),
        ],
    )
    def test_hostile_shapes_are_read_in_one_pass_and_kept(self, deliver, contract_a, raw):
        record = one(deliver(raw))
        assert record.outcome in (Outcome.QUARANTINED, Outcome.UNMATCHED)
        assert bytes(record.raw).replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")  # IMAP stores CRLF

    def test_a_received_time_in_unknown_zone_is_utc(self):
        from tickets import mailparse

        headers = mailparse.raw_headers(b"Received: from a by b; Thu, 01 Oct 2026 09:55:00 -0000\r\n\r\n")
        assert mailparse.arrived_at(headers) == datetime.datetime(2026, 10, 1, 9, 55, tzinfo=datetime.UTC)


class TestWhoSent:
    def test_an_address_two_customers_share_is_never_matched(self, deliver, contact, customer_b):
        ContactPerson.objects.create(customer=customer_b, name="Anna, konsult", email=samples.CONTACT)
        ContractFactory(customer=customer_b)
        record = one(deliver(samples.plain("Samtal bryts.")))
        assert record.outcome == Outcome.AMBIGUOUS and not Ticket.objects.exists()
        assert "Alfa Ab" in record.note and "Beta AB" in record.note
        assert sorted(record.candidates["customers"]) == sorted([contact.customer_id, customer_b.pk])

    @pytest.mark.parametrize("sender", ["<>", ""])
    def test_a_blank_sender_matches_nobody(self, deliver, contract_a, sender):
        ContactPerson.objects.create(customer=contract_a.customer, name="Utan adress", email="")
        raw = (
            samples.plain("Hej", sender=sender)
            if sender
            else samples.plain("Hej").replace(b"From: Anna Eriksson <anna@alfa.example>\r\n", b"")
        )
        record = one(deliver(raw))
        assert record.outcome in (Outcome.UNMATCHED, Outcome.IGNORED) and not Ticket.objects.exists()

    def test_only_the_address_part_of_from_counts(self, deliver, contact):
        record = one(deliver(samples.plain("Ge mig ärendena.", sender=f"<{samples.CONTACT}> <attacker@evil.example>")))
        assert record.outcome == Outcome.UNMATCHED and "invalid From" in record.note
        assert not Ticket.objects.exists() and mail.outbox == []

    @pytest.mark.parametrize(
        "sender",
        [
            '"anna@alfa.example"@evil.example',
            "anna@alfa.example@evil.example",
            "Anna <anna@alfa.example>, Bo <bo@alfa.example>",
        ],
    )
    def test_an_address_hidden_in_from_is_never_the_sender(self, deliver, contact, settings, sender):
        settings.MAIL_AUTHSERV_ID = "mx.desk.example"
        raw = samples.plain(
            "Stäng alla ärenden.",
            sender=sender,
            extra="Authentication-Results: mx.desk.example; dmarc=pass header.from=evil.example\r\n",
        )
        record = one(deliver(raw))
        assert record.outcome in (Outcome.UNMATCHED, Outcome.UNVERIFIED) and not Ticket.objects.exists()

    def test_an_encoded_display_name_is_not_an_address(self, deliver, contact):
        record = one(deliver(samples.plain("Hej", sender="=?utf-8?q?anna=40alfa.example?= <evil@elsewhere.example>")))
        assert record.sender == "evil@elsewhere.example" and record.outcome == Outcome.QUARANTINED

    @pytest.mark.parametrize(
        ("results", "placed"),
        [
            ("dmarc=fail (p=reject) header.from=alfa.example", False),
            ("spf=fail smtp.mailfrom=alfa.example; dkim=none", False),
            ("spf=pass smtp.mailfrom=alfa.example; dkim=fail; dmarc=pass header.from=alfa.example", True),
            ("spf=pass smtp.mailfrom=alfa.example; dkim=pass header.d=alfa.example", True),
        ],
    )
    def test_mail_that_fails_authentication_waits_for_staff(self, deliver, contact, settings, results, placed):
        settings.MAIL_AUTHSERV_ID = "mx.desk.example"
        record = one(deliver(samples.with_authentication(results)))
        assert (record.outcome == Outcome.NEW_TICKET) is placed
        if not placed:
            assert record.outcome == Outcome.UNVERIFIED and record.authentication == "fail"

    @pytest.mark.parametrize(
        ("results", "verdict"),
        [
            # A pass for the attacker's own domain proves nothing about the sender's.
            ("spf=pass smtp.mailfrom=bounce@evil.example; dkim=pass header.d=evil.example; dmarc=none", "none"),
            ("spf=softfail smtp.mailfrom=alfa.example", "fail"),
            ("spf=pass smtp.mailfrom=alfa.example; dmarc=fail header.from=alfa.example", "fail"),
            ("dmarc=fail header.from=alfa.example; dmarc=pass header.from=alfa.example", "fail"),
            ('spf=neutral smtp.mailfrom="x;dmarc=pass"@evil.example', "none"),
            ("dkim=fail (bad sig; dmarc=pass) header.d=alfa.example", "fail"),
        ],
    )
    def test_only_results_for_the_senders_own_domain_count(self, deliver, contact, settings, results, verdict):
        settings.MAIL_AUTHSERV_ID = "MX.desk.example"  # the id is compared without case
        record = one(deliver(samples.with_authentication(results)))
        assert record.authentication == verdict
        assert (record.outcome == Outcome.UNVERIFIED) is (verdict == "fail")

    def test_split_results_of_our_server_are_read_together(self, deliver, contact, settings):
        settings.MAIL_AUTHSERV_ID = "mx.desk.example"
        raw = samples.plain(
            "Hej",
            extra=(
                "Authentication-Results: mx.desk.example; spf=pass smtp.mailfrom=alfa.example\r\n"
                "Authentication-Results: mx.desk.example; dmarc=fail header.from=alfa.example\r\n"
            ),
        )
        assert one(deliver(raw)).outcome == Outcome.UNVERIFIED

    def test_a_stricter_desk_holds_mail_nothing_verified(self, deliver, contact, settings):
        settings.MAIL_AUTHSERV_ID, settings.MAIL_HOLD_UNVERIFIED = "mx.desk.example", True
        record = one(deliver(samples.with_authentication("spf=none smtp.mailfrom=alfa.example; dmarc=none")))
        assert record.outcome == Outcome.UNVERIFIED and "nothing verified" in record.note

    def test_results_written_by_someone_else_are_not_trusted(self, deliver, contact, settings):
        settings.MAIL_AUTHSERV_ID = "mx.desk.example"
        record = one(deliver(samples.with_authentication("dmarc=pass", authserv="mx.evil.example")))
        assert record.outcome == Outcome.UNVERIFIED and record.authentication == "missing"

    def test_a_reply_that_fails_authentication_is_not_threaded(self, deliver, contact, settings, staff_user):
        ticket = one(deliver(samples.plain("Samtal bryts."))).ticket
        services.ticket_start(ticket=ticket, actor=staff_user)
        services.ticket_request_info(ticket=ticket, actor=staff_user, message="Vilket nummer?")
        settings.MAIL_AUTHSERV_ID = "mx.desk.example"
        forged = samples.plain(
            "Stäng ärendet.",
            subject=f"SV: [{ticket.number}]",
            message_id="<forged@x>",
            extra="Authentication-Results: mx.desk.example; dmarc=fail\r\n",
        )
        assert one(deliver(forged)).outcome == Outcome.UNVERIFIED
        ticket.refresh_from_db()
        assert ticket.status == Status.WAITING_FOR_CUSTOMER


class TestLoopsAndRobots:
    def test_another_help_desk_gets_one_answer_a_day(self, deliver, contract_a, frozen_now):
        for round_ in range(3):
            deliver(samples.other_help_desk_answer(round_))
        assert len(mail.outbox) == 1
        assert mail.outbox[0].subject == "Vi kunde inte registrera ditt e-postmeddelande"  # nothing of theirs repeated
        frozen_now.shift(datetime.timedelta(hours=25))
        deliver(samples.other_help_desk_answer(4))
        assert len(mail.outbox) == 2

    def test_plus_addresses_of_one_mailbox_share_the_brake(self, deliver, contract_a):
        for case in (1001, 1002):
            deliver(
                samples.plain(
                    "Tack för ert ärende.",
                    sender=f"support+{case}@other-desk.example",
                    subject=f"Ärende {case}",
                    message_id=f"<plus-{case}@other-desk.example>",
                )
            )
        assert len(mail.outbox) == 1

    @pytest.mark.parametrize(
        "sender",
        [
            "noreply@vendor.example",
            "no-reply@vendor.example",
            "MAILER-DAEMON@mx.example",
            "postmaster@vendor.example",
            "bounces+123@vendor.example",
            "support@desk.example",
        ],
    )
    def test_machines_and_the_desk_itself_are_never_answered(self, deliver, contract_a, settings, sender):
        settings.DEFAULT_FROM_EMAIL = "support@desk.example"
        record = one(deliver(samples.plain("Hej", sender=sender, message_id=f"<{sender}>")))
        assert record.outcome == Outcome.QUARANTINED and mail.outbox == []

    @pytest.mark.parametrize(
        "subject",
        [
            "Vi kunde inte registrera ditt e-postmeddelande",
            "Re: We could not register your e-mail",
            "[#1001] Re: Vi kunde inte registrera ditt e-postmeddelande",
        ],
    )
    def test_our_own_answer_coming_back_is_not_answered(self, deliver, contract_a, subject):
        deliver(samples.plain("...", sender="someone@elsewhere.example", subject=subject))
        assert mail.outbox == []

    @pytest.mark.parametrize(
        "subject",
        [
            "Automatic reply: Fel",
            "Autosvar: Fel",
            "Frånvaromeddelande: Fel",
            "Out of Office: Fel",
            "Poissaoloviesti: Fel",
            "Automatiskt svar: Fel",
        ],
    )
    def test_an_auto_reply_without_headers_is_no_answer(self, deliver, contact, staff_user, subject):
        ticket = one(deliver(samples.plain("Samtal bryts."))).ticket
        services.ticket_start(ticket=ticket, actor=staff_user)
        services.ticket_request_info(ticket=ticket, actor=staff_user, message="Vilket nummer?")
        record = one(deliver(samples.auto_reply(f"{subject} [{ticket.number}]")))
        assert record.outcome == Outcome.IGNORED
        ticket.refresh_from_db()
        assert ticket.status == Status.WAITING_FOR_CUSTOMER and Ticket.objects.count() == 1

    def test_a_read_receipt_is_no_answer(self, deliver, contact, staff_user):
        ticket = one(deliver(samples.plain("Samtal bryts."))).ticket
        services.ticket_start(ticket=ticket, actor=staff_user)
        services.ticket_request_info(ticket=ticket, actor=staff_user, message="Vilket nummer?")
        assert one(deliver(samples.read_receipt(f"[{ticket.number}] Fråga"))).outcome == Outcome.IGNORED
        ticket.refresh_from_db()
        assert ticket.status == Status.WAITING_FOR_CUSTOMER

    def test_a_colleagues_reply_all_to_the_customers_report_threads(self, deliver, contact, customer_a):
        CustomerUserFactory(customer=customer_a, email="bo@alfa.example")
        ticket = one(deliver(samples.plain("Samtal bryts.", message_id="<report@alfa.example>"))).ticket
        colleague = samples.plain(
            "Samma här på kontoret i Jomala.",
            sender="Bo <bo@alfa.example>",
            subject="SV: Fel på växeln",
            message_id="<reply-all@alfa.example>",
            extra="In-Reply-To: <report@alfa.example>\r\nReferences: <report@alfa.example>\r\n",
        )
        record = one(deliver(colleague))
        assert record.outcome == Outcome.REPLY and record.ticket == ticket and Ticket.objects.count() == 1


class TestWhichContractAndWhen:
    @pytest.fixture
    def two_services(self, contact, customer_a, telia):
        ContractFactory(customer=customer_a, terms=telia)
        return customer_a

    def test_the_a_number_says_which_service_a_fault_is_for(self, deliver, two_services, contract_a):
        dstny = one(
            deliver(
                samples.plain(
                    "A-nummer: 018 12345\nB-nummer: 040 123 4567\nTidpunkt: 2026-10-01 12:40",
                    message_id="<aland@alfa.example>",
                )
            )
        ).ticket
        assert dstny.contract == contract_a and dstny.service_start_due is not None and dstny.a_number == "+3581812345"
        telia = one(
            deliver(
                samples.plain(
                    "A-nummer: +46 8 123 456 78\nB-nummer: 070-123 45 67\nTidpunkt: 2026-10-01 12:40",
                    message_id="<sthlm@alfa.example>",
                )
            )
        ).ticket
        assert telia.contract.terms.slug == "telia-smart-connect"
        # 08-123 456 78 is a number in Stockholm and in Oulu alike: staff choose.
        both = one(deliver(samples.plain("A-nummer: 08-123 456 78", message_id="<either@alfa.example>")))
        assert both.outcome == Outcome.AMBIGUOUS

    def test_the_support_address_says_which_service(self, deliver, two_services, settings):
        settings.SUPPORT_ADDRESS_TERMS = {"felanmalan@telia-desk.example": "telia-smart-connect"}
        ticket = one(deliver(samples.plain("Inget fungerar.", to="felanmalan@telia-desk.example"))).ticket
        assert ticket.contract.terms.slug == "telia-smart-connect"

    def test_a_mail_that_could_be_for_either_waits_for_staff_to_choose(self, deliver, two_services, client, staff_user):
        record = one(deliver(samples.plain("Inget fungerar.")))
        assert record.outcome == Outcome.AMBIGUOUS and len(record.candidates["contracts"]) == 2
        client.force_login(staff_user)
        page = client.get("/desk/inbox/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "More than one contract could be meant" in page
        ticket = client.post("/desk/inbox/", {"email": record.pk, "contract": record.candidates["contracts"][1]})
        assert ticket.status_code == 302 and Ticket.objects.get().received_at == record.received_at

    def test_d16_7_an_answer_that_reached_us_in_time_reopens_a_ticket_the_sweep_closed(
        self, deliver, contact, staff_user, frozen_now
    ):
        ticket = one(deliver(samples.plain("Samtal bryts."))).ticket
        services.ticket_start(ticket=ticket, actor=staff_user)
        services.ticket_request_info(ticket=ticket, actor=staff_user, message="Vilket nummer?")
        due = Ticket.objects.get(pk=ticket.pk).customer_reply_due
        frozen_now.move_to(due + datetime.timedelta(minutes=5))
        assert services.close_unanswered() == 1
        # The answer reached our mail server a minute before the deadline, and is taken now.
        frozen_now.move_to(due + datetime.timedelta(minutes=30))
        answer = samples.plain(
            "A-nummer: 018 12345", subject=f"SV: [{ticket.number}] Fråga", message_id="<late@alfa.example>"
        )
        record = one(deliver(answer, arrived=due - datetime.timedelta(minutes=1)))
        ticket.refresh_from_db()
        assert record.outcome == Outcome.REPLY and record.received_at == due - datetime.timedelta(minutes=1)
        assert ticket.status == Status.IN_PROGRESS and ticket.close_reason is None
        assert ticket.events.filter(field="status", old_value="closed", note__startswith="answered-in-time ").exists()
        assert ticket.notifications.filter(kind="reopened").exists()  # the customer hears it is open again

    def test_d16_7_an_answer_that_came_after_the_deadline_resumes_nothing_even_before_the_sweep(
        self, deliver, contact, staff_user, frozen_now
    ):
        ticket = one(deliver(samples.plain("Samtal bryts."))).ticket
        services.ticket_start(ticket=ticket, actor=staff_user)
        services.ticket_request_info(ticket=ticket, actor=staff_user, message="Vilket nummer?")
        due = Ticket.objects.get(pk=ticket.pk).customer_reply_due
        frozen_now.move_to(due + datetime.timedelta(minutes=5))  # the sweep has not run yet
        answer = samples.plain(
            "Här är numret.", subject=f"SV: [{ticket.number}] Fråga", message_id="<late2@alfa.example>"
        )
        record = one(deliver(answer, arrived=due + datetime.timedelta(minutes=2)))
        ticket.refresh_from_db()
        assert record.outcome == Outcome.UNMATCHED and ticket.status == Status.WAITING_FOR_CUSTOMER
        assert services.close_unanswered() == 1

    def test_d16_7_an_answer_that_came_after_the_deadline_does_not(self, deliver, contact, staff_user, frozen_now):
        ticket = one(deliver(samples.plain("Samtal bryts."))).ticket
        services.ticket_start(ticket=ticket, actor=staff_user)
        services.ticket_request_info(ticket=ticket, actor=staff_user, message="Vilket nummer?")
        due = Ticket.objects.get(pk=ticket.pk).customer_reply_due
        frozen_now.move_to(due + datetime.timedelta(minutes=5))
        services.close_unanswered()
        answer = samples.plain(
            "Här är numret.", subject=f"SV: [{ticket.number}] Fråga", message_id="<later@alfa.example>"
        )
        record = one(deliver(answer, arrived=due + datetime.timedelta(minutes=2)))
        ticket.refresh_from_db()
        assert record.outcome == Outcome.UNMATCHED and ticket.status == Status.CLOSED
