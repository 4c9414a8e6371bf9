"""From an outage to the invoice: stored reports that follow every change, a billing export that
never reads a stale or partial month, and the state of every discount (D §10, §20.1)."""

import csv
import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts import services as contract_services
from sla import claims, reports
from sla.models import Claim, MonthlyReport, Outage, ReportRevision
from tests.factories import ContractFactory, CustomerFactory

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
NOW = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def at(*args):
    return datetime.datetime(*args, tzinfo=MARIEHAMN).isoformat()


def outage(api, start, end, contracts=(), **extra):
    payload = {
        "contracts": list(contracts),
        "started_at": at(*start),
        "ended_at": at(*end),
        "kind": "unplanned",
        "responsibility": "supplier",
        **extra,
    }
    response = api.post("/api/outages/", payload, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def export(client, month="2026-10", **params):
    query = "&".join(f"{k}={v}" for k, v in {"month": month, **params}.items())
    return client.get(f"/desk/sla/export.csv?{query}")


def rows(response, delimiter=","):
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the file as UTF-8 only with the mark
    return list(csv.reader(io.StringIO(text[1:]), delimiter=delimiter))


class TestStaleReports:
    def test_a_late_outage_marks_the_stored_report_stale_and_the_recompute_says_who_and_why(
        self, staff_api, staff_user, contract_a, contract_b
    ):
        reports.store_month(2026, 10)
        stored = MonthlyReport.objects.get(contract=contract_a)
        assert stored.discount_percent == 0
        # Reported late: a two-hour fault on 6 October, for every contract of each service.
        outage_id = outage(staff_api, (2026, 10, 6, 10, 0), (2026, 10, 6, 12, 0), service="dstny-alcom-2022")
        outage(staff_api, (2026, 10, 6, 10, 0), (2026, 10, 6, 12, 0), service="telia-smart-connect")
        stored.refresh_from_db()
        assert stored.stale and stored.stale_by == staff_user
        assert stored.stale_reason == f"outage {outage_id} registered by staffer"
        assert reports.recompute_stale() == 2
        stored.refresh_from_db()
        assert not stored.stale and stored.discount_percent == 5 and stored.discount_amount == Decimal("5.00")
        revision = ReportRevision.objects.get(report=stored)
        assert revision.actor == staff_user and revision.reason == f"outage {outage_id} registered by staffer"
        assert (revision.before["discount_amount"], revision.after["discount_amount"]) == ("0.00", "5.00")

    def test_changes_through_the_board_mark_reports_stale_too(self, staff_client, contract_a):
        reports.store_month(2026, 10)
        staff_client.post(
            "/desk/sla/",
            {
                "started_at": "2026-10-06T09:00",
                "ended_at": "2026-10-06T11:00",
                "kind": "unplanned",
                "responsibility": "supplier",
                "contracts": str(contract_a.pk),
                "tickets": "",
                "description": "",
            },
        )
        assert MonthlyReport.objects.get(contract=contract_a).stale
        ongoing = Outage.objects.create(
            started_at=NOW - datetime.timedelta(days=40), kind="unplanned", responsibility="supplier", service_wide=True
        )
        MonthlyReport.objects.update(stale=False)
        staff_client.post(f"/desk/sla/outages/{ongoing.pk}/end/")
        assert (
            MonthlyReport.objects.get(contract=contract_a).stale_reason
            == f"outage {ongoing.pk} changed: ended_at by staffer"
        )

    def test_an_outage_moved_to_other_contracts_makes_both_months_stale(self, staff_api, contract_a, contract_b):
        outage_id = outage(staff_api, (2026, 10, 6, 10, 0), (2026, 10, 6, 12, 0), contracts=[contract_a.pk])
        reports.store_month(2026, 10)
        staff_api.patch(f"/api/outages/{outage_id}/", {"contracts": [contract_b.pk]}, format="json")
        assert set(MonthlyReport.objects.filter(stale=True).values_list("contract_id", flat=True)) == {
            contract_a.pk,
            contract_b.pk,
        }
        reports.recompute_stale()
        assert MonthlyReport.objects.get(contract=contract_a).discount_percent == 0

    def test_a_changed_termination_date_makes_the_months_after_it_stale(self, staff_api, staff_user, contract_a):
        outage(staff_api, (2026, 10, 20, 10, 0), (2026, 10, 20, 12, 0), contracts=[contract_a.pk])
        reports.store_month(2026, 10)
        contract_services.contract_update(
            contract=contract_a, changes={"terminated_on": datetime.date(2026, 10, 15)}, actor=staff_user
        )
        report = MonthlyReport.objects.get(contract=contract_a)
        assert report.stale and report.stale_reason == f"contract {contract_a.pk} changed: terminated_on by staffer"
        reports.recompute_stale()
        assert MonthlyReport.objects.get(contract=contract_a).discount_percent == 0  # after the end

    def test_d28_a_stored_month_is_recomputed_under_the_version_it_was_stored_with(self, staff_api, contract_a, dstny):
        reports.store_month(2026, 10)
        revised = contract_services.terms_revise(
            terms=dstny, changes={"discount_ladder": [{"below": "99.8", "percent": "50"}]}
        )
        # Even were the new version dated back into October, October stays under version 1.
        type(revised).objects.filter(pk=revised.pk).update(effective_from=datetime.date(2026, 9, 1))
        outage(staff_api, (2026, 10, 6, 10, 0), (2026, 10, 6, 12, 0))
        reports.recompute_stale()
        report = MonthlyReport.objects.get(contract=contract_a)
        assert report.terms == dstny and report.discount_percent == 5


class TestExport:
    def test_the_current_month_is_not_complete_and_is_never_stored(self, staff_client, contract_a):
        response = export(staff_client, month="2026-11")
        assert response.status_code == 409
        assert "2026-11 is not complete yet" in response.content.decode()
        assert staff_client.post("/desk/sla/billing/", {"month": "2026-11"}).status_code == 302
        assert not MonthlyReport.objects.exists()
        with pytest.raises(reports.MonthNotOver):
            reports.store_month(2026, 11)

    def test_a_large_desks_month_goes_to_the_workers_and_an_absent_broker_is_said(
        self, staff_client, contract_a, contract_b, monkeypatch
    ):
        from sla import billing

        monkeypatch.setattr(billing, "INLINE_CONTRACTS", 1)
        handed = []
        monkeypatch.setattr(billing, "hand_over", lambda name, *args, waiting: handed.append((name, args)) or True)
        taken = staff_client.post("/desk/sla/billing/", {"month": "2026-10"}, HTTP_ACCEPT_LANGUAGE="en", follow=True)
        assert handed == [("sla.tasks.store_month", (2026, 10))]
        assert "The month is being stored by the workers" in taken.content.decode()
        monkeypatch.setattr(billing, "hand_over", lambda name, *args, waiting: False)
        away = staff_client.post("/desk/sla/billing/", {"month": "2026-10"}, HTTP_ACCEPT_LANGUAGE="en", follow=True)
        assert "The workers could not be reached; run manage.py sla_month 2026-10." in away.content.decode()
        assert not MonthlyReport.objects.exists()

    def test_the_csv_the_customers_page_and_the_api_give_one_availability_and_one_discount(
        self, staff_client, staff_api, customer_a_api, customer_a_user, contract_a
    ):
        from django.test import Client

        outage(staff_api, (2026, 10, 6, 10, 0), (2026, 10, 6, 12, 0))
        staff_client.post("/desk/sla/billing/", {"month": "2026-10"})
        header, *lines = rows(export(staff_client, format="en"))
        billed = {line[1]: dict(zip(header, line)) for line in lines}[str(contract_a.pk)]
        api = customer_a_api.get(f"/api/contracts/{contract_a.pk}/availability/?month=2026-10").json()
        customer = Client(HTTP_ACCEPT_LANGUAGE="en")
        customer.force_login(customer_a_user)
        page = customer.get(f"/portal/contracts/{contract_a.pk}/availability/?month=2026-10").content.decode()

        assert billed["discount"] == api["discount_amount"] == "5.00"
        assert billed["availability %"] == api["availability_percent"]
        assert billed["discount %"] == api["discount_percent"]
        assert billed["monthly fee"] == api["monthly_fee"]
        assert f"<strong>{api['availability_percent']} %</strong>" in page
        assert f"= {api['discount_amount']} EUR" in page

    def test_missing_or_stale_reports_are_never_billed(self, staff_client, staff_api, contract_a, contract_b):
        response = export(staff_client)
        assert response.status_code == 409 and "2 contracts have no stored report" in response.content.decode()
        staff_client.post("/desk/sla/billing/", {"month": "2026-10"})
        assert export(staff_client).status_code == 200
        for service in ("dstny-alcom-2022", "telia-smart-connect"):
            outage(staff_api, (2026, 10, 6, 10, 0), (2026, 10, 6, 12, 0), service=service)
        stale = export(staff_client)
        assert stale.status_code == 409 and "2 stored reports are out of date" in stale.content.decode()
        page = staff_client.get("/desk/sla/billing/?month=2026-10").content.decode()
        assert "out of date" in page and "Store and recompute the month" in page
        staff_client.post("/desk/sla/billing/", {"month": "2026-10"})
        fresh = rows(export(staff_client, format="en"))
        by_contract = {row[1]: row for row in fresh[1:]}
        assert by_contract[str(contract_a.pk)][10] == "5.00"

    def test_swedish_excel_gets_semicolons_decimal_commas_and_no_formulas(self, staff_client, staff_api, dstny):
        risky = ContractFactory(
            customer=CustomerFactory(name='=HYPERLINK("http://evil.example")'),
            terms=dstny,
            monthly_fee=Decimal("1234.50"),
        )
        outage(staff_api, (2026, 10, 6, 10, 0), (2026, 10, 6, 12, 0))
        reports.store_month(2026, 10)
        staff_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "sv"
        swedish = rows(export(staff_client), delimiter=";")  # Swedish by default in Swedish
        header, line = swedish[0], swedish[1]
        assert header[:3] == ["månad", "avtal", "kund"]
        assert line[2] == '\'=HYPERLINK("http://evil.example")'
        assert line[6] == "99,7222" and line[9] == "1234,50" and line[10] == "61,73"
        english = rows(export(staff_client, format="en"))
        assert english[1][6] == "99.7222" and english[1][10] == "61.73"
        assert export(staff_client, format="xlsx").status_code == 400
        assert risky.pk == int(line[1])

    def test_d10_4_an_outage_its_tickets_call_not_a_fault_blocks_the_month_until_settled(
        self, staff_client, staff_api, contract_a, customer_a_user
    ):
        from tickets import services as ticket_services
        from tickets.models import Channel

        ticket = ticket_services.ticket_create(
            contract=contract_a,
            reported_by=customer_a_user,
            channel=Channel.WEB,
            a_number="018 12345",
            b_number="040 123 4567",
            fault_occurred_at=NOW - datetime.timedelta(days=48),
            description="Nere",
            received_at=NOW - datetime.timedelta(days=48),
            now=NOW - datetime.timedelta(days=48),
        )
        ticket_services.ticket_classify(
            ticket=ticket, classification="not_fault", not_fault_reason="customer_equipment", actor=None
        )
        outage_id = outage(
            staff_api, (2026, 10, 6, 10, 0), (2026, 10, 6, 12, 0), contracts=[contract_a.pk], tickets=[ticket.pk]
        )
        reports.store_month(2026, 10)
        blocked = export(staff_client)
        assert blocked.status_code == 409
        assert (
            f"Outage {outage_id} is counted as the supplier's, but its tickets {ticket.number}"
            in blocked.content.decode()
        )
        board = staff_client.get("/desk/sla/").content.decode()
        assert f'id="contradiction-{outage_id}"' in board
        month = staff_client.get(f"/desk/sla/contracts/{contract_a.pk}/?month=2026-10").content.decode()
        assert f"{ticket.number} say not the supplier" in month
        assert staff_api.get(f"/api/outages/{outage_id}/").json()["unsettled_tickets"] == [ticket.number]
        refused = staff_client.post(f"/desk/sla/outages/{outage_id}/confirm/", {"note": ""}, follow=True)
        assert "Say why" in refused.content.decode()
        staff_client.post(
            f"/desk/sla/outages/{outage_id}/confirm/",
            {"note": "Plattformen låg nere; kundens telefon var också trasig."},
        )
        assert export(staff_client).status_code == 200
        # A change of its tickets reopens the question.
        staff_api.patch(f"/api/outages/{outage_id}/", {"tickets": [ticket.pk]}, format="json")
        reports.recompute_stale()
        assert export(staff_client).status_code == 409

    def test_the_billing_page_costs_the_same_queries_for_two_contracts_as_for_twenty(self, staff_client, dstny):
        def count():
            MonthlyReport.objects.all().delete()
            reports.store_month(2026, 10)
            with CaptureQueriesContext(connection) as captured:
                assert staff_client.get("/desk/sla/billing/?month=2026-10").status_code == 200
            return len(captured)

        for _ in range(2):
            ContractFactory(terms=dstny)
        few = count()
        for _ in range(18):
            ContractFactory(terms=dstny)
        assert count() == few


class TestDiscountStates:
    """D §20.1: a discount lapses unless claimed within a month of when it could be seen."""

    def test_each_discount_is_given_claimed_accepted_open_or_lapsed(self, staff_api, staff_user, dstny):
        free_terms = contract_services.terms_create(
            slug="own-terms",
            **{
                f: getattr(dstny, f)
                for f in contract_services.terms_editable_fields()
                if f not in ("discount_requires_claim", "ticket_prefix", "effective_from")
            },
            ticket_prefix="OWN",
            discount_requires_claim=False,
        )
        lapsed, open_, claimed, accepted = (
            ContractFactory(terms=dstny, monthly_fee=Decimal("100.00")) for _ in range(4)
        )
        automatic = ContractFactory(terms=free_terms, monthly_fee=Decimal("100.00"))
        # 90 minutes each (5 %); the discount arises when the outage ends.
        outage(staff_api, (2026, 10, 21, 10, 0), (2026, 10, 21, 11, 30), contracts=[lapsed.pk])
        # One outage of each service (an outage belongs to one).
        outage(staff_api, (2026, 10, 28, 10, 0), (2026, 10, 28, 11, 30), contracts=[open_.pk, claimed.pk, accepted.pk])
        outage(staff_api, (2026, 10, 28, 10, 0), (2026, 10, 28, 11, 30), contracts=[automatic.pk])
        reports.store_month(2026, 10)
        for contract in (claimed, accepted):
            claim = claims.claim_file(
                contract=contract,
                kind="discount",
                month=datetime.date(2026, 10, 1),
                amount=Decimal("5.00"),
                discovered_on=datetime.date(2026, 11, 2),
                description="Nere 28 oktober.",
                tickets=[_ticket(contract)],
            )
            assert claim.window_from == datetime.date(2026, 10, 28)
        claims.claim_decide(
            claim=Claim.objects.get(contract=accepted),
            accept=True,
            note="OK",
            granted_amount=Decimal("4.00"),
            actor=staff_user,
        )
        month = {r.contract_id: (s.state, s.lapses_on, s.to_invoice) for r, s, _name in _billing().rows}
        assert month[lapsed.pk] == ("lapsed", datetime.date(2026, 11, 21), Decimal("0.00"))
        assert month[open_.pk] == ("open", datetime.date(2026, 11, 28), Decimal("0.00"))
        assert month[claimed.pk] == ("claimed", None, Decimal("0.00"))
        assert month[accepted.pk] == ("accepted", None, Decimal("4.00"))
        assert month[automatic.pk] == ("automatic", None, Decimal("5.00"))


def _ticket(contract):
    from tickets import services as ticket_services
    from tickets.models import Channel

    return ticket_services.ticket_create(
        contract=contract,
        channel=Channel.PHONE,
        a_number="018 12345",
        b_number="040 123 4567",
        fault_occurred_at=datetime.datetime(2026, 10, 28, 8, 0, tzinfo=datetime.UTC),
        description="Nere",
        received_at=datetime.datetime(2026, 10, 28, 8, 5, tzinfo=datetime.UTC),
    )


def _billing():
    from sla import billing

    return billing.billing_month(2026, 10)


class TestWhichContracts:
    def test_reports_are_matched_to_the_contracts_in_service_not_counted(self, staff_client, dstny, contract_a):
        from contracts import services as contract_services

        reports.store_month(2026, 10)
        # Delivered in November after all, and a new contract in service in October: one report
        # does not belong to the month any more, another is missing.
        contract_services.contract_update(contract=contract_a, changes={"delivered_on": datetime.date(2026, 11, 2)})
        newcomer = ContractFactory(
            terms=dstny, signed_on=datetime.date(2026, 9, 1), delivered_on=datetime.date(2026, 10, 1)
        )
        response = export(staff_client)
        assert response.status_code == 409 and "1 contract has no stored report" in response.content.decode()
        staff_client.post("/desk/sla/billing/", {"month": "2026-10"})
        lines = rows(export(staff_client, format="en"))[1:]
        assert [line[1] for line in lines] == [str(newcomer.pk)]
