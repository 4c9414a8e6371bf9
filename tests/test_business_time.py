"""Business time (D §16.8): hand-checked cases, then properties against a slow reference."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.business_time import BusinessCalendar
from tests.business_time_reference import ReferenceCalendar

UTC = datetime.UTC
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
STOCKHOLM = ZoneInfo("Europe/Stockholm")

CALENDARS = {
    "dstny": dict(
        timezone="Europe/Mariehamn",
        support_days="holiday_free_weekdays",
        opens_minute=8 * 60 + 30,
        closes_minute=17 * 60,
        holiday_country="FI",
        holiday_subdivision="01",
    ),
    "sweden_office": dict(
        timezone="Europe/Stockholm",
        support_days="holiday_free_weekdays",
        opens_minute=8 * 60 + 30,
        closes_minute=17 * 60,
        holiday_country="SE",
        holiday_categories=("public", "de_facto"),
    ),
    "telia": dict(
        timezone="Europe/Stockholm",
        support_days="all_days",
        opens_minute=0,
        closes_minute=24 * 60,
        holiday_country="SE",
        holiday_categories=("public", "de_facto"),
    ),
    "new_york_weekdays": dict(
        timezone="America/New_York",
        support_days="weekdays",
        opens_minute=7 * 60,
        closes_minute=19 * 60,
        holiday_country="US",
    ),
}

dstny = BusinessCalendar(**CALENDARS["dstny"])
sweden = BusinessCalendar(**CALENDARS["sweden_office"])
telia = BusinessCalendar(**CALENDARS["telia"])
mainland_finland = BusinessCalendar(**{**CALENDARS["dstny"], "holiday_subdivision": None})


def local(zone, *args):
    return datetime.datetime(*args, tzinfo=zone)


def due(calendar, zone, *args, hours=4):
    return calendar.service_start_due(local(zone, *args), hours).astimezone(zone)


# Hand-checked cases ---------------------------------------------------------------------------


def test_report_in_business_hours_is_due_the_same_afternoon():
    assert due(dstny, MARIEHAMN, 2026, 10, 1, 13, 0) == local(MARIEHAMN, 2026, 10, 1, 17, 0)


def test_report_before_opening_counts_from_the_same_mornings_opening():
    received = local(MARIEHAMN, 2026, 10, 1, 7, 10)
    assert dstny.effective_received_at(received) == local(MARIEHAMN, 2026, 10, 1, 8, 30)
    assert due(dstny, MARIEHAMN, 2026, 10, 1, 7, 10) == local(MARIEHAMN, 2026, 10, 1, 12, 30)


def test_report_at_closing_counts_from_next_opening():
    received = local(MARIEHAMN, 2026, 10, 1, 17, 0)
    assert not dstny.is_business_time(received)
    assert dstny.effective_received_at(received) == local(MARIEHAMN, 2026, 10, 2, 8, 30)
    assert due(dstny, MARIEHAMN, 2026, 10, 1, 17, 0) == local(MARIEHAMN, 2026, 10, 2, 12, 30)


def test_report_a_second_before_closing_counts_at_once():
    received = local(MARIEHAMN, 2026, 10, 1, 16, 59, 59)
    assert dstny.effective_received_at(received) == received
    # One second that day, three hours 59 minutes 59 seconds the next.
    assert due(dstny, MARIEHAMN, 2026, 10, 1, 16, 59, 59) == local(MARIEHAMN, 2026, 10, 2, 12, 29, 59)


def test_report_on_friday_afternoon_is_due_on_monday():
    assert due(dstny, MARIEHAMN, 2026, 10, 2, 16, 0) == local(MARIEHAMN, 2026, 10, 5, 11, 30)


def test_report_on_saturday_counts_from_monday_morning():
    assert dstny.effective_received_at(local(MARIEHAMN, 2026, 10, 3, 11, 0)) == local(MARIEHAMN, 2026, 10, 5, 8, 30)
    assert due(dstny, MARIEHAMN, 2026, 10, 3, 11, 0) == local(MARIEHAMN, 2026, 10, 5, 12, 30)


def test_alands_autonomy_day_is_a_holiday_only_on_aland():
    assert not dstny.is_working_day(datetime.date(2026, 6, 9))
    assert mainland_finland.is_working_day(datetime.date(2026, 6, 9))


def test_finnish_midsummer_eve_and_christmas_eve_are_holidays_new_years_eve_is_not():
    assert not dstny.is_working_day(datetime.date(2026, 6, 19))
    assert not dstny.is_working_day(datetime.date(2026, 12, 24))
    assert dstny.is_working_day(datetime.date(2026, 12, 31))


def test_christmas_pushes_a_deadline_over_four_days_off():
    # 23rd 15:00–17:00 = 2 h; 24th, 25th holidays, 26th–27th weekend; 28th 08:30 + 2 h.
    assert due(dstny, MARIEHAMN, 2026, 12, 23, 15, 0) == local(MARIEHAMN, 2026, 12, 28, 10, 30)


def test_easter_is_skipped():
    # Thursday 2 April 2026 16:00: 1 h; Good Friday, the weekend and Easter Monday off.
    assert due(dstny, MARIEHAMN, 2026, 4, 2, 16, 0) == local(MARIEHAMN, 2026, 4, 7, 11, 30)


def test_spring_dst_weekend_keeps_wall_clock_hours():
    received = local(MARIEHAMN, 2026, 3, 27, 16, 0)  # Friday, UTC+2
    assert received.astimezone(UTC).hour == 14
    result = dstny.service_start_due(received, 4)
    assert result.astimezone(MARIEHAMN) == local(MARIEHAMN, 2026, 3, 30, 11, 30)
    assert result == datetime.datetime(2026, 3, 30, 8, 30, tzinfo=UTC)  # UTC+3 after the change


def test_autumn_dst_weekend_keeps_wall_clock_hours():
    result = dstny.service_start_due(local(MARIEHAMN, 2026, 10, 23, 16, 0), 4)
    assert result == datetime.datetime(2026, 10, 26, 9, 30, tzinfo=UTC)  # 11:30 at UTC+2


def test_swedish_eves_are_days_off():
    for day in (datetime.date(2026, 6, 19), datetime.date(2026, 12, 24), datetime.date(2026, 12, 31)):
        assert not sweden.is_working_day(day)
    assert due(sweden, STOCKHOLM, 2026, 6, 18, 15, 0) == local(STOCKHOLM, 2026, 6, 22, 10, 30)


def test_telia_runs_every_hour_of_every_day():
    received = local(STOCKHOLM, 2026, 6, 19, 23, 30)
    assert telia.is_business_time(received)
    assert telia.effective_received_at(received) == received
    assert telia.service_start_due(received, 4) == received + datetime.timedelta(hours=4)


def test_telia_four_hours_across_the_short_night_are_four_real_hours():
    received = local(STOCKHOLM, 2026, 3, 29, 0, 30)  # the clocks jump 02:00 → 03:00
    result = telia.service_start_due(received, 4)
    assert result - received == datetime.timedelta(hours=4)
    assert result.astimezone(STOCKHOLM) == local(STOCKHOLM, 2026, 3, 29, 5, 30)
    day = telia.business_hours_on(datetime.date(2026, 3, 29))
    assert day[1] - day[0] == datetime.timedelta(hours=23)


def test_business_time_between_counts_only_open_hours():
    start, end = local(MARIEHAMN, 2026, 10, 2, 16, 0), local(MARIEHAMN, 2026, 10, 5, 9, 0)
    assert dstny.business_time_between(start, end) == datetime.timedelta(hours=1, minutes=30)
    assert dstny.business_time_between(end, start) == -datetime.timedelta(hours=1, minutes=30)


def test_working_days_for_notice_periods():
    # T §5.1: ten working days, counted over Midsommar in Sweden: 16–18, 22–26, 29, 30 June.
    assert sweden.add_working_days(datetime.date(2026, 6, 15), 10) == datetime.date(2026, 6, 30)
    assert sweden.working_days_between(datetime.date(2026, 6, 15), datetime.date(2026, 6, 30)) == 10
    assert telia.add_working_days(datetime.date(2026, 12, 21), 3) == datetime.date(2026, 12, 28)


def test_fractional_hours_are_exact():
    assert dstny.service_start_due(local(MARIEHAMN, 2026, 10, 1, 9, 0), 0.5) == local(MARIEHAMN, 2026, 10, 1, 9, 30)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"holiday_country": "XX"}, "no holiday calendar"),
        ({"holiday_subdivision": "99"}, "holiday calendar"),
        ({"opens_minute": 1020, "closes_minute": 510}, "opens < closes"),
        ({"closes_minute": 1441}, "opens < closes"),
        ({"support_days": "sometimes"}, "support_days"),
        ({"holiday_country": None}, "holiday country"),
    ],
)
def test_a_bad_calendar_is_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(**{**CALENDARS["dstny"], **overrides})


def test_naive_datetimes_and_negative_amounts_are_refused():
    with pytest.raises(ValueError, match="naive"):
        dstny.effective_received_at(datetime.datetime(2026, 10, 1, 13, 0))
    with pytest.raises(ValueError, match="negative"):
        dstny.add_business_time(local(MARIEHAMN, 2026, 10, 1, 13, 0), -datetime.timedelta(seconds=1))


# Properties against the reference -------------------------------------------------------------

FIRST = datetime.datetime(1990, 1, 1, tzinfo=UTC)
LAST = datetime.datetime(2100, 12, 20, tzinfo=UTC)
REFERENCES = {name: ReferenceCalendar(**params) for name, params in CALENDARS.items()}
FAST = {name: BusinessCalendar(**params) for name, params in CALENDARS.items()}

calendar_names = st.sampled_from(sorted(CALENDARS))
whole_minutes = st.integers(0, int((LAST - FIRST).total_seconds() // 60)).map(
    lambda n: FIRST + datetime.timedelta(minutes=n)
)
# Instants near the daylight-saving changes of the calendars' zones, where mistakes hide.
dst_minutes = st.builds(
    lambda year, zone_change, offset: zone_change(year) + datetime.timedelta(minutes=offset),
    st.integers(1990, 2100),
    st.sampled_from([
        lambda y: datetime.datetime(y, 3, 31, 1, tzinfo=UTC) - datetime.timedelta(days=(datetime.date(y, 3, 31).weekday() + 1) % 7),
        lambda y: datetime.datetime(y, 10, 31, 1, tzinfo=UTC) - datetime.timedelta(days=(datetime.date(y, 10, 31).weekday() + 1) % 7),
    ]),
    st.integers(-3 * 24 * 60, 3 * 24 * 60),
)
instants = st.one_of(whole_minutes, dst_minutes)
precise_instants = st.builds(
    lambda base, micro: base + datetime.timedelta(microseconds=micro), instants, st.integers(0, 59_999_999)
)


@given(calendar_names, instants, st.integers(0, 12))
def test_deadline_matches_the_reference(name, received, hours):
    reference = REFERENCES[name]
    expected = reference.add_minutes(reference.effective_received_at(received), hours * 60)
    assert FAST[name].service_start_due(received, hours) == expected


@given(calendar_names, instants)
def test_effective_receipt_and_business_time_match_the_reference(name, received):
    reference = REFERENCES[name]
    assert FAST[name].effective_received_at(received) == reference.effective_received_at(received)
    assert FAST[name].is_business_time(received) == reference.business_minute(received)


@given(calendar_names, instants, st.integers(0, 3 * 24 * 60))
def test_business_time_between_matches_the_reference(name, start, span):
    end = start + datetime.timedelta(minutes=span)
    expected = datetime.timedelta(minutes=REFERENCES[name].minutes_between(start, end))
    assert FAST[name].business_time_between(start, end) == expected


@given(calendar_names, precise_instants, st.integers(0, 40 * 3_600_000_000))
def test_adding_then_measuring_gives_back_the_amount_and_the_earliest_instant(name, start, micros):
    calendar = FAST[name]
    amount = datetime.timedelta(microseconds=micros)
    end = calendar.add_business_time(start, amount)
    assert calendar.business_time_between(start, end) == amount
    if micros:
        assert calendar.business_time_between(start, end - datetime.timedelta(microseconds=1)) < amount


@given(calendar_names, precise_instants, precise_instants, precise_instants)
def test_business_time_between_is_additive(name, a, b, c):
    calendar = FAST[name]
    a, b, c = sorted((a, b, c))
    # Keep the walk short: additivity does not depend on how far apart the instants are.
    b = min(b, a + datetime.timedelta(days=40))
    c = min(c, b + datetime.timedelta(days=40))
    assert calendar.business_time_between(a, b) + calendar.business_time_between(b, c) == (
        calendar.business_time_between(a, c)
    )


@given(calendar_names, st.dates(datetime.date(1990, 1, 1), datetime.date(2100, 11, 30)), st.integers(0, 30))
def test_working_days_match_the_reference(name, day, n):
    calendar, reference = FAST[name], REFERENCES[name]
    result = calendar.add_working_days(day, n)
    assert result == reference.add_working_days(day, n)
    assert calendar.working_days_between(day, result) == n
