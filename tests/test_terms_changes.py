"""Changes of terms (D §28) and of fees (D §15.14): the notice period, the notice to every
affected customer in its language, the date it counts as received (D §25.2) and the customer's
two-week window to terminate."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from contracts import notices
from contracts.models import ContractFee, Notice, ServiceTerms
from tests.factories import ContactPersonFactory, ContractFactory, CustomerFactory, CustomerUserFactory

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)  # a Monday


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def revise(api, **changes):
    return api.patch("/api/terms/dstny-alcom-2022/", changes, format="json")


class TestNoticePeriod:
    def test_d28_a_change_takes_effect_a_month_after_the_customer_has_the_notice(self, staff_api, contract_a):
        # Announced Monday 23 November by e-mail, received on the 26th (D §25.2): in force 26 December.
        response = revise(staff_api, customer_reply_hours=72)
        assert response.status_code == 201, response.json()
        assert (response.json()["version"], response.json()["effective_from"]) == (2, "2026-12-26")
        later = revise(staff_api, customer_reply_hours=96, effective_from="2027-02-01")
        assert later.json()["effective_from"] == "2027-02-01"

    @pytest.mark.parametrize(
        ("effective_from", "message"),
        [
            (
                "2026-12-25",
                "Customers must have the notice 1 month before a change takes effect (D §28, §25.2): "
                "the earliest allowed date is 2026-12-26.",
            ),
            ("2026-11-01", "A change cannot take effect in the past; the earliest allowed date is 2026-12-26."),
        ],
    )
    def test_d28_an_earlier_date_is_refused_naming_the_earliest_in_the_api_and_the_admin(
        self, staff_api, admin_client, contract_a, dstny, effective_from, message
    ):
        response = revise(staff_api, customer_reply_hours=72, effective_from=effective_from)
        assert response.status_code == 400 and response.json() == {"effective_from": [message]}
        page = admin_client.post(
            f"/admin/contracts/serviceterms/{dstny.pk}/change/",
            {**admin_form(dstny), "customer_reply_hours": "72", "effective_from": effective_from},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert page.status_code == 200 and message in page.content.decode()
        assert ServiceTerms.objects.filter(slug="dstny-alcom-2022").count() == 1

    def test_d28_a_version_identical_to_the_one_in_force_is_not_stored_again(
        self, staff_api, admin_client, contract_a, dstny
    ):
        message = "Nothing to change: these are the terms of version 1 already."
        response = revise(staff_api, customer_reply_hours=48)
        assert response.status_code == 400 and response.json() == {"non_field_errors": [message]}
        page = admin_client.post(
            f"/admin/contracts/serviceterms/{dstny.pk}/change/",
            {**admin_form(dstny), "name": dstny.name},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert message in page.content.decode()
        assert ServiceTerms.objects.filter(slug="dstny-alcom-2022").count() == 1

    def test_terms_nobody_uses_are_corrected_at_once(self, staff_api, dstny):
        response = revise(staff_api, customer_reply_hours=72)
        assert response.status_code == 200 and response.json()["version"] == 1
        assert not Notice.objects.exists()


class TestNotices:
    @pytest.fixture
    def customers(self, dstny, telia):
        swedish = CustomerFactory(name="Åkeri Ab", language="sv")
        ContactPersonFactory(customer=swedish, email="vd@akeri.example", is_primary=True)
        CustomerUserFactory(customer=swedish, email="it@akeri.example")
        english = CustomerFactory(name="Nordic Freight Ltd", language="en")
        ContactPersonFactory(customer=english, email="ceo@freight.example", is_primary=True)
        gone = CustomerFactory(name="Avslutad Ab")
        ContactPersonFactory(customer=gone, email="x@gone.example", is_primary=True)
        other = CustomerFactory(name="Telia-kund Ab")
        ContactPersonFactory(customer=other, email="x@telia-kund.example", is_primary=True)
        contracts = {
            "swedish": ContractFactory(customer=swedish, terms=dstny),
            "english": ContractFactory(customer=english, terms=dstny),
            "gone": ContractFactory(customer=gone, terms=dstny, terminated_on=datetime.date(2026, 6, 30)),
            "other": ContractFactory(customer=other, terms=telia),
        }
        return contracts

    def test_d28_every_affected_customer_gets_the_notice_in_its_language_once(self, staff_api, customers):
        revise(staff_api, customer_reply_hours=72, effective_from="2027-01-01")
        assert sorted(Notice.objects.values_list("customer__name", flat=True)) == ["Nordic Freight Ltd", "Åkeri Ab"]
        assert notices.send_pending() == 2
        assert notices.send_pending() == 0  # sent once
        by_recipient = {tuple(m.to): m for m in mail.outbox}
        swedish = by_recipient[("vd@akeri.example", "it@akeri.example")]
        english = by_recipient[("ceo@freight.example",)]
        assert (
            swedish.subject
            == "Nya villkor för Dstny – Ålands Telekommunikation, allmänna villkor 2022-12-16 från 2027-01-01"
        )
        assert "72" in swedish.body and "48" in swedish.body and "2026-12-10" in swedish.body
        assert (
            english.subject.startswith("New terms for")
            and "you may terminate the agreement in writing until 2026-12-10" in english.body
        )
        notice = Notice.objects.get(customer=customers["english"].customer)
        assert notice.sent_at == NOW and notice.received_on == datetime.date(2026, 11, 26)
        assert notice.termination_until == datetime.date(2026, 12, 10)  # two weeks after receipt (D §15.14, §28)

    def test_the_termination_window_is_shown_on_the_contract(self, staff_api, client, customers):
        revise(staff_api, customer_reply_hours=72, effective_from="2027-01-01")
        notices.send_pending()
        contract = customers["swedish"]
        body = staff_api.get(f"/api/contracts/{contract.pk}/").json()
        assert body["notices"] == [
            {
                "kind": "terms_change",
                "effective_on": "2027-01-01",
                "new_terms_version": 2,
                "new_monthly_fee": None,
                "sent_at": "2026-11-23T11:00:00+01:00",
                "received_on": "2026-11-26",
                "termination_until": "2026-12-10",
            }
        ]
        client.force_login(contract.customer.memberships.get().user)
        page = client.get(f"/portal/contracts/{contract.pk}/availability/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "may terminate in writing until 2026-12-10" in page

    def test_a_notice_without_an_address_is_shown_as_failed(self, staff_api, dstny):
        ContractFactory(terms=dstny)  # a customer without a contact person or users
        revise(staff_api, customer_reply_hours=72)
        assert notices.send_pending() == 0
        notice = Notice.objects.get()
        assert notice.failed_at is not None and "main contact person" in notice.last_error


class TestFees:
    def test_d15_14_a_higher_fee_needs_the_notice_and_is_announced(self, staff_api, contract_a):
        ContactPersonFactory(customer=contract_a.customer, email="vd@alfa.example", is_primary=True)
        early = staff_api.post(
            f"/api/contracts/{contract_a.pk}/fees/",
            {"monthly_fee": "150.00", "effective_from": "2026-12-20"},
            format="json",
        )
        assert early.status_code == 400
        assert early.json()["effective_from"] == [
            "A higher fee needs 30 days' notice to the customer (D §15.14, §25.2): the earliest allowed date is 2026-12-26."
        ]
        response = staff_api.post(
            f"/api/contracts/{contract_a.pk}/fees/",
            {"monthly_fee": "150.00", "effective_from": "2026-12-26"},
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert response.json()["fees"] == [
            {"effective_from": "2025-03-01", "monthly_fee": "100.00"},
            {"effective_from": "2026-12-26", "monthly_fee": "150.00"},
        ]
        assert response.json()["monthly_fee"] == "100.00"  # in force today
        notices.send_pending()
        assert "från 100,00 EUR till 150,00 EUR" in mail.outbox[0].body  # the customer's language

    def test_a_lower_fee_needs_no_notice_and_history_is_never_rewritten(self, staff_api, contract_a):
        lower = staff_api.post(
            f"/api/contracts/{contract_a.pk}/fees/",
            {"monthly_fee": "80.00", "effective_from": "2026-12-01"},
            format="json",
        )
        assert lower.status_code == 201 and not Notice.objects.exists()
        past = staff_api.post(
            f"/api/contracts/{contract_a.pk}/fees/",
            {"monthly_fee": "70.00", "effective_from": "2026-11-01"},
            format="json",
        )
        assert past.status_code == 400 and "in the past" in past.json()["effective_from"][0]
        same = staff_api.post(
            f"/api/contracts/{contract_a.pk}/fees/",
            {"monthly_fee": "80.00", "effective_from": "2027-01-01"},
            format="json",
        )
        assert same.status_code == 400 and "80.00 already" in same.json()["monthly_fee"][0]
        assert ContractFee.objects.filter(contract=contract_a).count() == 2

    def test_customers_cannot_change_fees(self, customer_a_api, contract_a):
        response = customer_a_api.post(
            f"/api/contracts/{contract_a.pk}/fees/",
            {"monthly_fee": "1.00", "effective_from": "2027-01-01"},
            format="json",
        )
        assert response.status_code in (403, 404)
        assert ContractFee.objects.filter(contract=contract_a).count() == 1


def admin_form(terms):
    """The admin change form of a terms version as it is, posted back."""
    from contracts.admin import ServiceTermsForm

    form = ServiceTermsForm(instance=terms)
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name)
        if name in ("support_opens", "support_closes"):
            data[name] = field.prepare_value(value)
        elif value is None:
            data[name] = ""
        elif isinstance(value, (list, dict)):
            import json

            data[name] = json.dumps(value)
        elif isinstance(value, bool):
            from django import forms

            if isinstance(field, forms.NullBooleanField):
                data[name] = "true" if value else "false"
            elif value:
                data[name] = "on"
        else:
            data[name] = str(value)
    return data


class TestContractAdmin:
    def form(self, contract, **changes):
        data = {
            "signed_on": contract.signed_on.isoformat(),
            "delivered_on": contract.delivered_on.isoformat(),
            "terminated_on": "",
            "description": "",
            "one_time_fee": "0.00",
            "invoiced_from": "",
            "delivery_delay_cause": "",
            "monthly_fee": "",
            "fee_from": "",
            "fees-TOTAL_FORMS": "1",
            "fees-INITIAL_FORMS": "1",
            "fees-MIN_NUM_FORMS": "0",
            "fees-MAX_NUM_FORMS": "1000",
            "fees-0-id": str(contract.fees.get().pk),
            "fees-0-contract": str(contract.pk),
        }
        data.update(changes)
        return data

    def test_a_fee_change_in_the_admin_says_what_the_api_says(self, admin_client, contract_a):
        url = f"/admin/contracts/contract/{contract_a.pk}/change/"
        early = admin_client.post(
            url, self.form(contract_a, monthly_fee="150.00", fee_from="2026-12-20"), HTTP_ACCEPT_LANGUAGE="en"
        )
        assert early.status_code == 200
        assert "the earliest allowed date is 2026-12-26" in early.content.decode()
        saved = admin_client.post(url, self.form(contract_a, monthly_fee="150.00", fee_from="2026-12-26"))
        assert saved.status_code == 302
        assert [f.monthly_fee for f in contract_a.fees.order_by("effective_from")] == [
            Decimal("100.00"),
            Decimal("150.00"),
        ]
        assert Notice.objects.filter(fee__contract=contract_a).count() == 1

    def test_a_contract_added_in_the_admin_starts_its_fee_history(self, admin_client, customer_a, dstny):
        response = admin_client.post(
            "/admin/contracts/contract/add/",
            {
                "customer": customer_a.pk,
                "terms": dstny.pk,
                "signed_on": "2026-11-01",
                "delivered_on": "",
                "terminated_on": "",
                "description": "Växel",
                "one_time_fee": "500.00",
                "invoiced_from": "",
                "delivery_delay_cause": "",
                "monthly_fee": "250.00",
                "fee_from": "",
                "fees-TOTAL_FORMS": "0",
                "fees-INITIAL_FORMS": "0",
                "fees-MIN_NUM_FORMS": "0",
                "fees-MAX_NUM_FORMS": "1000",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        contract = customer_a.contracts.get()
        assert [(f.effective_from, f.monthly_fee) for f in contract.fees.all()] == [
            (datetime.date(2026, 11, 1), Decimal("250.00"))
        ]


class TestAdminCannotGoAround:
    def test_outages_cannot_be_deleted_and_contracts_in_use_neither(self, admin_client, staff_api, contract_a):
        from sla import reports
        from sla.models import Outage

        outage = staff_api.post(
            "/api/outages/",
            {
                "contracts": [contract_a.pk],
                "started_at": "2026-10-06T10:00:00+03:00",
                "ended_at": "2026-10-06T12:00:00+03:00",
                "kind": "unplanned",
                "responsibility": "supplier",
            },
            format="json",
        ).json()
        reports.store_month(2026, 10)
        assert admin_client.post(f"/admin/sla/outage/{outage['id']}/delete/", {"post": "yes"}).status_code == 403
        assert (
            admin_client.post(f"/admin/contracts/contract/{contract_a.pk}/delete/", {"post": "yes"}).status_code == 403
        )
        assert Outage.objects.filter(pk=outage["id"]).exists() and contract_a.fees.exists()

    def test_fees_are_not_invoiced_before_signing(self, staff_api, customer_a):
        response = staff_api.post(
            "/api/contracts/",
            {
                "customer": customer_a.pk,
                "terms": "dstny-alcom-2022",
                "monthly_fee": "10.00",
                "signed_on": "2026-10-01",
                "invoiced_from": "2026-09-01",
            },
            format="json",
        )
        assert response.status_code == 400 and "before the contract was signed" in response.json()["invoiced_from"][0]


class TestReviewedEdges:
    def test_d28_a_notice_sent_late_moves_the_change_for_that_customer(self, staff_api, contract_a, frozen_now):
        from contracts.models import ContactPerson

        revise(staff_api, customer_reply_hours=72)  # in force 26 December for whoever has the notice in time
        ContactPerson.objects.create(
            customer=contract_a.customer, name="Anna", email="anna@alfa.example", is_primary=True
        )
        frozen_now.move_to(datetime.datetime(2026, 12, 10, 10, tzinfo=datetime.UTC))  # the mail server was away
        notices.send_pending()
        notice = Notice.objects.get()
        # Received 13 December: the change applies to this customer a month later, not on the 26th.
        assert (notice.received_on, notice.applies_from) == (datetime.date(2026, 12, 13), datetime.date(2027, 1, 13))
        assert "från 2027-01-13" in mail.outbox[0].subject
        assert contract_a.terms_in_force(datetime.date(2027, 1, 12)).version == 1
        assert contract_a.terms_in_force(datetime.date(2027, 1, 13)).version == 2

    def test_d15_14_a_fee_rise_announced_late_is_postponed(self, staff_api, contract_a, frozen_now):
        from contracts.models import ContactPerson

        ContactPerson.objects.create(
            customer=contract_a.customer, name="Anna", email="anna@alfa.example", is_primary=True
        )
        staff_api.post(
            f"/api/contracts/{contract_a.pk}/fees/",
            {"monthly_fee": "150.00", "effective_from": "2026-12-26"},
            format="json",
        )
        frozen_now.move_to(datetime.datetime(2026, 12, 1, 10, tzinfo=datetime.UTC))
        notices.send_pending()
        # Received 4 December, 30 days' notice: the higher fee applies from 3 January.
        assert contract_a.fee_on(datetime.date(2027, 1, 2)) == Decimal("100.00")
        assert contract_a.fee_on(datetime.date(2027, 1, 3)) == Decimal("150.00")

    def test_a_contract_signed_while_a_change_is_announced_gets_the_notice(self, staff_api, contract_a, dstny):
        revise(staff_api, customer_reply_hours=72)
        newcomer = staff_api.post(
            "/api/customers/", {"name": "Ny Kund Ab", "org_number": "556677-8899"}, format="json"
        ).json()
        signed = staff_api.post(
            "/api/contracts/",
            {
                "customer": newcomer["id"],
                "terms": "dstny-alcom-2022",
                "monthly_fee": "90.00",
                "signed_on": "2026-11-23",
            },
            format="json",
        )
        assert signed.status_code == 201 and signed.json()["terms_version"] == 1
        assert Notice.objects.filter(customer_id=newcomer["id"], terms__version=2).exists()

    def test_a_failed_notice_is_sent_again_once_the_customer_has_an_address(self, staff_api, admin_client, contract_a):
        from contracts.models import ContactPerson

        revise(staff_api, customer_reply_hours=72)
        notices.send_pending()
        notice = Notice.objects.get()
        assert notice.failed_at is not None
        ContactPerson.objects.create(
            customer=contract_a.customer, name="Anna", email="anna@alfa.example", is_primary=True
        )
        admin_client.post("/admin/contracts/notice/", {"action": "send_again", "_selected_action": [notice.pk]})
        assert notices.send_pending() == 1
        notice.refresh_from_db()
        assert notice.sent_at is not None and notice.failed_at is None and mail.outbox[0].to == ["anna@alfa.example"]

    def test_a_second_change_carries_the_pending_one_on(self, staff_api, contract_a):
        first = revise(staff_api, claim_window_months=2).json()
        second = revise(staff_api, customer_reply_hours=72).json()
        assert (first["version"], second["version"]) == (2, 3)
        assert (second["claim_window_months"], second["customer_reply_hours"]) == (2, 72)

    def test_a_version_only_stored_reports_were_made_under_is_never_rewritten(self, dstny, contract_a):
        from contracts import services as contract_services
        from sla import reports
        from sla.models import MonthlyReport

        second = ServiceTerms.objects.get(pk=dstny.pk)
        second.pk, second.version, second.effective_from = None, 2, datetime.date(2026, 9, 1)
        second.save()
        assert not contract_services.terms_in_use(second)
        reports.store_month(2026, 10)
        assert MonthlyReport.objects.get().terms == second and not second.contracts.exists()
        assert contract_services.terms_in_use(second)

    def test_the_notice_shows_clauses_as_a_customer_reads_them(self, staff_api, contract_a):
        from contracts.models import ContactPerson

        ContactPerson.objects.create(
            customer=contract_a.customer, name="Anna", email="anna@alfa.example", is_primary=True
        )
        revise(
            staff_api,
            support_opens="08:00",
            invoiced_in_advance=False,
            discount_ladder=[{"below": "99.8", "percent": "5"}, {"below": "99.5", "percent": "25"}],
        )
        notices.send_pending()
        body = mail.outbox[0].body
        assert "08:30 → 08:00" in body and "ja → nej" in body
        assert "under 99,8 %: 5 %" in body and "under 99,5 %: 25 %" in body
