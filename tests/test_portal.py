"""The customers' side of a ticket beyond reporting it: taking a report back, and telling the
desk's own words from their own."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps

from tests.factories import fault_report
from tickets import references, services
from tickets.models import Channel, Message, Notification, TicketEvent

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
NOW = datetime.datetime(2026, 10, 1, 10, 0, tzinfo=MARIEHAMN)


def report(contract, actor, **overrides):
    return fault_report(contract, actor, NOW, **overrides)


@pytest.fixture
def portal(client, customer_a_user):
    client.force_login(customer_a_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_a_customer_withdraws_a_report_after_confirming(portal, customer_a_user, contract_a):
    ticket = report(contract_a, customer_a_user)
    page = portal.get(f"/portal/tickets/{ticket.number}/").content.decode()
    assert f'href="/portal/tickets/{ticket.number}/withdraw/"' in page
    asked = portal.get(f"/portal/tickets/{ticket.number}/withdraw/").content.decode()
    assert f"Withdraw the report {ticket.number}?" in asked and "Yes, withdraw it" in asked
    ticket.refresh_from_db()
    assert ticket.status == "new"  # asking changes nothing
    done = portal.post(f"/portal/tickets/{ticket.number}/withdraw/", {"message": "Det fungerar igen."}, follow=True)
    assert f"Your report {ticket.number} is withdrawn and the ticket closed." in done.content.decode()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.close_reason) == ("closed", "withdrawn")
    assert Message.objects.get(ticket=ticket).body == "Det fungerar igen."
    assert Notification.objects.filter(ticket=ticket, kind="closed").exists()
    assert TicketEvent.objects.filter(
        ticket=ticket, field="close_reason", new_value="withdrawn", actor=customer_a_user
    ).exists()
    assert "withdraw/" not in done.content.decode()  # a closed ticket offers no withdrawal
    again = portal.post(f"/portal/tickets/{ticket.number}/withdraw/", {})
    assert again.status_code == 400 and "A ticket that is closed cannot be withdrawn." in again.content.decode()


def test_another_customers_ticket_cannot_be_withdrawn(
    client, customer_a_user, contract_a, contract_b, django_user_model
):
    from tests.factories import CustomerUserFactory

    ticket = report(contract_a, customer_a_user)
    client.force_login(CustomerUserFactory(customer=contract_b.customer))
    assert client.get(f"/portal/tickets/{ticket.number}/withdraw/").status_code == 404
    assert client.post(f"/portal/tickets/{ticket.number}/withdraw/", {}).status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_the_api_offers_and_takes_a_withdrawal_from_the_customer_only(
    customer_a_api, staff_api, customer_a_user, contract_a
):
    ticket = report(contract_a, customer_a_user)
    seen = customer_a_api.get(f"/api/tickets/{ticket.pk}/").json()
    assert seen["allowed_actions"] == ["reply", "withdraw"]
    assert "withdraw" not in staff_api.get(f"/api/tickets/{ticket.pk}/").json()["allowed_actions"]
    refused = staff_api.post(f"/api/tickets/{ticket.pk}/withdraw/", {}, format="json")
    assert refused.status_code == 400 and "withdrawing it is the customer's" in str(refused.json())
    done = customer_a_api.post(f"/api/tickets/{ticket.pk}/withdraw/", {}, format="json")
    assert done.status_code == 200 and done.json()["close_reason"] == "withdrawn"
    assert done.json()["allowed_actions"] == []
    assert customer_a_api.post(f"/api/tickets/{ticket.pk}/withdraw/", {}, format="json").status_code == 409


def test_the_close_after_an_unanswered_question_speaks_as_the_desk(
    portal, client, staff_user, customer_a_user, contract_a
):
    ticket = report(contract_a, customer_a_user)
    with time_machine.travel(NOW, tick=False):
        services.ticket_request_info(ticket=ticket, actor=staff_user, message="Vilken modell har telefonen?")
    services.close_unanswered(now=NOW + datetime.timedelta(days=5))
    closing = Message.objects.get(ticket=ticket, author=None)
    assert closing.from_desk
    page = portal.get(f"/portal/tickets/{ticket.number}/").content.decode()
    assert page.count("Support (automatic message)") == 1
    assert '<article class="msg customer">\n    <header>Customer' not in page
    client.force_login(staff_user)
    desk = client.get(f"/desk/tickets/{ticket.number}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Support desk (automatic)" in desk


def test_a_contact_persons_e_mail_reads_as_the_customers_on_the_desk(client, staff_user, customer_a_user, contract_a):
    ticket = report(contract_a, customer_a_user)
    services.ticket_reply(
        ticket=ticket, actor=None, message="Svar via e-post från växelansvarig.", channel=Channel.EMAIL
    )
    client.force_login(staff_user)
    desk = client.get(f"/desk/tickets/{ticket.number}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The customer, by e-mail" in desk and "Support desk (automatic)" not in desk


def test_closing_messages_written_before_the_mark_are_marked_by_the_migration(customer_a_user, contract_a):
    migration = __import__("tickets.migrations.0017_message_from_desk", fromlist=["mark_closing_messages"])
    ticket = report(contract_a, customer_a_user)
    ticket.status, ticket.close_reason, ticket.closed_at = "closed", "no_customer_feedback", NOW
    ticket.save()
    swedish = Message.objects.create(
        ticket=ticket,
        channel="email",
        body="Vi fick inget svar från dig senast 2026-10-03 10:00 EEST, så ärendet stängs",
    )
    contact = Message.objects.create(ticket=ticket, channel="email", body="Vi fick svar, tack.")
    migration.mark_closing_messages(apps, None)
    swedish.refresh_from_db()
    contact.refresh_from_db()
    assert swedish.from_desk and not contact.from_desk


def test_the_ticket_page_lists_a_link_to_a_file_kept_elsewhere_as_a_plain_external_link(
    portal, customer_a_user, staff_user, contract_a
):
    ticket = report(contract_a, customer_a_user)
    references.reference_add(
        ticket=ticket,
        actor=staff_user,
        url="https://files.operator.example/share?id=7&kind=<pcap>",
        name="Trace <b>09:30</b>",
        size=2048,
        description="Calls that failed",
    )
    references.reference_add(ticket=ticket, actor=customer_a_user, url="https://bücher.example/x.png", name="x.png")
    page = portal.get(f"/portal/tickets/{ticket.number}/").content.decode()
    first, second = page.split('<li class="link" data-testid="file-link">')[1:]
    first = first.split("</li>")[0]
    assert (
        '<a href="https://files.operator.example/share?id=7&amp;kind=&lt;pcap&gt;" rel="noopener noreferrer nofollow">'
        "Trace &lt;b&gt;09:30&lt;/b&gt;</a>" in first
    )
    assert "external link to files.operator.example · 2.0\xa0KB" in first and "Calls that failed" in first
    assert "staffer" not in first  # the portal names no one who added it
    # A name in another script is shown in its ASCII form; an image is a link like any other.
    assert "external link to xn--bcher-kva.example" in second and "<img" not in second.split("</li>")[0]
    assert "target=" not in page.split('data-testid="file-link"')[1]
