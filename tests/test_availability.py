"""Availability and discounts (D §10–11): hand-checked months and a slow reference."""

import datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.availability import OutageSpan, discount_for, month_figures, month_rules
from tests import availability_reference as reference_model

MARIEHAMN = ZoneInfo("Europe/Mariehamn")
LADDER = [
    {"below": "99.8", "percent": "5"},
    {"below": "99.7", "percent": "10"},
    {"below": "99.6", "percent": "15"},
    {"below": "99.5", "percent": "20"},
    {"below": "99.4", "percent": "25"},
]
WINDOWS = [
    {"weekdays": [1, 2, 3, 4, 5], "start": "00:00", "end": "05:00"},
    {"weekdays": [1, 2, 3, 4, 5], "start": "20:00", "end": "24:00"},
    {"weekdays": [6, 7], "start": "00:00", "end": "24:00"},
]
NOW = datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)


def at(*args):
    return datetime.datetime(*args, tzinfo=MARIEHAMN)


def outage(start, end, planned=False, counts=True):
    return OutageSpan(start=start, end=end, planned=planned, excluded=None if counts else "not_suppliers")


def october_rules(rule="fixed_30_days"):
    return month_rules(
        2026, 10, timezone="Europe/Mariehamn", period_rule=rule, maintenance_windows=WINDOWS, ladder=LADDER
    )


def october(*outages, rule="fixed_30_days", now=NOW, delivered_on=datetime.date(2025, 1, 1), terminated_on=None):
    return month_figures(outages, october_rules(rule), delivered_on=delivered_on, terminated_on=terminated_on, now=now)


def test_a_month_without_outages_is_fully_available():
    result = october()
    assert result.availability == 100 and result.discount_percent == 0
    assert result.percent_text() == "100.0000"


def test_the_denominator_is_720_hours_whatever_the_month():
    # 86.4 minutes down = 0.2 % of 43,200 minutes: exactly 99.8 %, no discount.
    result = october(outage(at(2026, 10, 6, 10, 0), at(2026, 10, 6, 11, 26, 24)))
    assert result.period_us == 43_200 * 60 * 10**6
    assert result.availability == Fraction(998, 10)
    assert result.percent_text() == "99.8000" and result.discount_percent == 0


def test_one_second_more_earns_the_first_step():
    result = october(outage(at(2026, 10, 6, 10, 0), at(2026, 10, 6, 11, 26, 25)))
    assert result.availability < Fraction(998, 10)
    assert result.percent_text() == "99.7999"  # rounded down: never shown as 99.8000
    assert result.discount_percent == Decimal("5")


def test_overlapping_outages_count_once():
    result = october(
        outage(at(2026, 10, 6, 10, 0), at(2026, 10, 6, 12, 0)),
        outage(at(2026, 10, 6, 11, 0), at(2026, 10, 6, 13, 0)),
    )
    assert result.unavailable_us == 3 * 3600 * 10**6


def test_only_the_suppliers_faults_count():
    result = october(outage(at(2026, 10, 6, 10, 0), at(2026, 10, 6, 20, 0), counts=False))
    assert result.unavailable_us == 0


def test_outages_are_cut_at_the_months_local_bounds():
    # 30 Sep 23:00 → 1 Oct 01:00 Åland time: one hour in October.
    result = october(outage(at(2026, 9, 30, 23, 0), at(2026, 10, 1, 1, 0)))
    assert result.unavailable_us == 3600 * 10**6


def test_planned_work_inside_the_windows_does_not_count_the_part_outside_does():
    # Tuesday 19:00–21:00: the hour after 20:00 is inside the window.
    result = october(outage(at(2026, 10, 6, 19, 0), at(2026, 10, 6, 21, 0), planned=True))
    assert result.unavailable_us == 3600 * 10**6
    weekend = october(outage(at(2026, 10, 10, 9, 0), at(2026, 10, 10, 17, 0), planned=True))
    assert weekend.unavailable_us == 0


def test_an_unplanned_fault_at_night_still_counts():
    result = october(outage(at(2026, 10, 6, 22, 0), at(2026, 10, 6, 23, 0)))
    assert result.unavailable_us == 3600 * 10**6


def test_an_ongoing_outage_counts_until_now():
    result = october(outage(at(2026, 10, 30, 12, 0), None), now=at(2026, 10, 30, 13, 0))
    assert result.unavailable_us == 3600 * 10**6


def test_planned_work_with_its_end_ahead_counts_only_the_time_gone_by():
    # Tuesday 10:00–14:00 announced; at 11:00 only the first hour has happened.
    work = outage(at(2026, 10, 6, 10, 0), at(2026, 10, 6, 14, 0), planned=True)
    assert october(work, now=at(2026, 10, 6, 11, 0)).unavailable_us == 3600 * 10**6
    assert october(work, now=at(2026, 10, 5, 11, 0)).unavailable_us == 0


def test_the_calendar_month_rule_divides_by_the_months_real_length():
    result = october(rule="calendar_month")
    # October 2026 in Åland: 31 days, one of them 25 hours long (DST ends 25 October).
    assert result.period_us == (31 * 24 + 1) * 3600 * 10**6


@pytest.mark.parametrize(
    ("availability", "percent"),
    [
        ("100", "0"),
        ("99.8", "0"),
        ("99.79998", "5"),
        ("99.7", "5"),
        ("99.69", "10"),
        ("99.4", "20"),
        ("99.39", "25"),
        ("0", "25"),
    ],
)
def test_the_ladder_applies_to_the_exact_value(availability, percent):
    assert discount_for(Fraction(Decimal(availability)), LADDER) == Decimal(percent)


def test_time_before_delivery_and_from_termination_does_not_count():
    # Delivered on 10 October, terminated on 20 October: an outage over the whole month counts
    # for the ten days between local midnights, and the denominator stays 720 hours (D §10.1).
    result = october(
        outage(at(2026, 10, 1, 0, 0), at(2026, 11, 1, 0, 0)),
        delivered_on=datetime.date(2026, 10, 10),
        terminated_on=datetime.date(2026, 10, 20),
    )
    assert result.unavailable_us == 10 * 24 * 3600 * 10**6
    assert result.period_us == 43_200 * 60 * 10**6


def test_a_contract_not_yet_delivered_has_no_unavailable_time():
    result = october(outage(at(2026, 10, 6, 10, 0), at(2026, 10, 6, 20, 0)), delivered_on=None)
    assert result.unavailable_us == 0 and result.parts[0].excluded == "outside_service_time"


def test_the_discount_arises_at_the_end_of_the_outage_that_crosses_the_first_threshold():
    # 60 minutes on the 6th leave 99.86 %; 30 more minutes on the 20th bring 99.79 %: the
    # customer could see the discount when that second outage ended (D §20.1).
    result = october(
        outage(at(2026, 10, 6, 10, 0), at(2026, 10, 6, 11, 0)),
        outage(at(2026, 10, 20, 10, 0), at(2026, 10, 20, 10, 30)),
    )
    assert result.discount_percent == Decimal("5")
    assert result.discount_arose_at == at(2026, 10, 20, 10, 30)
    assert october(outage(at(2026, 10, 6, 10, 0), at(2026, 10, 6, 11, 0))).discount_arose_at is None


# Properties against a minute-by-minute reference -------------------------------------------

MONTH_START = at(2026, 10, 1, 0, 0)


def reference(outages, delivered_on, terminated_on, now):
    minutes = reference_model.unavailable_minutes(
        [(o.start, o.end, o.planned, o.counts) for o in outages],
        year=2026,
        month=10,
        timezone="Europe/Mariehamn",
        windows=WINDOWS,
        delivered_on=delivered_on,
        terminated_on=terminated_on,
        now=now,
    )
    return minutes, *reference_model.discount(minutes, 43_200, LADDER)


minutes_around_october = st.integers(-3 * 24 * 60, 34 * 24 * 60).map(
    lambda n: MONTH_START + datetime.timedelta(minutes=n)
)
outage_spans = st.builds(
    lambda start, length, planned, counts: OutageSpan(
        start=start,
        end=None if length is None else start + datetime.timedelta(minutes=length),
        planned=planned,
        excluded=None if counts else "not_suppliers",
    ),
    minutes_around_october,
    st.one_of(st.none(), st.integers(0, 5 * 24 * 60)),
    st.booleans(),
    st.booleans(),
)
service_dates = st.one_of(st.none(), st.dates(datetime.date(2026, 9, 25), datetime.date(2026, 11, 5)))
minutes_in_october = st.integers(0, 31 * 24 * 60).map(lambda n: MONTH_START + datetime.timedelta(minutes=n))


@settings(max_examples=60)
@given(st.lists(outage_spans, max_size=5), service_dates, service_dates, minutes_in_october)
def test_the_month_matches_the_reference(outages, delivered_on, terminated_on, now):
    if delivered_on and terminated_on and terminated_on < delivered_on:
        delivered_on, terminated_on = terminated_on, delivered_on
    result = october(*outages, delivered_on=delivered_on, terminated_on=terminated_on, now=now)
    minutes, availability, discount = reference(outages, delivered_on, terminated_on, now)
    assert result.unavailable_us == minutes * 60 * 10**6
    assert (result.availability, result.discount_percent) == (availability, discount)


@given(st.fractions(min_value=0, max_value=100))
def test_the_discount_is_the_step_of_the_lowest_threshold_passed(value):
    expected = Decimal(0)
    for step in LADDER:  # thresholds fall, percents rise
        if value < Fraction(Decimal(step["below"])):
            expected = Decimal(step["percent"])
    assert discount_for(value, LADDER) == expected
