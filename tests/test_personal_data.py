"""One person's data, as a data-protection request asks for it (GDPR Art. 15 and 17): everything
the desk holds about Anna exported in one zip, or erased at once with the masking retention
applies, while the ticket numbers, times and figures that availability, claims and billing rest
on stay as they were."""

import datetime
import io
import json
import zipfile
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError

from audit.models import Action, AuditEvent
from sla import claims as sla_claims
from sla import selectors as sla_selectors
from sla import services as sla_services
from tests import mail_samples
from tests.factories import ContactPersonFactory, CustomerUserFactory, fault_report
from tickets import attachments, inbound, notifications, selectors, services
from tickets.models import InboundEmail, Message, Notification, Satisfaction, Ticket, TicketEvent, TimeEntry

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
NOW = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=MARIEHAMN)
OCTOBER = datetime.datetime(2026, 10, 5, 9, 0, tzinfo=MARIEHAMN)
PASSWORD = "x-customer-pass-42"  # tests.factories.CustomerUserFactory


def at(days: int = 0, hours: int = 0) -> datetime.datetime:
    return OCTOBER + datetime.timedelta(days=days, hours=hours)


def mail_with_pdf() -> bytes:
    """Anna's report by e-mail, as Outlook sends it: the numbers in the text, a PDF attached."""
    return (
        mail_samples.headers(subject="Fel på växeln igen", message_id="<anna-2@alfa.example>")
        + 'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "A-nummer: 018 12345\r\nB-nummer: 040 123 4567\r\nTidpunkt: 2026-10-07 08:50\r\n"
        "Ring mig på 040 765 4321. Hälsningar, Anna Eriksson\r\n"
        '--b1\r\nContent-Type: application/pdf; name="faktura.pdf"\r\n'
        'Content-Disposition: attachment; filename="faktura.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + mail_samples.b64(mail_samples.PDF)
        + "\r\n--b1--\r\n"
    ).encode()


def send_pending() -> None:
    for pk in Notification.objects.filter(sent_at__isnull=True).values_list("pk", flat=True):
        notifications.send(pk)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def anna(customer_a, contract_a, staff_user, client):
    """Anna Eriksson of Alfa Ab: a customer user and the main contact person, two reports (one
    from the portal with a log file, one by e-mail with a PDF), a reply on her colleague Bo's
    ticket, an answer to "How did we do?", a claim; staff logged billable time on her report,
    and an outage is linked to it."""
    user = CustomerUserFactory(
        customer=customer_a,
        username="anna.eriksson",
        email="anna@alfa.example",
        first_name="Anna",
        last_name="Eriksson",
    )
    contact = ContactPersonFactory(
        customer=customer_a, name="Anna Eriksson", email="Anna@Alfa.example", phone="+358 40 123 4567", is_primary=True
    )
    bo = CustomerUserFactory(customer=customer_a, username="bo", email="bo@alfa.example", first_name="Bo")
    web = fault_report(
        contract_a, user, at(), description="Samtal kopplas inte fram. Ring Anna Eriksson på 040 765 4321."
    )
    checked = attachments.upload_problems([SimpleUploadedFile("sip-trace.log", b"INVITE sip:100@pbx SIP/2.0\r\n")])[0]
    with time_machine.travel(at(hours=1), tick=False):
        attachments.store(web, checked, actor=user)
        services.ticket_start(ticket=web, actor=staff_user)
        services.ticket_reply(ticket=web, actor=staff_user, message="Hej Anna, vi ringer dig på 040 765 4321.")
        services.ticket_reply(ticket=web, actor=user, message="Tack! Nås på anna@alfa.example. /Anna Eriksson")
        services.ticket_classify(ticket=web, actor=staff_user, classification="not_fault", not_fault_reason="minor")
        services.time_log(ticket=web, actor=staff_user, minutes=45, worked_on=at().date(), note="Omkoppling")
        services.ticket_resolve(ticket=web, actor=staff_user, message="Omkopplat.")
        services.satisfaction_record(ticket=web, score="good", comment="Snabbt! Anna, 040 765 4321", actor=user)
        services.ticket_close(ticket=web, actor=staff_user, close_reason="resolved")
    record = inbound.receive(mail_with_pdf(), received_at=at(days=2))
    assert record.outcome == InboundEmail.Outcome.NEW_TICKET, record.note
    mailed = record.ticket
    with time_machine.travel(at(days=2, hours=2), tick=False):
        services.ticket_close(ticket=mailed, actor=staff_user, close_reason="resolved")
    bos = fault_report(contract_a, bo, at(days=3), description="Bo: växeln tappar samtal, ring 040 111 2222.")
    with time_machine.travel(at(days=3, hours=1), tick=False):
        services.ticket_reply(ticket=bos, actor=user, message="Anna här: samma fel hos mig, +358401234567.")
        services.watcher_add(ticket=bos, actor=bo, user=user)
        sla_services.outage_register(
            started_at=at(hours=-1),
            ended_at=at(hours=1),
            kind="unplanned",
            responsibility="supplier",
            contracts=[contract_a],
            tickets=[web],
            actor=staff_user,
        )
        claim = sla_claims.claim_file(
            contract=contract_a,
            discovered_on=at(days=3).date(),
            description="Prisavdrag för oktober. Kontakt: Anna Eriksson, 040 765 4321",
            tickets=[web],
            month=datetime.date(2026, 10, 1),
            amount=Decimal("5.00"),
            actor=user,
        )
        send_pending()
    client.post("/accounts/login/", {"login": "anna.eriksson", "password": PASSWORD})
    client.logout()
    return {"user": user, "contact": contact, "bo": bo, "web": web, "mailed": mailed, "bos": bos, "claim": claim}


def export(tmp_path, email="anna@alfa.example") -> tuple[dict, zipfile.ZipFile]:
    out = io.StringIO()
    call_command("personal_data", "export", email, "--output", str(tmp_path / "anna.zip"), stdout=out)
    assert "written to" in out.getvalue()
    archive = zipfile.ZipFile(tmp_path / "anna.zip")
    return json.loads(archive.read("data.json")), archive


# Export ---------------------------------------------------------------------------------------


def test_the_export_holds_everything_about_her_and_her_files(anna, tmp_path):
    data, archive = export(tmp_path, "ANNA@alfa.example")  # an address is matched in any case
    [user] = data["users"]
    assert (user["user_name"], user["first_name"], user["email"], user["customer"]) == (
        "anna.eriksson",
        "Anna",
        "anna@alfa.example",
        "Alfa Ab",
    )
    [contact] = data["contact_persons"]
    assert (contact["name"], contact["phone"], contact["main_contact_person"]) == (
        "Anna Eriksson",
        "+358401234567",
        True,
    )
    web, mailed = data["tickets_reported"]
    assert (web["number"], mailed["number"]) == (anna["web"].number, anna["mailed"].number)
    assert "Ring Anna Eriksson på 040 765 4321." in web["description"]
    assert [(m["by"], m["text"]) for m in web["messages"]][:2] == [
        ("Support", "Hej Anna, vi ringer dig på 040 765 4321."),  # staff as customers see them
        ("anna.eriksson", "Tack! Nås på anna@alfa.example. /Anna Eriksson"),
    ]
    [log] = web["attachments"]
    assert archive.read(log["file"]) == b"INVITE sip:100@pbx SIP/2.0\r\n"
    [pdf] = mailed["attachments"]
    assert pdf["name"] == "faktura.pdf" and archive.read(pdf["file"]) == mail_samples.PDF
    assert any(event["field"] == "classification" for event in web["history"])
    [elsewhere] = data["messages_on_other_tickets"]
    assert (elsewhere["ticket"], elsewhere["text"]) == (
        anna["bos"].number,
        "Anna här: samma fel hos mig, +358401234567.",
    )
    [received] = data["emails_received"]
    assert received["ticket"] == anna["mailed"].number and archive.read(received["file"]) == mail_with_pdf()
    to_her = [sent for sent in data["emails_sent"] if sent["sent_to_them"]]
    assert {sent["ticket"] for sent in to_her} == {anna["web"].number, anna["mailed"].number, anna["bos"].number}
    assert [answer["comment"] for answer in data["satisfaction_answers"]] == ["Snabbt! Anna, 040 765 4321"]
    assert [claim["amount"] for claim in data["claims_filed"]] == ["5.00"]
    assert [watched["ticket"] for watched in data["tickets_receiving_mail_of"]] == [anna["bos"].number]
    assert {"signed_in", "signed_out"} <= {row["action"] for row in data["audit_log"]}
    # Nothing of Bo's but what was mailed to her: not his report, his user or his address.
    assert anna["bos"].number not in {ticket["number"] for ticket in data["tickets_reported"]}
    assert "bo@alfa.example" not in archive.read("data.json").decode()


def test_the_export_is_recorded_and_an_existing_file_is_never_overwritten(anna, tmp_path):
    export(tmp_path)
    [row] = AuditEvent.objects.filter(action=Action.PERSONAL_DATA_EXPORTED)
    assert (row.subject_user, row.subject_name, row.actor) == (anna["user"], "anna.eriksson", None)
    assert row.detail == {"email": "anna@alfa.example", "file": "anna.zip"}
    with pytest.raises(CommandError, match="exists already"):
        export(tmp_path)


# Erasure --------------------------------------------------------------------------------------


def figures(contract):
    """What availability, claims and billing read for October."""
    month = sla_selectors.contract_month(contract, 2026, 10, now=NOW)
    return (
        month.figures,
        selectors.billable_work(datetime.date(2026, 10, 1)),
        list(
            Ticket.objects.order_by("pk").values_list(
                "number", "received_at", "category", "classification", "closed_at"
            )
        ),
        list(TimeEntry.objects.values_list("ticket_id", "minutes", "worked_on")),
        list(anna_claims(contract)),
    )


def anna_claims(contract):
    return contract.claims.values_list("amount", "month", "status")


def test_erasing_masks_her_everywhere_and_keeps_what_the_figures_need(
    anna, contract_a, client, staff_user, django_capture_on_commit_callbacks
):
    before = figures(contract_a)
    files = [a.file.name for a in anna["web"].attachments.all()] + [
        a.file.name for a in anna["mailed"].attachments.all()
    ]
    assert all(default_storage.exists(name) for name in files)
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        call_command("personal_data", "erase", "anna@alfa.example", "--yes", stdout=out)
    assert "erased (2 tickets, 2 attachments" in out.getvalue()
    assert figures(contract_a) == before  # availability, billable work, numbers and times, claims

    web, mailed, bos = (Ticket.objects.get(pk=anna[name].pk) for name in ("web", "mailed", "bos"))
    assert (web.a_number, web.b_number) == ("+358", "+358")
    assert web.description == "Samtal kopplas inte fram. Ring *** på ***."
    assert "Anna" not in mailed.description and "765 4321" not in mailed.description
    bodies = list(web.messages.values_list("body", flat=True))
    assert "Hej ***, vi ringer dig på ***." in bodies and "Tack! Nås på ***. /***" in bodies
    assert not web.attachments.exists() and not mailed.attachments.exists()
    assert not any(default_storage.exists(name) for name in files)
    assert TicketEvent.objects.filter(ticket=web, field="erasure").exists()
    # On Bo's ticket: her words lose her name and number; his own stay.
    assert Message.objects.get(ticket=bos, author=anna["user"]).body == "*** här: samma fel hos mig, ***."
    assert bos.description == "Bo: växeln tappar samtal, ring 040 111 2222." and bos.watchers.count() == 0
    record = InboundEmail.objects.get(ticket=mailed)
    assert (bytes(record.raw), record.sender) == (b"", "***")
    for row in Notification.objects.exclude(recipients=[]):
        assert "anna@alfa.example" not in [str(a).lower() for a in row.recipients]
        assert "Anna" not in row.body
    assert Satisfaction.objects.get(ticket=web).comment == "Snabbt! ***, ***"
    claim = type(anna["claim"]).objects.get(pk=anna["claim"].pk)
    assert claim.description == "Prisavdrag för oktober. Kontakt: ***, ***" and claim.amount == Decimal("5.00")
    contact = type(anna["contact"]).objects.get(pk=anna["contact"].pk)
    assert (contact.name, contact.email, contact.phone, contact.is_primary) == ("***", "", "", True)

    user = get_user_model().objects.get(pk=anna["user"].pk)
    assert (user.username, user.email, user.first_name, user.is_active) == (f"erased-{user.pk}", "", "", False)
    assert not user.has_usable_password()
    refused = client.post("/accounts/login/", {"login": "anna.eriksson", "password": PASSWORD})
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    client.force_login(staff_user)
    page = client.get(f"/desk/tickets/{web.number}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The reporter&#x27;s personal data erased at their request: 1 attachments" in page
    [row] = AuditEvent.objects.filter(action=Action.PERSONAL_DATA_ERASED)
    assert (row.subject_user, row.subject_name, row.detail["email"], row.detail["tickets"]) == (
        user,
        "anna.eriksson",
        "anna@alfa.example",
        2,
    )
    # Done once: the address now names nobody.
    with pytest.raises(CommandError, match="Nobody has the address"):
        call_command("personal_data", "erase", "anna@alfa.example", "--yes")


def test_without_yes_it_says_what_it_would_erase_and_changes_nothing(anna):
    with pytest.raises(CommandError, match="2 tickets reported, 1 e-mails received. Nothing was changed"):
        call_command("personal_data", "erase", "anna@alfa.example")
    web = Ticket.objects.get(pk=anna["web"].pk)
    assert "Anna Eriksson" in web.description and web.attachments.count() == 1
    assert get_user_model().objects.get(pk=anna["user"].pk).is_active
    assert not AuditEvent.objects.filter(action=Action.PERSONAL_DATA_ERASED).exists()


def test_a_report_still_being_worked_is_not_erased_from_under_staff(anna, contract_a):
    still_open = fault_report(contract_a, anna["user"], at(days=10))
    with pytest.raises(CommandError, match=f"not closed yet: {still_open.number}"):
        call_command("personal_data", "erase", "anna@alfa.example", "--yes")
    assert Ticket.objects.get(pk=anna["web"].pk).anonymised_at is None


def test_a_staff_users_address_or_an_unknown_one_is_refused_with_a_non_zero_exit(
    staff_user, tmp_path, capsys, monkeypatch
):
    from django.db import connections

    monkeypatch.setattr(connections, "close_all", lambda: None)  # as manage.py ends; the test goes on
    for argv in (
        ["personal_data", "export", "staffer@desk.example", "--output", str(tmp_path / "x.zip")],
        ["personal_data", "erase", "staffer@desk.example", "--yes"],
        ["personal_data", "erase", "nobody@nowhere.example", "--yes"],
    ):
        with pytest.raises(SystemExit) as exit:
            execute_from_command_line(["manage.py", *argv])
        assert exit.value.code == 1
    errors = capsys.readouterr().err
    assert errors.count("belongs to the staff user staffer: staff accounts are the operator's own") == 2
    assert "Nobody has the address nobody@nowhere.example" in errors
    assert not (tmp_path / "x.zip").exists()
    assert get_user_model().objects.get(pk=staff_user.pk).is_active
    assert not AuditEvent.objects.filter(action__startswith="personal_data").exists()
