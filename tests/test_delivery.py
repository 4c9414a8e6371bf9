"""Delivery (D §8.2, §8.4, §9): the marks before and after, the deduction of half the fixed fees
paid (not a per-day accrual), only for a delay solely the supplier's, kept after a late delivery;
delivery defects within ten days."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation

from contracts import services as contract_services
from contracts.delivery import delivery_status
from tests.factories import ContractFactory
from tickets import services
from tickets.models import Category, Channel

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def undelivered(customer, terms, signed, **extra):
    return ContractFactory(
        customer=customer, terms=terms, signed_on=signed, delivered_on=None, monthly_fee=Decimal("500.00"), **extra
    )


@pytest.mark.parametrize(
    ("signed", "state", "label"),
    [
        (datetime.date(2026, 10, 1), "on_time", "On time"),  # 53 days
        (datetime.date(2026, 9, 1), "deadline_near", "Deadline within two weeks"),  # 83 days
        (datetime.date(2026, 8, 10), "late", "Late"),  # 105 days
        (datetime.date(2026, 7, 30), "cancellation_near", "Late: cancellation right within two weeks"),  # 116 days
        (datetime.date(2026, 7, 1), "cancellable", "Late: the customer may cancel"),  # 145 days (D §9.2)
    ],
)
def test_d8_2_d9_2_the_marks_of_an_undelivered_contract(staff_client, customer_a, dstny, signed, state, label):
    contract = undelivered(customer_a, dstny, signed)
    assert delivery_status(contract, TODAY).state == state
    assert label in staff_client.get("/desk/delivery/").content.decode()


def test_d9_1_half_the_fixed_fees_paid_for_the_unusable_service_not_a_daily_accrual(staff_client, customer_a, dstny):
    # 105 days after signing. Paid: the one-time fee of 400.00 (D §15.2); monthly fees only from delivery.
    contract = undelivered(customer_a, dstny, datetime.date(2026, 8, 10), one_time_fee=Decimal("400.00"))
    status = delivery_status(contract, TODAY)
    assert (status.fees_paid, status.deduction) == (Decimal("400.00"), Decimal("200.00"))
    assert delivery_status(contract, TODAY + datetime.timedelta(days=10)).deduction == Decimal("200.00")
    # Invoiced from 1 September (D §8.6): 400 + 500 + 500 + 22/30 × 500 = 1766.67 paid, half is 883.34.
    contract_services.contract_update(contract=contract, changes={"invoiced_from": datetime.date(2026, 9, 1)})
    contract.refresh_from_db()
    status = delivery_status(contract, TODAY)
    assert (status.fees_paid, status.deduction) == (Decimal("1766.67"), Decimal("883.34"))
    page = staff_client.get("/desk/delivery/").content.decode()
    assert "883.34 EUR" in page and "of 1766.67 EUR paid" in page and "Not recorded: taken as the supplier" in page


def test_d9_3_no_deduction_when_the_delay_is_not_solely_the_suppliers(staff_client, customer_a, dstny):
    contract = undelivered(
        customer_a,
        dstny,
        datetime.date(2026, 8, 10),
        one_time_fee=Decimal("400.00"),
        delivery_delay_cause="other_operator",
    )
    status = delivery_status(contract, TODAY)
    assert status.late and not status.guarantee_applies and status.deduction == 0
    page = staff_client.get("/desk/delivery/").content.decode()
    assert "Another operator than the supplier" in page and "none (D §9.3)" in page


def test_a_contract_delivered_late_keeps_its_record_and_the_deduction_owed(staff_client, customer_a, dstny):
    contract = undelivered(customer_a, dstny, datetime.date(2026, 5, 1), one_time_fee=Decimal("300.00"))
    contract_services.contract_update(contract=contract, changes={"delivered_on": datetime.date(2026, 9, 1)})
    contract.refresh_from_db()
    status = delivery_status(contract, TODAY)
    assert (status.state, status.days, status.deduction) == ("delivered_late", 123, Decimal("150.00"))
    page = staff_client.get("/desk/delivery/").content.decode()
    assert "Delivered late in the last twelve months" in page and "150.00 EUR" in page
    contract_page = staff_client.get(f"/desk/sla/contracts/{contract.pk}/").content.decode()
    assert "Deduction owed: 150.00 EUR" in contract_page


def test_d8_4_delivery_defects_are_reported_within_ten_days_of_delivery(
    staff_client, customer_a, customer_a_user, dstny
):
    recent = ContractFactory(customer=customer_a, terms=dstny, delivered_on=datetime.date(2026, 11, 15))
    older = ContractFactory(customer=customer_a, terms=dstny, delivered_on=datetime.date(2026, 11, 10))
    report = {
        "reported_by": customer_a_user,
        "channel": Channel.WEB,
        "category": Category.DELIVERY_DEFECT,
        "description": "Två anknytningar saknas i växeln.",
    }
    ticket = services.ticket_create(contract=recent, **report)
    assert ticket.category == "delivery_defect" and ticket.a_number == ""
    with pytest.raises(ValidationError) as refused, translation.override("en"):
        services.ticket_create(contract=older, **report)
    assert refused.value.message_dict["category"] == [
        "Defects in the delivery had to be reported by 2026-11-20 (D §8.4); report a fault or a support request instead."
    ]
    page = staff_client.get(f"/desk/sla/contracts/{recent.pk}/").content.decode()
    assert "reported in writing by 2026-11-25 (D §8.4)" in page


def deliveries_of_every_kind(customer, terms):
    """A customer's contracts in every state the delivery page shows, and some it leaves out: on
    time, near the deadline, late with fees paid and a fee change, near the cancellation mark, late
    for the customer's own reasons, cancellable; delivered late this year, on time, and late long
    ago; terminated before delivery."""
    for signed, extra in [
        (datetime.date(2026, 11, 1), {}),
        (datetime.date(2026, 9, 1), {}),
        (datetime.date(2026, 8, 10), {"invoiced_from": datetime.date(2026, 9, 1), "one_time_fee": Decimal("900")}),
        (datetime.date(2026, 8, 5), {}),
        (datetime.date(2026, 7, 20), {"delivery_delay_cause": "customer"}),
        (datetime.date(2026, 7, 1), {}),
    ]:
        contract = undelivered(customer, terms, signed, **extra)
        if "invoiced_from" in extra:
            contract.fees.create(effective_from=datetime.date(2026, 10, 1), monthly_fee=Decimal("650.00"))
    for signed, delivered in [
        (datetime.date(2025, 12, 1), datetime.date(2026, 4, 1)),
        (datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)),
        (datetime.date(2024, 1, 1), datetime.date(2024, 6, 1)),
    ]:
        ContractFactory(customer=customer, terms=terms, signed_on=signed, delivered_on=delivered)
    undelivered(customer, terms, datetime.date(2026, 6, 1), terminated_on=datetime.date(2026, 10, 1))


def test_the_delivery_page_reads_as_many_queries_for_one_customer_as_for_seven(staff_client, customer_a, dstny, telia):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import CustomerFactory

    def count():
        with CaptureQueriesContext(connection) as captured:
            response = staff_client.get("/desk/delivery/")
            assert response.status_code == 200
        return len(captured), response.content.decode().count('href="/desk/sla/contracts/')

    deliveries_of_every_kind(customer_a, dstny)
    assert count() == (7, 7)  # six awaited, one delivered late this year
    for terms in (dstny, telia, dstny, telia, dstny, telia):
        deliveries_of_every_kind(CustomerFactory(), terms)
    # A new version of the terms, with its notices: each contract's delivery deadline is read from
    # the version it was signed under.
    contract_services.terms_revise(terms=dstny, changes={"delivery_deadline_days": 100})
    assert count() == (7, 46)  # Telia's terms promise no date: none of its contracts is delivered late
