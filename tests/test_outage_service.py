"""An outage belongs to one service: a service-wide outage concerns every active contract of that
service (every version of its terms) and no other, in availability, discounts, billing, claims
and the status pages."""

import csv
import datetime
import importlib
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps

from sla import reports
from sla.models import Outage
from tests.factories import ContractFactory, CustomerFactory, CustomerUserFactory

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
NOW = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)
DSTNY, TELIA = "dstny-alcom-2022", "telia-smart-connect"


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def register(api, **fields):
    """A Dstny platform fault of ten hours on 6 October (10:00–20:00 in Åland)."""
    payload = {
        "contracts": [],
        "started_at": datetime.datetime(2026, 10, 6, 10, 0, tzinfo=MARIEHAMN).isoformat(),
        "ended_at": datetime.datetime(2026, 10, 6, 20, 0, tzinfo=MARIEHAMN).isoformat(),
        "kind": "unplanned",
        "responsibility": "supplier",
        "description": "Dstny platform",
        **fields,
    }
    return api.post("/api/outages/", payload, format="json")


def availability(api, contract):
    response = api.get(f"/api/contracts/{contract.pk}/availability/?month=2026-10")
    assert response.status_code == 200
    return response.json()


def test_a_service_wide_outage_counts_against_its_own_services_contracts_only(staff_api, contract_a, contract_b):
    response = register(staff_api, service=DSTNY)
    assert response.status_code == 201, response.json()
    assert (response.json()["service"], response.json()["service_wide"]) == (DSTNY, True)
    dstny, telia = availability(staff_api, contract_a), availability(staff_api, contract_b)
    assert dstny["unavailable_minutes"] == "600.0000" and dstny["discount_percent"] != "0.00"
    assert (telia["unavailable_minutes"], telia["availability_percent"], telia["outages"]) == ("0.0000", "100.0000", [])


def test_the_status_pages_show_a_service_wide_outage_on_its_own_service_only(client, staff_api, contract_a, contract_b):
    with time_machine.travel(datetime.datetime(2026, 10, 6, 12, 0, tzinfo=MARIEHAMN), tick=False):
        assert register(staff_api, service=DSTNY, ended_at=None).status_code == 201
        dstny = client.get(f"/status/{DSTNY}/")
        telia = client.get(f"/status/{TELIA}/")
    assert 'data-state="outage"' in dstny.content.decode()
    assert 'data-state="operational"' in telia.content.decode()


def test_the_billing_csv_gives_the_discount_to_the_services_contracts_only(
    staff_client, staff_api, contract_a, contract_b
):
    assert register(staff_api, service=DSTNY).status_code == 201
    assert staff_client.post("/desk/sla/billing/", {"month": "2026-10"}).status_code == 302
    response = staff_client.get("/desk/sla/export.csv?month=2026-10")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8")[1:])))
    by_contract = {row["contract"]: row for row in rows}
    assert by_contract[str(contract_a.pk)]["discount %"] != "0.00"
    assert by_contract[str(contract_b.pk)]["discount %"] == "0.00"
    assert by_contract[str(contract_b.pk)]["availability %"] == "100.0000"


def test_a_claim_cannot_cite_another_services_outage(staff_api, contract_a, contract_b, customer_b):
    from rest_framework.test import APIClient

    outage_id = register(staff_api, service=DSTNY).json()["id"]
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(CustomerUserFactory(customer=customer_b))
    response = client.post(
        "/api/claims/",
        {
            "contract": contract_b.pk,
            "kind": "damages",
            "amount": "100.00",
            "outage": outage_id,
            "discovered_on": "2026-11-02",
            "description": "Dstny's outage is not ours.",
        },
        format="json",
    )
    assert response.status_code == 400 and "outage" in response.json()


def test_without_a_service_a_desk_of_two_services_is_asked_which_and_nothing_is_stored(
    staff_api, contract_a, contract_b
):
    response = register(staff_api)
    assert response.status_code == 400
    assert "dstny-alcom-2022, telia-smart-connect" in response.json()["service"][0]
    assert register(staff_api, service="no-such-service").json()["service"][0].startswith("No service is called")
    both = register(staff_api, contracts=[contract_a.pk, contract_b.pk])
    assert both.status_code == 400 and "one service" in both.json()["contracts"][0]
    named_wrong = register(staff_api, contracts=[contract_b.pk], service=DSTNY)
    assert named_wrong.status_code == 400 and TELIA in named_wrong.json()["service"][0]
    assert not Outage.objects.exists()


def test_a_desk_of_one_service_needs_not_name_it(staff_api, contract_a):
    response = register(staff_api)
    assert response.status_code == 201 and response.json()["service"] == DSTNY
    own = register(staff_api, contracts=[contract_a.pk])
    assert own.status_code == 201 and (own.json()["service"], own.json()["service_wide"]) == (DSTNY, False)


def test_the_migration_places_old_service_wide_outages_and_names_those_it_cannot(
    capsys, contract_a, contract_b, staff_api
):
    from tests.factories import fault_report

    by_ticket, alone = (
        Outage.objects.create(
            service_wide=True,
            started_at=datetime.datetime(2026, 10, day, 8, 0, tzinfo=datetime.UTC),
            ended_at=datetime.datetime(2026, 10, day, 9, 0, tzinfo=datetime.UTC),
            kind="unplanned",
            responsibility="supplier",
            description=f"old outage {day}",
        )
        for day in (6, 7)
    )
    by_ticket.tickets.set([fault_report(contract_b, a_number="070-123 45 67", b_number="070-765 43 21")])
    migration = importlib.import_module("sla.migrations.0008_outage_service")
    migration.place(apps, None)
    by_ticket.refresh_from_db()
    alone.refresh_from_db()
    assert (by_ticket.service, alone.service) == (TELIA, "")
    printed = capsys.readouterr().out
    assert f"outage {alone.pk}, started 2026-10-07 08:00 UTC: 'old outage 7'" in printed
    assert f"outage {by_ticket.pk}," not in printed
    # Unplaced, it still counts against every service (as before) until staff choose one.
    assert availability(staff_api, contract_a)["unavailable_minutes"] == "60.0000"
    assert availability(staff_api, contract_b)["unavailable_minutes"] == "120.0000"
    response = staff_api.patch(f"/api/outages/{alone.pk}/", {"service": DSTNY}, format="json")
    assert response.status_code == 200 and response.json()["service"] == DSTNY
    assert availability(staff_api, contract_b)["unavailable_minutes"] == "60.0000"


def test_reports_of_other_services_are_not_marked_stale(staff_api, contract_a, contract_b):
    reports.store_month(2026, 10)
    assert register(staff_api, service=DSTNY).status_code == 201
    stale = dict(apps.get_model("sla", "MonthlyReport").objects.values_list("contract_id", "stale"))
    assert stale == {contract_a.pk: True, contract_b.pk: False}


def test_every_version_of_the_services_terms_is_hit(staff_api, contract_a, dstny):
    from contracts import services as contract_services

    # A contract signed under a newer version of the Dstny terms is of the same service.
    newer = contract_services.terms_revise(
        terms=dstny,
        changes={"name": dstny.name + " (rev.)"},
        effective_from=datetime.date(2026, 9, 1),
        today=datetime.date(2026, 1, 1),
    )
    assert newer.pk != dstny.pk and newer.slug == dstny.slug
    later = ContractFactory(customer=CustomerFactory(), terms=newer)
    assert register(staff_api, service=DSTNY).status_code == 201
    assert availability(staff_api, later)["unavailable_minutes"] == "600.0000"
    assert availability(staff_api, contract_a)["unavailable_minutes"] == "600.0000"
