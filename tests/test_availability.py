"""Availability and discounts (D §10–11): hand-checked months and a slow reference."""

import datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.availability import OutageSpan, discount_for, month_availability

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
    return OutageSpan(start=start, end=end, planned=planned, counts=counts)


def october(*outages, rule="fixed_30_days", now=NOW):
    return month_availability(
        outages, year=2026, month=10, timezone="Europe/Mariehamn", period_rule=rule,
        maintenance_windows=WINDOWS, ladder=LADDER, now=now,
    )


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


def test_the_calendar_month_rule_divides_by_the_months_real_length():
    result = october(rule="calendar_month")
    # October 2026 in Åland: 31 days, one of them 25 hours long (DST ends 25 October).
    assert result.period_us == (31 * 24 + 1) * 3600 * 10**6


@pytest.mark.parametrize(
    ("availability", "percent"),
    [("100", "0"), ("99.8", "0"), ("99.79998", "5"), ("99.7", "5"), ("99.69", "10"), ("99.4", "20"), ("99.39", "25"), ("0", "25")],
)
def test_the_ladder_applies_to_the_exact_value(availability, percent):
    assert discount_for(Fraction(Decimal(availability)), LADDER) == Decimal(percent)


# Properties against a minute-by-minute reference -------------------------------------------

MONTH_START, MONTH_END = at(2026, 10, 1, 0, 0), at(2026, 11, 1, 0, 0)


def reference_unavailable_minutes(outages):
    """Walk the month a minute at a time and ask, for each minute, whether it counts."""
    count = 0
    minute = MONTH_START.astimezone(datetime.UTC)
    end = MONTH_END.astimezone(datetime.UTC)
    while minute < end:
        local = minute.astimezone(MARIEHAMN)
        wall = local.hour * 60 + local.minute
        in_window = local.isoweekday() >= 6 or wall < 5 * 60 or wall >= 20 * 60
        for o in outages:
            if o.counts and o.start <= minute < (o.end or NOW) and not (o.planned and in_window):
                count += 1
                break
        minute += datetime.timedelta(minutes=1)
    return count


minutes_around_october = st.integers(-3 * 24 * 60, 34 * 24 * 60).map(
    lambda n: MONTH_START + datetime.timedelta(minutes=n)
)
outage_spans = st.builds(
    lambda start, length, planned, counts: OutageSpan(
        start=start, end=start + datetime.timedelta(minutes=length), planned=planned, counts=counts
    ),
    minutes_around_october,
    st.integers(0, 5 * 24 * 60),
    st.booleans(),
    st.booleans(),
)


@settings(max_examples=60)
@given(st.lists(outage_spans, max_size=5))
def test_unavailable_time_matches_the_reference(outages):
    result = october(*outages)
    assert result.unavailable_us == reference_unavailable_minutes(outages) * 60 * 10**6
    expected = Fraction(43_200 - reference_unavailable_minutes(outages), 43_200) * 100
    assert result.availability == expected


@given(st.fractions(min_value=0, max_value=100))
def test_the_discount_is_the_step_of_the_lowest_threshold_passed(value):
    expected = Decimal(0)
    for step in LADDER:  # thresholds fall, percents rise
        if value < Fraction(Decimal(step["below"])):
            expected = Decimal(step["percent"])
    assert discount_for(value, LADDER) == expected
