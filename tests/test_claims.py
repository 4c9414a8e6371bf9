"""Claims (D §20) with the damages cap (D §19.2–19.3)."""

import datetime

import pytest
import time_machine

from sla import reports
from sla.models import Claim
from tickets import services
from tickets.models import Channel

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ticket_a(contract_a, customer_a_user):
    return services.ticket_create(
        contract=contract_a, reported_by=customer_a_user, channel=Channel.WEB, a_number="018 12345",
        b_number="040 123 4567", fault_occurred_at=NOW - datetime.timedelta(days=48), description="Nere",
        received_at=NOW - datetime.timedelta(days=48), now=NOW - datetime.timedelta(days=48),
    )


def file(client, contract, ticket_list, **overrides):
    payload = {
        "contract": contract.pk,
        "tickets": [t.number for t in ticket_list],
        "discovered_on": "2026-11-02",
        "month": "2026-10",
        "description": "Växeln låg nere i två och en halv timme den 6 oktober.",
    }
    payload.update(overrides)
    return client.post("/api/claims/", payload, format="json")


def test_a_customer_files_a_claim_within_the_month_and_staff_decide(customer_a_api, staff_api, contract_a, ticket_a):
    response = file(customer_a_api, contract_a, [ticket_a])
    assert response.status_code == 201, response.json()
    claim = response.json()
    assert claim["deadline"] == "2026-12-02" and claim["status"] == "submitted"
    # 25 % of 12 × 100.00 = 300.00, nothing given yet for October.
    assert claim["damages_cap"] == {"cap": "300.00", "annual_fees": "1200.00", "discounts_given": "0.00", "currency": "EUR"}
    decided = staff_api.post(f"/api/claims/{claim['id']}/decide/", {"accept": True, "note": "Bekräftat i loggarna."}, format="json")
    assert decided.json()["status"] == "accepted"
    again = staff_api.post(f"/api/claims/{claim['id']}/decide/", {"accept": False, "note": "x"}, format="json")
    assert again.status_code == 400


def test_the_cap_is_reduced_by_discounts_already_given_for_the_month(customer_a_api, staff_api, contract_a, ticket_a):
    staff_api.post("/api/outages/", {
        "contracts": [contract_a.pk], "started_at": "2026-10-06T10:00:00+03:00", "ended_at": "2026-10-06T12:30:00+03:00",
        "kind": "unplanned", "responsibility": "supplier",
    }, format="json")
    reports.store_month(2026, 10)  # 10 % of 100.00 given as a discount
    claim = file(customer_a_api, contract_a, [ticket_a]).json()
    assert claim["damages_cap"]["discounts_given"] == "10.00" and claim["damages_cap"]["cap"] == "290.00"


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"discovered_on": "2026-10-20"}, "discovered_on", "had to be made by 2026-11-20 (D §20.1)"),
        ({"tickets": []}, "tickets", "D §20.2"),
        ({"discovered_on": "2026-12-01"}, "discovered_on", "future"),
        ({"description": ""}, "description", ""),
        ({"month": "10/2026"}, "month", "YYYY-MM"),
    ],
)
def test_a_late_or_incomplete_claim_is_refused_with_the_reason(customer_a_api, contract_a, ticket_a, overrides, field, fragment):
    response = file(customer_a_api, contract_a, [ticket_a], **overrides)
    assert response.status_code == 400
    assert any(fragment in m for m in response.json()[field]), response.json()
    assert not Claim.objects.exists()


def test_another_customers_contract_or_ticket_cannot_be_claimed(customer_a_api, staff_api, contract_a, contract_b, ticket_a):
    other = services.ticket_create(
        contract=contract_b, channel=Channel.PHONE, a_number="070-123 45 67", b_number="070-765 43 21",
        fault_occurred_at=NOW - datetime.timedelta(days=3), description="x",
    )
    assert file(customer_a_api, contract_b, [ticket_a]).status_code == 400
    assert "tickets" in file(customer_a_api, contract_a, [other]).json()
    assert customer_a_api.post("/api/claims/1/decide/", {"accept": True, "note": "x"}, format="json").status_code in (403, 404)
    assert not Claim.objects.exists()


def test_claims_through_the_pages(client, customer_a_user, staff_user, contract_a, ticket_a):
    client.force_login(customer_a_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    late = client.post("/portal/claims/", {"contract": contract_a.pk, "month": "2026-10", "discovered_on": "2026-10-01",
                                           "tickets": ticket_a.number, "description": "Nere"})
    assert "had to be made by 2026-11-01" in late.content.decode() and not Claim.objects.exists()
    response = client.post("/portal/claims/", {"contract": contract_a.pk, "month": "2026-10", "discovered_on": "2026-11-10",
                                               "tickets": ticket_a.number.lower(), "description": "Nere"})
    assert response.status_code == 302
    client.force_login(staff_user)
    page = client.get("/desk/claims/").content.decode()
    assert "300.00 EUR" in page and ticket_a.number in page
    client.post("/desk/claims/", {"claim": Claim.objects.get().pk, "decision": "reject", "note": "Kundens brandvägg."})
    assert Claim.objects.get().status == "rejected"
