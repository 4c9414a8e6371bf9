"""`make run`'s demo desk (sla/management/commands/load_demo.py): something true on every page,
told relative to now, loaded once, and never with production settings."""

import datetime
import io
import re
import zoneinfo

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from contracts.delivery import delivery_status
from contracts.models import Contract, Customer
from sla.models import Alert, Claim, MonthlyReport, Outage
from tickets.models import CannedReply, CloseReason, Message, Notification, Status, Ticket, TimeEntry


@pytest.fixture
def development(db, settings):
    settings.DEBUG = True
    # Thirteen demo passwords hashed the production way take four seconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo(development, capsys):
    call_command("load_demo")
    return capsys.readouterr().out


def signed_in(username: str, password: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"login": username, "password": password})
    assert response.status_code == 302, username
    return client


def test_the_demo_has_tickets_in_every_state_with_their_clocks_running(demo):
    now = timezone.now()
    assert set(Ticket.objects.values_list("status", flat=True)) == set(Status.values)
    assert Ticket.objects.open().breached(now).exists()
    waiting = Ticket.objects.filter(status=Status.WAITING_FOR_CUSTOMER, customer_reply_due__gt=now)
    assert waiting.filter(customer_reply_due__lte=now + datetime.timedelta(hours=48)).exists()
    swept = Ticket.objects.get(close_reason=CloseReason.NO_CUSTOMER_FEEDBACK)
    assert now - datetime.timedelta(days=2) < swept.closed_at < now
    # What the sweep wrote is dated when it ran, and its e-mail counts as sent then: nothing
    # waits to be mailed to the demo's customers.
    assert swept.messages.last().created_at == swept.closed_at
    assert not Notification.objects.filter(sent_at__isnull=True).exists()
    assert Message.objects.filter(internal=True).exists()
    assert TimeEntry.objects.exists()
    assert Ticket.objects.exclude(assignee=None).exists()
    assert {"sv", "en"} <= set(CannedReply.objects.values_list("language", flat=True))


def test_the_demo_has_outages_reports_a_claim_and_a_late_delivery(demo):
    assert Outage.objects.filter(ended_at=None, confirmed=True).count() == 1
    # Monitoring drafted one more this morning, for staff to confirm, and left one alert unrouted.
    assert Outage.objects.filter(ended_at=None, confirmed=False, source="alertmanager").count() == 1
    assert Alert.objects.filter(outage=None).count() == 1
    planned = Outage.objects.filter(kind="planned")
    assert planned.filter(short_notice_terms=[]).exists()  # inside the maintenance window
    assert planned.exclude(short_notice_terms=[]).exists()  # outside it, on short notice
    assert planned.filter(started_at__gt=timezone.now()).exists()  # announced work ahead, on the board
    assert Outage.objects.filter(service_wide=True).exists()
    discounted = MonthlyReport.objects.filter(discount_amount__gt=0, stale=False)
    assert discounted.exists()
    claim = Claim.objects.get()
    assert claim.tickets.exists() and discounted.filter(contract=claim.contract, month=claim.month).exists()
    today = timezone.localdate()
    states = {delivery_status(contract, today).state for contract in Contract.objects.all()}
    assert {"late", "delivered_late", "deadline_near"} <= states


def test_the_demo_has_a_dozen_customers_on_both_seed_terms_with_contacts(demo):
    assert Customer.objects.count() == 12
    assert set(Contract.objects.values_list("terms__slug", flat=True)) == {"dstny-alcom-2022", "telia-smart-connect"}
    assert set(Customer.objects.values_list("language", flat=True)) == {"sv", "en"}
    for customer in Customer.objects.prefetch_related("contacts"):
        main = [contact for contact in customer.contacts.all() if contact.is_primary]
        assert len(main) == 1, customer
        assert re.fullmatch(r"\+\d{8,15}", main[0].phone) and main[0].email.endswith(".example")
    assert "demo-staff-pass" in demo and "demo-rederi-pass" in demo


def test_a_second_run_adds_nothing(demo, capsys):
    def counts():
        return {model._meta.label: model._default_manager.count() for model in apps.get_models()}

    before = counts()
    call_command("load_demo")
    assert counts() == before
    assert "nothing was added" in capsys.readouterr().out


def test_the_demo_refuses_production_settings(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG=true"):
        call_command("load_demo")
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    "moment",
    [
        # The first minutes of a year: a new month, a holiday, and Åland an hour ahead.
        datetime.datetime(2027, 1, 1, 0, 20, tzinfo=zoneinfo.ZoneInfo("Europe/Stockholm")),
        # A Monday before support opens, the first of a month after February.
        datetime.datetime(2027, 3, 1, 6, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Stockholm")),
        # The last evening of a month here, already the next month on Åland.
        datetime.datetime(2027, 5, 31, 23, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Stockholm")),
    ],
)
def test_the_demo_holds_on_calendar_edges(development, moment):
    with time_machine.travel(moment, tick=False):
        call_command("load_demo", stdout=io.StringIO())
        assert set(Ticket.objects.values_list("status", flat=True)) == set(Status.values)
        assert MonthlyReport.objects.filter(discount_amount__gt=0).exists() and Claim.objects.exists()


def test_the_desk_and_the_portal_show_the_demo(demo):
    staff = signed_in("staff", "demo-staff-pass")
    desk = staff.get("/desk/")
    assert desk.status_code == 200 and "Mariehamns Rederi Ab" in desk.content.decode()
    for url, shows in (
        ("/desk/sla/", "Nordic Freight Oy"),
        ("/desk/claims/", Claim.objects.get().tickets.get().number),
        ("/desk/delivery/", "Lemland El &amp; VVS Ab"),
        ("/desk/sla/billing/", "Åbo Hamnlogistik Oy"),
        ("/desk/billable/", "Göteborgs Tandvård AB"),
    ):
        page = staff.get(url)
        assert page.status_code == 200, url
        assert shows in page.content.decode(), url
    customer = signed_in("rederi", "demo-rederi-pass")
    portal = customer.get("/portal/").content.decode()
    own = Ticket.objects.filter(customer__name="Mariehamns Rederi Ab")
    assert own.exists() and all(ticket.number in portal for ticket in own)
    assert not any(ticket.number in portal for ticket in Ticket.objects.exclude(customer__name="Mariehamns Rederi Ab"))
