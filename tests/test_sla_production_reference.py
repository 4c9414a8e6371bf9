"""The production path (outages in the database → selectors → stored reports) against the
minute-by-minute reference: if they ever disagree, this fails."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla import reports, selectors
from sla.models import MonthlyReport, Outage
from tests import availability_reference as reference
from tests.factories import ContractFactory

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
MONTH_START = datetime.datetime(2026, 10, 1, tzinfo=MARIEHAMN)
NOW = datetime.datetime(2026, 11, 3, 12, 0, tzinfo=datetime.UTC)  # October is over; an open outage goes on


class Rollback(Exception):
    pass


outages = st.lists(
    st.tuples(
        st.integers(-2 * 24 * 60, 32 * 24 * 60).map(lambda n: MONTH_START + datetime.timedelta(minutes=n)),
        st.one_of(st.none(), st.integers(0, 4 * 24 * 60)),
        st.sampled_from(["planned", "unplanned"]),
        st.sampled_from(["supplier", "supplier", "customer", "customer_change", "third_party"]),
        st.booleans(),  # service-wide, or this contract's own
    ),
    max_size=5,
)
dates = st.one_of(st.none(), st.dates(datetime.date(2026, 9, 28), datetime.date(2026, 10, 25)))


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(outages, dates, dates)
def test_production_agrees_with_the_reference(dstny, rows, delivered_on, terminated_on):
    if delivered_on and terminated_on and terminated_on < delivered_on:
        delivered_on, terminated_on = terminated_on, delivered_on
    try:
        with transaction.atomic():
            contract = ContractFactory(
                terms=dstny,
                monthly_fee=Decimal("1000.00"),
                signed_on=datetime.date(2026, 9, 1),
                delivered_on=delivered_on,
                terminated_on=terminated_on,
            )
            other = ContractFactory(terms=dstny)
            spans = []
            for start, length, kind, responsibility, wide in rows:
                end = None if length is None else min(start + datetime.timedelta(minutes=length), NOW)
                outage = Outage.objects.create(
                    started_at=start, ended_at=end, kind=kind, responsibility=responsibility, service_wide=wide
                )
                outage.contracts.set([] if wide else [contract])
                spans.append((start, end, kind == "planned", responsibility == "supplier"))
            # Another contract's own outage never counts for this one.
            Outage.objects.create(
                started_at=MONTH_START, ended_at=NOW, kind="unplanned", responsibility="supplier"
            ).contracts.set([other])

            minutes = reference.unavailable_minutes(
                spans,
                year=2026,
                month=10,
                timezone=dstny.timezone,
                windows=dstny.maintenance_windows,
                delivered_on=delivered_on,
                terminated_on=terminated_on,
                now=NOW,
            )
            availability, percent = reference.discount(minutes, 43_200, dstny.discount_ladder)

            month = selectors.contract_month(contract, 2026, 10, now=NOW)
            assert month.figures.unavailable_us == minutes * 60 * 10**6
            assert (month.figures.availability, month.discount_percent) == (availability, percent)
            assert month.discount_amount == (Decimal("1000.00") * percent / 100).quantize(Decimal("0.01"))

            # The bulk path of the monthly reports, with another contract beside it.
            reports.store_month(2026, 10, contracts=[other, contract], now=NOW)
            stored = MonthlyReport.objects.get(contract=contract)
            assert stored.unavailable_seconds == minutes * 60
            assert stored.discount_percent == percent
            raise Rollback
    except Rollback:
        pass
