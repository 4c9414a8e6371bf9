"""Calendar months as every page, report and claim counts them (core.months)."""

import datetime
import zoneinfo

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from core.months import (
    MonthError,
    add_months,
    midnights,
    month_text,
    months_from,
    next_month,
    parse_month,
    previous_month,
)

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
days = st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(9990, 12, 31))


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def test_a_month_written_yyyy_mm_is_its_first_day():
    assert parse_month("2026-10") == datetime.date(2026, 10, 1)
    assert parse_month(" 2026-02 ") == datetime.date(2026, 2, 1)
    assert month_text(datetime.date(2026, 2, 17)) == "2026-02"


@pytest.mark.parametrize(
    "text", ["", None, "2026-13", "2026-00", "2026-1", "26-10", "oct-2026", "2026-10-01", "2026/10"]
)
def test_a_month_written_otherwise_is_refused_with_the_form_to_use(text):
    with pytest.raises(MonthError, match=r"Give the month as YYYY-MM, e\.g\. 2026-10\."):
        parse_month(text)


@pytest.mark.parametrize("text", ["1999-12", "9999-12", "0000-01"])
def test_a_month_outside_the_years_a_date_can_follow_is_refused(text):
    with pytest.raises(MonthError, match="Give a month from 2000 to 9998"):
        parse_month(text)


def test_the_refusal_speaks_swedish_to_swedes():
    with translation.override("sv"), pytest.raises(MonthError) as refused:
        parse_month("2026-13")
    assert str(refused.value) == "Ange månaden som YYYY-MM, t.ex. 2026-10."


def test_months_follow_each_other_across_the_year_and_short_months():
    assert next_month(datetime.date(2026, 12, 31)) == datetime.date(2027, 1, 1)
    assert previous_month(datetime.date(2027, 1, 15)) == datetime.date(2026, 12, 1)
    assert add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert add_months(datetime.date(2028, 1, 31), 1) == datetime.date(2028, 2, 29)
    assert add_months(datetime.date(2026, 3, 31), -13) == datetime.date(2025, 2, 28)
    assert list(months_from(datetime.date(2026, 11, 30), datetime.date(2027, 2, 1))) == [
        datetime.date(2026, 11, 1),
        datetime.date(2026, 12, 1),
        datetime.date(2027, 1, 1),
        datetime.date(2027, 2, 1),
    ]
    assert list(months_from(datetime.date(2027, 2, 1), datetime.date(2026, 11, 30))) == []


def test_a_month_runs_from_local_midnight_to_local_midnight():
    start, end = midnights(datetime.date(2026, 10, 17), STOCKHOLM)
    assert start.isoformat() == "2026-10-01T00:00:00+02:00"
    assert end.isoformat() == "2026-11-01T00:00:00+01:00"  # summer time ended on the 25th
    assert end.astimezone(datetime.UTC) - start.astimezone(datetime.UTC) == datetime.timedelta(days=31, hours=1)


def naive_add_months(day: datetime.date, months: int) -> datetime.date:
    """Step a month at a time by counting days: obviously right, slow."""
    first = day.replace(day=1)
    step = 1 if months >= 0 else -1
    for _ in range(abs(months)):
        if step > 0:
            first = (first + datetime.timedelta(days=31)).replace(day=1)
        else:
            first = (first - datetime.timedelta(days=1)).replace(day=1)
    last_day = first
    while (last_day + datetime.timedelta(days=1)).month == first.month and (last_day.day < day.day):
        last_day += datetime.timedelta(days=1)
    return last_day


@given(days, st.integers(min_value=-60, max_value=60))
def test_adding_months_agrees_with_stepping_a_month_at_a_time(day, months):
    assert add_months(day, months) == naive_add_months(day, months)


@given(st.dates(datetime.date(2000, 1, 1), datetime.date(2100, 1, 1)), st.integers(-100, 800))
def test_months_from_lists_each_month_touched_once_in_order(first, span):
    last = first + datetime.timedelta(days=span)
    listed = list(months_from(first, last))
    start = first.replace(day=1)
    touched = {start + datetime.timedelta(days=n) for n in range((last - start).days + 1)}
    assert listed == sorted({day.replace(day=1) for day in touched})
