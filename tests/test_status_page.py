"""The public status page of a terms (D §10.2), its feed and JSON, and the updates staff post on
an outage, e-mailed to the affected customers by the workers once each."""

import datetime
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from core.mail import claim_lease
from sla import outage_mail, tasks
from sla import services as sla_services
from sla.models import OutageUpdate, OutageUpdateMail
from tests.factories import ContactPersonFactory, ContractFactory, CustomerFactory, CustomerUserFactory

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
NOW = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)  # 12:00 in Mariehamn
PAGE = "/status/dstny-alcom-2022/"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def outage(
    hours_ago: float,
    *,
    ended_hours_ago: float | None = None,
    contracts=(),
    kind="unplanned",
    description="INTERNAL-NOTE: the core switch in rack 4",
    service="dstny-alcom-2022",
):
    return sla_services.outage_register(
        started_at=NOW - datetime.timedelta(hours=hours_ago),
        ended_at=NOW - datetime.timedelta(hours=ended_hours_ago) if ended_hours_ago is not None else None,
        kind=kind,
        responsibility="supplier",
        contracts=list(contracts),
        service=None if contracts else service,
        description=description,
    )


def post(item, text, **options):
    return sla_services.outage_post_update(outage=item, text=text, **options)


@pytest.fixture
def scene(contract_a, customer_b, dstny):
    """A service-wide fault going on, Alfa's own fault, Beta's own fault (both on the Dstny terms)."""
    beta_contract = ContractFactory(customer=customer_b, terms=dstny)
    wide = outage(2)
    post(wide, "Calls to the switchboard fail; we are on it.", state="investigating")
    alfa = outage(1, contracts=[contract_a], description="INTERNAL-NOTE: Alfa's trunk")
    post(alfa, "ALFA-ONLY: your trunk is down.")
    beta = outage(1, contracts=[beta_contract], description="INTERNAL-NOTE: Beta's trunk")
    post(beta, "BETA-ONLY: your trunk is down.")
    return {"wide": wide, "alfa": alfa, "beta": beta, "beta_contract": beta_contract}


def test_anonymous_visitors_see_the_service_wide_outage_and_its_updates_and_nothing_internal(client, scene):
    response = client.get(PAGE)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Calls to the switchboard fail; we are on it." in page
    assert 'data-state="outage"' in page
    assert "2026-11-23 10:00" in page  # started two hours ago, in the terms' zone
    assert "Europe/Mariehamn" in page
    for hidden in ("INTERNAL-NOTE", "ALFA-ONLY", "BETA-ONLY", "Alfa Ab", "Beta AB", "staffer"):
        assert hidden not in page, hidden


def test_a_signed_in_customer_also_sees_its_own_contracts_outage_but_never_anothers(
    client, scene, customer_a_user, contract_a
):
    client.force_login(customer_a_user)
    page = client.get(PAGE).content.decode()
    assert "Calls to the switchboard fail" in page and "ALFA-ONLY: your trunk is down." in page
    assert f"#{contract_a.pk}" in page
    for hidden in ("BETA-ONLY", "Beta AB", "INTERNAL-NOTE"):
        assert hidden not in page, hidden
    # Both outages are the Dstny service's: the Telia page shows neither.
    telia = client.get("/status/telia-smart-connect/").content.decode()
    assert "Calls to the switchboard fail" not in telia and "ALFA-ONLY" not in telia


def test_staff_see_what_the_public_sees(staff_client, scene):
    page = staff_client.get(PAGE).content.decode()
    assert "Calls to the switchboard fail" in page
    assert "ALFA-ONLY" not in page and "INTERNAL-NOTE" not in page


def test_an_outage_naming_two_customers_shows_each_only_its_own_contracts(
    client, contract_a, customer_b, dstny, customer_a_user
):
    beta_contract = ContractFactory(customer=customer_b, terms=dstny)
    shared = outage(1, contracts=[contract_a, beta_contract])
    post(shared, "Both trunks are down.")
    client.force_login(customer_a_user)
    page = client.get(PAGE).content.decode()
    assert "Both trunks are down." in page
    assert f"#{contract_a.pk}" in page and f"#{beta_contract.pk}" not in page


def test_planned_work_ahead_and_the_last_ninety_days(client, dstny, contract_a):
    ahead = sla_services.outage_register(
        started_at=NOW + datetime.timedelta(days=10),
        ended_at=NOW + datetime.timedelta(days=10, hours=2),
        kind="planned",
        responsibility="supplier",
        announced_at=NOW,
    )
    post(ahead, "Platform upgrade: calls drop for up to two minutes.")
    open_ended = sla_services.outage_register(
        started_at=NOW + datetime.timedelta(days=20),
        kind="planned",
        responsibility="supplier",
        announced_at=NOW,
    )
    inside = outage(24 * 80, ended_hours_ago=24 * 80 - 1)
    post(inside, "EIGHTY-DAYS-AGO", now=NOW - datetime.timedelta(days=80) + datetime.timedelta(minutes=30))
    older = outage(24 * 100, ended_hours_ago=24 * 100 - 1)
    post(older, "HUNDRED-DAYS-AGO", now=NOW - datetime.timedelta(days=100) + datetime.timedelta(minutes=30))
    page = client.get(PAGE).content.decode()
    planned = page[page.index('id="planned"') : page.index('id="history"')]
    history = page[page.index('id="history"') :]
    assert "Platform upgrade: calls drop for up to two minutes." in planned
    assert "2026-12-03 12:00" in planned  # in Mariehamn
    assert "EIGHTY-DAYS-AGO" in history
    assert "HUNDRED-DAYS-AGO" not in page
    assert 'data-state="operational"' in page
    client.cookies["django_language"] = "en"
    planned = client.get(PAGE + "status.json").json()["planned"]
    assert [item["id"] for item in planned] == [ahead.pk, open_ended.pk]  # soonest first
    assert planned[0]["title"] == "Planned system work 2026-12-03 12:00–14:00 (Europe/Mariehamn)"
    assert planned[1]["title"] == "Planned system work from 2026-12-13 12:00 (Europe/Mariehamn)"


def test_the_page_speaks_the_terms_language_unless_the_visitor_chose_another(client, scene):
    assert '<html lang="sv">' in client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.cookies["django_language"] = "en"
    assert '<html lang="en">' in client.get(PAGE).content.decode()


def test_unknown_terms_are_not_found(client):
    assert client.get("/status/no-such-terms/").status_code == 404
    assert client.get("/status/no-such-terms/status.json").status_code == 404
    assert client.get("/status/no-such-terms/feed.atom").status_code == 404


def test_the_atom_feed_has_an_entry_per_outage_with_its_updates(client, scene):
    response = client.get(PAGE + "feed.atom")
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    entry = entries[0]
    assert entry.find(f"{ATOM}title").text.endswith(" 2026-11-23 10:00 (Europe/Mariehamn)")
    assert "Calls to the switchboard fail" in entry.find(f"{ATOM}summary").text
    assert entry.find(f"{ATOM}id").text.endswith(f"{PAGE}#outage-{scene['wide'].pk}")
    assert b"INTERNAL-NOTE" not in response.content and b"ALFA-ONLY" not in response.content


def test_the_json_gives_the_state_and_every_time_with_its_offset(client, scene, customer_a_user):
    body = client.get(PAGE + "status.json").json()
    assert body["state"] == "outage"
    assert body["terms"]["slug"] == "dstny-alcom-2022" and body["terms"]["timezone"] == "Europe/Mariehamn"
    assert [item["id"] for item in body["ongoing"]] == [scene["wide"].pk]
    assert body["planned"] == [] and body["recent"] == []
    item = body["ongoing"][0]
    assert item["started_at"] == "2026-11-23T10:00:00+02:00" and item["ended_at"] is None
    assert item["service_wide"] is True and item["your_contracts"] == []
    assert [(u["state"], u["text"]) for u in item["updates"]] == [
        ("investigating", "Calls to the switchboard fail; we are on it.")
    ]
    assert datetime.datetime.fromisoformat(item["updates"][0]["posted_at"]).utcoffset() == datetime.timedelta(hours=2)
    assert datetime.datetime.fromisoformat(body["generated_at"]) == NOW
    assert "description" not in item and b"INTERNAL-NOTE" not in client.get(PAGE + "status.json").content
    client.force_login(customer_a_user)
    own = client.get(PAGE + "status.json").json()
    assert {item["id"] for item in own["ongoing"]} == {scene["wide"].pk, scene["alfa"].pk}


def test_the_page_runs_the_same_queries_however_many_outages_and_updates(client, contract_a, customer_a_user):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(PAGE).status_code == 200
        return len(captured)

    post(outage(3), "One.")
    post(outage(2, contracts=[contract_a]), "Own.")
    anonymous_one = count()
    client.force_login(customer_a_user)
    customer_one = count()
    for hours in range(4, 12):
        item = outage(hours, contracts=[contract_a] if hours % 2 else [])
        for n in range(3):
            post(item, f"Update {n}.")
        sla_services.outage_update(outage=item, changes={"ended_at": NOW - datetime.timedelta(hours=hours % 3)})
    assert count() == customer_one
    client.logout()
    assert count() == anonymous_one


class TestUpdatesFromTheOutagePage:
    @pytest.fixture
    def customers(self, contract_a, customer_a, customer_b, contract_b, dstny):
        """Alfa (Swedish, Dstny) and Beta (English, Telia) with contracts active now; Gamma whose
        contract ended last year; each with a main contact person."""
        customer_b.language = "en"
        customer_b.save()
        gamma = CustomerFactory(name="Gamma Ab")
        ContractFactory(customer=gamma, terms=dstny, terminated_on=datetime.date(2025, 12, 31))
        for customer, address in (
            (customer_a, "anna@alfa.example"),
            (customer_b, "bo@beta.example"),
            (gamma, "gun@gamma.example"),
        ):
            ContactPersonFactory(customer=customer, email=address, is_primary=True)
        return {"alfa": customer_a, "beta": customer_b, "gamma": gamma}

    def test_staff_post_an_update_that_shows_on_the_status_page(self, staff_client, client, customers):
        wide = outage(1)
        response = staff_client.post(
            f"/desk/sla/outages/{wide.pk}/updates/", {"text": "  Fixed; we are watching it.  ", "state": "monitoring"}
        )
        assert response.status_code == 302
        update = OutageUpdate.objects.get()
        assert (update.text, update.state, update.notify_customers) == (
            "Fixed; we are watching it.",
            "monitoring",
            False,
        )
        assert not OutageUpdateMail.objects.exists()
        assert "Fixed; we are watching it." in staff_client.get(f"/desk/sla/outages/{wide.pk}/").content.decode()
        client.logout()
        assert "Fixed; we are watching it." in client.get(PAGE).content.decode()

    def test_a_service_wide_update_is_mailed_once_to_each_customer_with_an_active_contract_of_that_service(
        self, staff_client, customers, django_capture_on_commit_callbacks
    ):
        dstny_wide, telia_wide = outage(1), outage(1, service="telia-smart-connect")
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            for wide in (dstny_wide, telia_wide):
                response = staff_client.post(
                    f"/desk/sla/outages/{wide.pk}/updates/", {"text": "Calls fail; we are on it.", "notify": "on"}
                )
                assert response.status_code == 302
        assert len(callbacks) == 2
        rows = OutageUpdateMail.objects.order_by("customer__name")
        # Gamma's contract has ended; each active customer hears of its own service's outage only.
        assert [(row.customer, row.update.outage) for row in rows] == [
            (customers["alfa"], dstny_wide),
            (customers["beta"], telia_wide),
        ]
        assert tasks.send_outage_update_mails([row.pk for row in rows]) == 2
        assert tasks.send_pending_outage_update_mails() == 0
        assert tasks.send_outage_update_mails([row.pk for row in rows]) == 0
        sent = {tuple(message.to): message for message in mail.outbox}
        assert set(sent) == {("anna@alfa.example",), ("bo@beta.example",)}
        assert "Calls fail; we are on it." in sent[("bo@beta.example",)].body
        assert "Outage since 2026-11-23" in sent[("bo@beta.example",)].subject  # Beta reads English
        assert "(Europe/Stockholm)" in sent[("bo@beta.example",)].body  # in the zone of Beta's terms
        assert "/status/telia-smart-connect/" in sent[("bo@beta.example",)].body
        assert "(Europe/Mariehamn)" in sent[("anna@alfa.example",)].body
        assert "INTERNAL-NOTE" not in sent[("anna@alfa.example",)].body
        assert all(row.sent_at == NOW for row in OutageUpdateMail.objects.all())

    def test_an_update_of_one_customers_outage_reaches_only_that_customer(self, customers, contract_a):
        own = outage(1, contracts=[contract_a])
        with_mail = post(own, "Your trunk is back.", notify=True)
        assert list(with_mail.mails.values_list("customer", flat=True)) == [customers["alfa"].pk]
        assert outage_mail.send_pending() == 1
        assert [message.to for message in mail.outbox] == [["anna@alfa.example"]]

    def test_a_claimed_email_is_not_sent_by_a_second_worker(self, customers, contract_a):
        row = post(outage(1, contracts=[contract_a]), "Update.", notify=True).mails.get()
        OutageUpdateMail.objects.filter(pk=row.pk).update(claimed_at=NOW)  # another worker is sending it
        assert outage_mail.send(row.pk) is False and mail.outbox == []
        # A claim older than the lease was a worker that died mid-send: it is sent again.
        assert outage_mail.send(row.pk, now=NOW + claim_lease() * 2) is True

    def test_a_customer_without_an_address_is_recorded_not_retried_and_shown_to_staff(
        self, contract_a, customer_a, staff_client
    ):
        item = outage(1, contracts=[contract_a])
        row = post(item, "Update.", notify=True).mails.get()
        assert outage_mail.send(row.pk) is False
        row.refresh_from_db()
        assert row.failed_at == NOW and "No e-mail address" in row.last_error
        assert outage_mail.send_pending() == 0 and mail.outbox == []
        shown = staff_client.get(f"/desk/sla/outages/{item.pk}/").content.decode()
        assert "E-mails: 0 sent, 0 waiting" in shown and "not sent to Alfa Ab: No e-mail address" in shown

    def test_a_refused_mail_server_leaves_it_for_the_sweep(self, customers, contract_a, settings):
        row = post(outage(1, contracts=[contract_a]), "Update.", notify=True).mails.get()
        settings.EMAIL_BACKEND = "tests.mail_backends.RefusingBackend"
        assert outage_mail.send(row.pk) is False
        row.refresh_from_db()
        assert row.sent_at is None and row.failed_at is None and row.last_error
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        assert outage_mail.send_pending(now=NOW + datetime.timedelta(minutes=5)) == 1

    @pytest.mark.parametrize(
        ("data", "error"),
        [
            ({"text": "   "}, "Write the update"),
            ({"text": "x" * 4001}, "within 4000 characters"),
            ({"text": "Hi.", "state": "exploded"}, "Select a valid choice"),
        ],
    )
    def test_bad_input_is_refused_with_its_reason_and_nothing_is_posted(self, staff_client, customers, data, error):
        wide = outage(1)
        response = staff_client.post(f"/desk/sla/outages/{wide.pk}/updates/", {**data, "notify": "on"})
        assert response.status_code == 400 and error in response.content.decode()
        assert not OutageUpdate.objects.exists() and not OutageUpdateMail.objects.exists()

    def test_an_outage_that_is_over_takes_no_update(self, staff_client, customers):
        over = outage(3, ended_hours_ago=1)
        with translation.override("en"), pytest.raises(ValidationError, match="The outage is over"):
            post(over, "Late word.")
        response = staff_client.post(f"/desk/sla/outages/{over.pk}/updates/", {"text": "Late word."})
        assert response.status_code == 400 and "The outage is over" in response.content.decode()
        assert not OutageUpdate.objects.exists()

    def test_planned_work_ahead_takes_updates(self, customers):
        ahead = sla_services.outage_register(
            started_at=NOW + datetime.timedelta(days=3),
            kind="planned",
            responsibility="supplier",
            announced_at=NOW,
            service="dstny-alcom-2022",
        )
        assert post(ahead, "The work starts at 22:00.").outage == ahead

    def test_customers_cannot_post_updates(self, client, customers, contract_a):
        user = CustomerUserFactory(customer=customers["alfa"])
        client.force_login(user)
        wide = outage(1)
        response = client.post(f"/desk/sla/outages/{wide.pk}/updates/", {"text": "Hacked."})
        assert response.status_code in (302, 403)
        assert not OutageUpdate.objects.exists()


def test_the_page_leaves_the_next_request_in_the_desks_own_zone_and_language(client, scene, settings):
    client.get(PAGE)
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE
    response = client.get(PAGE + "status.json", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "sv"


def test_the_terms_carry_their_status_page_address(staff_api, dstny, telia):
    telia.status_page_url = "https://status.telia.example/"
    telia.save()
    assert dstny.status_page_address == PAGE
    body = staff_api.get(f"/api/terms/{dstny.pk}/").json()
    assert body["status_page"] == "http://testserver" + PAGE and body["language"] == "sv"
    assert staff_api.get(f"/api/terms/{telia.pk}/").json()["status_page"] == "https://status.telia.example/"


def test_customers_and_staff_find_the_status_page(client, customer_a_user, contract_a, staff_user):
    client.force_login(customer_a_user)
    assert f'href="{PAGE}"' in client.get("/portal/").content.decode()
    client.force_login(staff_user)
    board = client.get("/desk/sla/").content.decode()
    assert f'href="{PAGE}"' in board and 'href="/status/telia-smart-connect/"' in board


def test_the_outage_page_runs_the_same_queries_however_many_updates_and_emails(staff_client, contract_a, dstny):
    def count(item) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(f"/desk/sla/outages/{item.pk}/").status_code == 200
        return len(captured)

    item = outage(1)
    post(item, "One.", notify=True)
    one = count(item)
    for n in range(4):
        ContractFactory(customer=CustomerFactory(), terms=dstny)
        post(item, f"More {n}.", notify=True)
    assert count(item) == one
