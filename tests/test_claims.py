"""Claims (D §20) with amounts, the claim window from when the circumstance was or should have
been discovered, and the damages cap read from the fee history (D §19.2–19.4)."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from contracts.models import ContractFee
from sla import claims, reports
from sla import services as sla_services
from sla.models import Claim
from tickets import services
from tickets.models import Channel

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
NOW = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def ticket_for(contract, reporter=None, *, days_ago=48):
    when = NOW - datetime.timedelta(days=days_ago)
    # Numbers of the terms' country: Åland for Dstny, Sweden for Telia.
    swedish = not contract.terms.slug.startswith("dstny")
    return services.ticket_create(
        contract=contract,
        reported_by=reporter,
        channel=Channel.WEB,
        a_number="070-123 45 67" if swedish else "018 12345",
        b_number="070-765 43 21" if swedish else "040 123 4567",
        fault_occurred_at=when,
        description="Nere",
        received_at=when,
        now=when,
    )


@pytest.fixture
def ticket_a(contract_a, customer_a_user):
    return ticket_for(contract_a, customer_a_user)


def at(*args):
    return datetime.datetime(*args, tzinfo=MARIEHAMN)


def outage_for(staff_api, contract, start, end):
    response = staff_api.post(
        "/api/outages/",
        {
            "contracts": [contract.pk],
            "started_at": start.isoformat(),
            "ended_at": end.isoformat(),
            "kind": "unplanned",
            "responsibility": "supplier",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def file(client, contract, ticket_list, **overrides):
    payload = {
        "contract": contract.pk,
        "kind": "discount",
        "amount": "5.00",
        "tickets": [t.number for t in ticket_list],
        "discovered_on": "2026-11-02",
        "month": "2026-10",
        "description": "Växeln låg nere den 6 oktober.",
    }
    payload.update(overrides)
    return client.post("/api/claims/", payload, format="json")


def test_a_customer_files_a_claim_and_staff_accept_part_of_it(customer_a_api, staff_api, contract_a, ticket_a):
    response = file(customer_a_api, contract_a, [ticket_a], amount="20.00")
    assert response.status_code == 201, response.json()
    claim = response.json()
    # October earned no discount: the month could be seen whole on 1 November (D §20.1).
    assert (claim["window_from"], claim["deadline"]) == ("2026-11-01", "2026-12-01")
    assert (claim["amount"], claim["currency"], claim["status"]) == ("20.00", "EUR", "submitted")
    too_much = staff_api.post(
        f"/api/claims/{claim['id']}/decide/", {"accept": True, "note": "x", "granted_amount": "25.00"}, format="json"
    )
    assert too_much.status_code == 400 and "at most the 20.00 claimed" in too_much.json()["granted_amount"][0]
    decided = staff_api.post(
        f"/api/claims/{claim['id']}/decide/",
        {"accept": True, "note": "Bekräftat i loggarna.", "granted_amount": "12.50"},
        format="json",
    )
    assert decided.json()["status"] == "accepted" and decided.json()["granted_amount"] == "12.50"
    again = staff_api.post(f"/api/claims/{claim['id']}/decide/", {"accept": False, "note": "x"}, format="json")
    assert again.status_code == 400


class TestClaimWindow:
    """D §20.1: within one month of the day the circumstance was discovered or should have been."""

    def test_d20_1_a_months_discount_is_claimed_within_a_month_of_when_it_arose(
        self, customer_a_api, staff_api, contract_a, ticket_a, frozen_now
    ):
        outage_for(staff_api, contract_a, at(2026, 10, 6, 10, 0), at(2026, 10, 6, 12, 30))  # 10 %
        late = file(customer_a_api, contract_a, [ticket_a], discovered_on="2026-11-20")
        assert late.status_code == 400
        assert late.json()["discovered_on"] == [
            "Too late: the circumstance was or should have been discovered on 2026-10-06, so a claim had to be "
            "made by 2026-11-06 (D §20.1)."
        ]
        frozen_now.move_to(datetime.datetime(2026, 11, 6, 12, tzinfo=datetime.UTC))
        in_time = file(customer_a_api, contract_a, [ticket_a], discovered_on="2026-11-05", amount="10.00")
        assert in_time.status_code == 201, in_time.json()
        assert in_time.json()["window_from"] == "2026-10-06"

    def test_d20_1_a_recent_discovery_date_does_not_revive_a_200_day_old_ticket(
        self, customer_a_api, staff_api, contract_a, customer_a_user
    ):
        old = ticket_for(contract_a, customer_a_user, days_ago=200)
        response = file(
            customer_a_api, contract_a, [old], kind="damages", month=None, amount="500.00", discovered_on="2026-11-22"
        )
        assert response.status_code == 400
        assert "name the outage or the month" in response.json()["outage"][0].lower()
        outage_id = outage_for(staff_api, contract_a, at(2026, 11, 20, 9, 0), at(2026, 11, 20, 10, 0))
        response = file(
            customer_a_api,
            contract_a,
            [old],
            kind="damages",
            month=None,
            outage=outage_id,
            amount="500.00",
            discovered_on="2026-11-22",
        )
        assert response.status_code == 400
        assert (
            "discovered on 2026-05-07, so a claim had to be made by 2026-06-07" in response.json()["discovered_on"][0]
        )
        assert not Claim.objects.exists()

    @pytest.mark.parametrize(
        ("overrides", "field", "fragment"),
        [
            ({"tickets": []}, "tickets", "D §20.2"),
            ({"discovered_on": "2026-12-01"}, "discovered_on", "future"),
            ({"description": ""}, "description", ""),
            ({"month": "10/2026"}, "month", "YYYY-MM"),
            ({"month": None}, "month", "claimed for a month"),
            ({"amount": "0.00"}, "amount", "above zero"),
            ({"amount": None}, "amount", ""),
            ({"kind": "everything"}, "kind", ""),
        ],
    )
    def test_an_incomplete_claim_is_refused_on_the_field(
        self, customer_a_api, contract_a, ticket_a, overrides, field, fragment
    ):
        response = file(customer_a_api, contract_a, [ticket_a], **overrides)
        assert response.status_code == 400
        assert any(fragment in m for m in response.json()[field]), response.json()
        assert not Claim.objects.exists()


def test_another_customers_contract_ticket_or_outage_cannot_be_claimed(
    customer_a_api, staff_api, contract_a, contract_b, ticket_a
):
    other = services.ticket_create(
        contract=contract_b,
        channel=Channel.PHONE,
        a_number="070-123 45 67",
        b_number="070-765 43 21",
        fault_occurred_at=NOW - datetime.timedelta(days=3),
        description="x",
    )
    their_outage = outage_for(staff_api, contract_b, at(2026, 11, 20, 9, 0), at(2026, 11, 20, 10, 0))
    assert file(customer_a_api, contract_b, [ticket_a]).status_code == 400
    assert "tickets" in file(customer_a_api, contract_a, [other]).json()
    assert "outage" in file(customer_a_api, contract_a, [ticket_a], kind="damages", outage=their_outage).json()
    assert customer_a_api.post("/api/claims/1/decide/", {"accept": True, "note": "x"}, format="json").status_code in (
        403,
        404,
    )
    assert not Claim.objects.exists()


class TestDamagesCap:
    """D §19.2–19.4, with the fees read from the contract's fee history."""

    def damages(self, api, contract, ticket, outage_id, amount, discovered_on="2026-11-20"):
        response = file(
            api,
            contract,
            [ticket],
            kind="damages",
            month=None,
            outage=outage_id,
            amount=amount,
            discovered_on=discovered_on,
        )
        assert response.status_code == 201, response.json()
        return response.json()

    @pytest.fixture
    def outage_oct_6(self, staff_api, contract_a):
        return outage_for(staff_api, contract_a, at(2026, 10, 6, 10, 0), at(2026, 10, 6, 12, 30))

    @pytest.fixture
    def outage_nov_6(self, staff_api, contract_a):
        return outage_for(staff_api, contract_a, at(2026, 11, 6, 10, 0), at(2026, 11, 6, 11, 0))

    @pytest.fixture
    def recent_ticket(self, contract_a, customer_a_user):
        return ticket_for(contract_a, customer_a_user, days_ago=10)

    def test_d19_2_a_quarter_of_the_fees_paid_over_the_twelve_months_before_the_event(
        self, customer_a_api, contract_a, recent_ticket, outage_nov_6
    ):
        # 100.00 a month since delivery (15 April 2025), 200.00 from 1 June 2026. The twelve months
        # before the outage of 6 November 2026: 25/30 × 100 + 6 × 100 + 5 × 200 + 5/30 × 200 = 1716.67.
        ContractFee.objects.create(
            contract=contract_a, effective_from=datetime.date(2026, 6, 1), monthly_fee=Decimal("200.00")
        )
        claim = self.damages(customer_a_api, contract_a, recent_ticket, outage_nov_6, "900.00")
        assert claim["damages_cap"]["applies"] is True and claim["damages_cap"]["currency"] == "EUR"
        assert claim["damages_cap"]["annual_fees"] == "1716.67"
        assert claim["damages_cap"]["total"] == "429.17" and claim["damages_cap"]["cap"] == "429.17"

    def test_d19_2_a_younger_service_counts_twelve_times_its_monthly_average(
        self, customer_a_api, staff_api, customer_a, dstny, customer_a_user
    ):
        from tests.factories import ContractFactory

        young = ContractFactory(
            customer=customer_a,
            terms=dstny,
            signed_on=datetime.date(2026, 6, 20),
            delivered_on=datetime.date(2026, 7, 1),
            monthly_fee=Decimal("100.00"),
        )
        ContractFee.objects.create(
            contract=young, effective_from=datetime.date(2026, 9, 1), monthly_fee=Decimal("160.00")
        )
        outage_id = outage_for(staff_api, young, at(2026, 11, 6, 10, 0), at(2026, 11, 6, 12, 0))
        # Paid 2 × 100 + 2 × 160 + 5/30 × 160 = 546.67 over 4 1/6 months: 12 × that average = 1574.40.
        claim = self.damages(
            customer_a_api, young, ticket_for(young, customer_a_user, days_ago=10), outage_id, "100.00"
        )
        assert claim["damages_cap"]["annual_fees"] == "1574.40"
        assert claim["damages_cap"]["total"] == "393.60"

    def test_d19_2_the_cap_is_an_aggregate_and_d19_4_a_claim_outside_it(
        self, customer_a_api, staff_api, staff_user, contract_a, recent_ticket, outage_nov_6
    ):
        # 100.00 a month: 1200.00 a year, a cap of 300.00.
        first = self.damages(customer_a_api, contract_a, recent_ticket, outage_nov_6, "250.00")
        claims.claim_decide(claim=Claim.objects.get(pk=first["id"]), accept=True, note="OK", actor=staff_user)
        second = self.damages(customer_a_api, contract_a, recent_ticket, outage_nov_6, "200.00")
        assert second["damages_cap"]["granted_before"] == "250.00" and second["damages_cap"]["cap"] == "50.00"
        refused = staff_api.post(f"/api/claims/{second['id']}/decide/", {"accept": True, "note": "x"}, format="json")
        assert refused.status_code == 400
        assert "The damages cap leaves 50.00 EUR" in refused.json()["granted_amount"][0]
        outside = staff_api.post(
            f"/api/claims/{second['id']}/decide/",
            {"accept": True, "note": "Grov vårdslöshet vid uppgraderingen.", "outside_cap": "intent"},
            format="json",
        )
        assert outside.status_code == 200, outside.json()
        assert outside.json()["granted_amount"] == "200.00" and outside.json()["damages_cap"]["applies"] is False

    def test_d19_3_discounts_given_for_the_same_event_reduce_the_cap(
        self, customer_a_api, staff_api, staff_user, contract_a, recent_ticket, outage_oct_6, frozen_now
    ):
        frozen_now.move_to(datetime.datetime(2026, 11, 2, 12, tzinfo=datetime.UTC))
        reports.store_month(2026, 10)  # 150 minutes: 10 % of 100.00
        discount = file(customer_a_api, contract_a, [recent_ticket], amount="10.00", discovered_on="2026-11-01").json()
        claims.claim_decide(
            claim=Claim.objects.get(pk=discount["id"]), accept=True, note="Enligt rapporten", actor=staff_user
        )
        damages = self.damages(
            customer_a_api, contract_a, recent_ticket, outage_oct_6, "100.00", discovered_on="2026-11-01"
        )
        assert damages["damages_cap"]["discounts_given"] == "10.00"
        assert damages["damages_cap"]["cap"] == "290.00"


def test_claims_through_the_pages(client, customer_a_user, staff_user, contract_a, ticket_a):
    client.force_login(customer_a_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    form = {
        "contract": contract_a.pk,
        "kind": "discount",
        "month": "2026-10",
        "amount": "5.00",
        "tickets": ticket_a.number.lower(),
        "description": "Nere",
    }
    future = client.post("/portal/claims/", {**form, "discovered_on": "2026-12-01"})
    assert "cannot be in the future" in future.content.decode() and not Claim.objects.exists()
    response = client.post("/portal/claims/", {**form, "discovered_on": "2026-11-10"})
    assert response.status_code == 302
    assert "5.00 EUR" in client.get("/portal/claims/").content.decode()
    from sla import services as sla_services

    outage = sla_services.outage_register(
        started_at=at(2026, 11, 20, 9, 0),
        ended_at=at(2026, 11, 20, 10, 0),
        kind="unplanned",
        responsibility="supplier",
        contracts=[contract_a],
    )
    recent = ticket_for(contract_a, customer_a_user, days_ago=3)
    damages = client.post(
        "/portal/claims/",
        {
            **form,
            "kind": "damages",
            "month": "",
            "outage": outage.pk,
            "tickets": recent.number,
            "amount": "400.00",
            "discovered_on": "2026-11-20",
        },
    )
    assert damages.status_code == 302
    client.force_login(staff_user)
    page = client.get("/desk/claims/").content.decode()
    assert page.count("Damages cap") == 1 and "300.00 EUR left" in page and ticket_a.number in page
    too_much = client.post(
        "/desk/claims/",
        {"claim": Claim.objects.get(kind="damages").pk, "decision": "accept", "note": "OK", "granted_amount": "400,00"},
        follow=True,
    )
    assert "The damages cap leaves 300.00 EUR" in too_much.content.decode()
    client.post(
        "/desk/claims/",
        {"claim": Claim.objects.get(kind="discount").pk, "decision": "reject", "note": "Kundens brandvägg."},
    )
    assert Claim.objects.get(kind="discount").status == "rejected"
    for wrong in ("1e309", "abc", "²", "9" * 19):
        refused = client.post(
            "/desk/claims/", {"claim": wrong, "decision": "accept", "note": "x"}, HTTP_ACCEPT_LANGUAGE="en"
        )
        assert (
            refused.status_code == 400
            and refused.content.decode().strip() == "The field claim must be a claim's number."
        )
    assert client.post("/desk/claims/", {"claim": "999999", "decision": "accept", "note": "x"}).status_code == 404


def claims_of_every_kind(customer, terms, reporter=None):
    """A contract with a claim of each kind and state the claim pages show: damages for an outage
    across the month's turn (one granted within the cap, one outside it), damages for an outage
    going on (open), a discount rejected, and a deduction claimed for a delivery still awaited."""
    from tests.factories import ContractFactory

    contract = ContractFactory(customer=customer, terms=terms, monthly_fee=Decimal("300.00"))
    awaited = ContractFactory(customer=customer, terms=terms, signed_on=datetime.date(2026, 8, 10), delivered_on=None)
    ticket = ticket_for(contract, reporter, days_ago=3)
    over = sla_services.outage_register(
        started_at=at(2026, 10, 31, 9, 0),
        ended_at=at(2026, 11, 20, 20, 0),
        kind="unplanned",
        responsibility="supplier",
        contracts=[contract],
        tickets=[ticket],
    )
    going_on = sla_services.outage_register(
        started_at=NOW - datetime.timedelta(hours=5), kind="unplanned", responsibility="supplier", contracts=[contract]
    )
    facts = {"discovered_on": NOW.date(), "description": "Nere", "tickets": [ticket], "amount": Decimal("10.00")}
    granted, outside, _open, rejected = (
        claims.claim_file(contract=contract, kind="damages", outage=over, **facts),
        claims.claim_file(contract=contract, kind="damages", outage=over, **facts),
        claims.claim_file(contract=contract, kind="damages", outage=going_on, **facts),
        claims.claim_file(contract=contract, kind="discount", month=datetime.date(2026, 11, 1), **facts),
    )
    claims.claim_file(
        contract=awaited, kind="delivery", **{**facts, "tickets": [ticket_for(awaited, reporter, days_ago=2)]}
    )
    claims.claim_decide(claim=granted, accept=True, note="Ja", granted_amount=Decimal("5.00"), actor=None)
    claims.claim_decide(claim=outside, accept=True, note="Ja", outside_cap="intent", actor=None)
    claims.claim_decide(claim=rejected, accept=False, note="Nej", actor=None)


def test_the_claim_pages_and_the_api_list_read_as_many_queries_for_five_claims_as_for_thirty_five(
    client, staff_api, staff_user, customer_a, dstny, telia, customer_a_user
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from contracts import services as contract_services
    from tests.factories import CustomerFactory

    def count(path, api=False):
        with CaptureQueriesContext(connection) as captured:
            response = staff_api.get(path) if api else client.get(path)
            assert response.status_code == 200
        return len(captured), response

    def counts():
        client.force_login(staff_user)
        (desk, page), (api, listed) = count("/desk/claims/"), count("/api/claims/", api=True)
        client.force_login(customer_a_user)
        portal, own = count("/portal/claims/")
        shown = (
            page.content.decode().count('<section class="card">'),
            own.content.decode().count('<td class="num">'),
            listed.json()["count"],
        )
        return (desk, portal, api), shown

    claims_of_every_kind(customer_a, dstny, customer_a_user)
    reports.store_month(2026, 10)  # October's stored discounts count against the damages cap (D §19.3)
    # The portal reads its contracts' terms once more: the clauses its claim form cites.
    assert counts() == ((10, 8, 8), (5, 5, 5))
    for customer, terms in [(customer_a, telia), (CustomerFactory(), dstny), (CustomerFactory(), telia)] * 2:
        claims_of_every_kind(customer, terms, customer_a_user if customer == customer_a else None)
    contract_services.terms_revise(terms=dstny, changes={"discount_ladder": [{"below": "99.8", "percent": "50"}]})
    reports.store_month(2026, 10)
    assert counts() == ((10, 8, 8), (35, 15, 35))


class TestReviewedEdges:
    def test_d19_2_the_cap_is_one_aggregate_across_events(
        self, customer_a_api, staff_api, staff_user, contract_a, customer_a_user
    ):
        # 100.00 a month, a cap of 300.00 under the agreement: damages for two outages share it.
        november = outage_for(staff_api, contract_a, at(2026, 11, 20, 9, 0), at(2026, 11, 20, 10, 0))
        recent = ticket_for(contract_a, customer_a_user, days_ago=3)
        first = file(
            customer_a_api,
            contract_a,
            [recent],
            kind="damages",
            month=None,
            outage=november,
            amount="300.00",
            discovered_on="2026-11-20",
        ).json()
        claims.claim_decide(claim=Claim.objects.get(pk=first["id"]), accept=True, note="OK", actor=staff_user)
        second = file(
            customer_a_api,
            contract_a,
            [recent],
            kind="damages",
            month="2026-11",
            amount="300.00",
            discovered_on="2026-11-20",
        ).json()
        assert second["damages_cap"]["cap"] == "0.00"
        refused = staff_api.post(f"/api/claims/{second['id']}/decide/", {"accept": True, "note": "x"}, format="json")
        assert refused.status_code == 400

    def test_a_decision_must_name_a_d19_4_reason_and_a_real_amount(
        self, client, staff_api, staff_user, contract_a, customer_a_api, customer_a_user
    ):
        november = outage_for(staff_api, contract_a, at(2026, 11, 20, 9, 0), at(2026, 11, 20, 10, 0))
        claim = file(
            customer_a_api,
            contract_a,
            [ticket_for(contract_a, customer_a_user, days_ago=3)],
            kind="damages",
            month=None,
            outage=november,
            amount="5000.00",
            discovered_on="2026-11-20",
        ).json()
        whatever = staff_api.post(
            f"/api/claims/{claim['id']}/decide/",
            {"accept": True, "note": "x", "outside_cap": "whatever"},
            format="json",
        )
        assert whatever.status_code == 400
        client.force_login(staff_user)
        client.post(
            "/desk/claims/", {"claim": claim["id"], "decision": "accept", "note": "x", "outside_cap": "whatever"}
        )
        client.post("/desk/claims/", {"claim": claim["id"], "decision": "accept", "note": "x", "granted_amount": "NaN"})
        assert Claim.objects.get(pk=claim["id"]).status == "submitted"

    def test_d20_1_a_damages_claim_naming_a_month_counts_from_its_cited_tickets(
        self, customer_a_api, contract_a, customer_a_user
    ):
        old = ticket_for(contract_a, customer_a_user, days_ago=200)
        response = file(
            customer_a_api,
            contract_a,
            [old],
            kind="damages",
            month="2026-11",
            amount="100.00",
            discovered_on="2026-11-22",
        )
        assert response.status_code == 400 and "2026-05-07" in response.json()["discovered_on"][0]

    def test_d9_1_a_deduction_for_late_delivery_is_claimed_without_a_month(
        self, customer_a_api, customer_a, dstny, customer_a_user
    ):
        from tests.factories import ContractFactory

        late = ContractFactory(
            customer=customer_a,
            terms=dstny,
            signed_on=datetime.date(2026, 8, 10),
            delivered_on=None,
            one_time_fee=Decimal("400.00"),
        )
        ticket = services.ticket_create(
            contract=late,
            reported_by=customer_a_user,
            channel=Channel.WEB,
            category="support",
            description="Var är växeln?",
        )
        # 90 days from 10 August: the right arose on 9 November, so by 9 December at the latest.
        response = file(
            customer_a_api, late, [ticket], kind="delivery", month=None, amount="200.00", discovered_on="2026-11-22"
        )
        assert response.status_code == 201, response.json()
        assert (response.json()["window_from"], response.json()["deadline"]) == ("2026-11-09", "2026-12-09")

    def test_an_accepted_discount_is_invoiced_as_granted(self, customer_a_api, staff_user, contract_a, ticket_a):
        from sla import billing

        reports.store_month(2026, 10)  # October computed without a discount
        claim = file(customer_a_api, contract_a, [ticket_a], amount="7.50").json()
        claims.claim_decide(
            claim=Claim.objects.get(pk=claim["id"]), accept=True, note="Avbrott som saknades", actor=staff_user
        )
        ((report, state, _name),) = billing.billing_month(2026, 10).rows
        assert (state.state, state.to_invoice) == ("accepted", Decimal("7.50"))

    def test_d19_2_a_one_time_fee_counts_once_for_a_young_service(self):
        from contracts.fees import annual_fees

        rows = [(datetime.date(2026, 10, 1), Decimal("100.00"))]
        annual = annual_fees(
            rows,
            on=datetime.date(2026, 11, 1),
            basis_months=12,
            invoiced_from=datetime.date(2026, 10, 1),
            terminated_on=None,
            one_time_fee=Decimal("12000.00"),
            signed_on=datetime.date(2026, 10, 1),
        )
        assert annual == Decimal("13200.00")  # 12 × 100.00 + 12,000.00 once
