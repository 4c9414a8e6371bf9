"""Business time (D §16.8): hand-checked cases, then properties against a slow reference.

No database and no Django: contracts.business_time is plain Python.
"""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.business_time import SUPPORT_DAYS, BusinessCalendar
from tests.business_time_reference import ReferenceCalendar

UTC = datetime.timezone.utc
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
STOCKHOLM = ZoneInfo("Europe/Stockholm")
NEW_YORK = ZoneInfo("America/New_York")
D = datetime.date
H = datetime.timedelta(hours=1)

CALENDARS = {
    # Dstny: D §16.8, holiday-free weekdays 08:30–17:00 on Åland.
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
    # Telia-like: every hour of every day.
    "telia": dict(
        timezone="Europe/Stockholm",
        support_days="all_days",
        opens_minute=0,
        closes_minute=24 * 60,
        holiday_country="SE",
        holiday_categories=("public", "de_facto"),
    ),
    # West of UTC, other DST dates, weekdays regardless of holidays.
    "new_york_weekdays": dict(
        timezone="America/New_York",
        support_days="weekdays",
        opens_minute=7 * 60,
        closes_minute=19 * 60,
        holiday_country="US",
    ),
    # Support hours that cross midnight UTC (22:00 UTC–08:00 UTC), west of UTC.
    "honolulu_afternoons": dict(
        timezone="Pacific/Honolulu",
        support_days="holiday_free_weekdays",
        opens_minute=12 * 60,
        closes_minute=22 * 60,
        holiday_country="US",
        holiday_subdivision="HI",
    ),
}

dstny = BusinessCalendar(**CALENDARS["dstny"])
sweden = BusinessCalendar(**CALENDARS["sweden_office"])
telia = BusinessCalendar(**CALENDARS["telia"])
new_york = BusinessCalendar(**CALENDARS["new_york_weekdays"])
mainland_finland = BusinessCalendar(**{**CALENDARS["dstny"], "holiday_subdivision": None})


def at(zone, *args):
    """An aware instant from local wall-clock fields."""
    return datetime.datetime(*args, tzinfo=zone)


def utc(*args):
    return datetime.datetime(*args, tzinfo=UTC)


# Hand-checked cases: Dstny on Åland ----------------------------------------------------------


def test_report_in_business_hours_is_due_the_same_afternoon():
    # Thursday 1 October 2026, 13:00 + 4 h = 17:00, the closing itself: not the next opening.
    assert dstny.service_start_due(at(MARIEHAMN, 2026, 10, 1, 13, 0), 4) == at(MARIEHAMN, 2026, 10, 1, 17, 0)


def test_business_time_that_runs_out_at_closing_ends_at_closing():
    start = at(MARIEHAMN, 2026, 10, 1, 13, 0)
    assert dstny.add_business_time(start, 4 * H) == at(MARIEHAMN, 2026, 10, 1, 17, 0)
    assert dstny.add_business_time(start, 4 * H + datetime.timedelta(microseconds=1)) == at(
        MARIEHAMN, 2026, 10, 2, 8, 30, 0, 1
    )


def test_report_before_opening_counts_from_the_same_mornings_opening():
    received = at(MARIEHAMN, 2026, 10, 1, 7, 10)
    assert not dstny.is_business_time(received)
    assert dstny.effective_received_at(received) == at(MARIEHAMN, 2026, 10, 1, 8, 30)
    assert dstny.service_start_due(received, 4) == at(MARIEHAMN, 2026, 10, 1, 12, 30)


def test_report_after_closing_counts_from_next_opening():
    received = at(MARIEHAMN, 2026, 10, 1, 17, 0)  # exactly 17:00: the hours are [08:30, 17:00)
    assert not dstny.is_business_time(received)
    assert dstny.next_opening(received) == at(MARIEHAMN, 2026, 10, 2, 8, 30)
    assert dstny.effective_received_at(received) == at(MARIEHAMN, 2026, 10, 2, 8, 30)
    assert dstny.service_start_due(received, 4) == at(MARIEHAMN, 2026, 10, 2, 12, 30)


def test_report_a_second_before_closing_counts_at_once():
    received = at(MARIEHAMN, 2026, 10, 1, 16, 59, 59)
    assert dstny.is_business_time(received)
    assert dstny.effective_received_at(received) == received
    # One second that day, 3 h 59 min 59 s the next.
    assert dstny.service_start_due(received, 4) == at(MARIEHAMN, 2026, 10, 2, 12, 29, 59)


def test_report_at_opening_is_business_time():
    received = at(MARIEHAMN, 2026, 10, 1, 8, 30)
    assert dstny.is_business_time(received)
    assert dstny.next_opening(received) == received


def test_report_on_friday_afternoon_is_due_on_monday():
    # Friday 2 October 2026 16:00: one hour on Friday, three on Monday from 08:30.
    assert dstny.service_start_due(at(MARIEHAMN, 2026, 10, 2, 16, 0), 4) == at(MARIEHAMN, 2026, 10, 5, 11, 30)


def test_report_on_saturday_counts_from_monday_morning():
    received = at(MARIEHAMN, 2026, 10, 3, 11, 0)
    assert dstny.effective_received_at(received) == at(MARIEHAMN, 2026, 10, 5, 8, 30)
    assert dstny.service_start_due(received, 4) == at(MARIEHAMN, 2026, 10, 5, 12, 30)


def test_alands_autonomy_day_is_a_holiday_only_on_aland():
    autonomy_day = D(2026, 6, 9)  # a Tuesday
    assert dstny.is_holiday(autonomy_day)
    assert not dstny.is_working_day(autonomy_day)
    assert not dstny.is_business_day(autonomy_day)
    assert dstny.business_hours_on(autonomy_day) is None
    assert mainland_finland.is_working_day(autonomy_day)
    # Monday 8 June 16:00 on Åland: one hour, then Wednesday 08:30 + 3 h.
    assert dstny.service_start_due(at(MARIEHAMN, 2026, 6, 8, 16, 0), 4) == at(MARIEHAMN, 2026, 6, 10, 11, 30)
    assert mainland_finland.service_start_due(at(MARIEHAMN, 2026, 6, 8, 16, 0), 4) == at(MARIEHAMN, 2026, 6, 9, 11, 30)


def test_finnish_midsummer_eve_and_christmas_eve_are_holidays_new_years_eve_is_not():
    assert not dstny.is_working_day(D(2026, 6, 19))  # Juhannusaatto, a Friday
    assert not mainland_finland.is_working_day(D(2026, 6, 19))
    assert not dstny.is_working_day(D(2026, 12, 24))  # Jouluaatto, a Thursday
    assert dstny.is_working_day(D(2026, 12, 31))  # a Thursday and a working day in Finland
    assert dstny.business_hours_on(D(2026, 12, 31)) == (utc(2026, 12, 31, 6, 30), utc(2026, 12, 31, 15, 0))


def test_christmas_pushes_a_deadline_over_five_days():
    # Wed 23rd 15:00–17:00 = 2 h; Thu 24th, Fri 25th holidays; Sat 26th, Sun 27th;
    # Mon 28th 08:30 + 2 h = 10:30.
    assert dstny.service_start_due(at(MARIEHAMN, 2026, 12, 23, 15, 0), 4) == at(MARIEHAMN, 2026, 12, 28, 10, 30)


def test_easter_is_skipped():
    assert not dstny.is_working_day(D(2026, 4, 3))  # Good Friday
    assert not dstny.is_working_day(D(2026, 4, 6))  # Easter Monday
    # Thursday 2 April 16:00: 1 h; Good Friday, the weekend and Easter Monday off;
    # Tuesday 7 April 08:30 + 3 h.
    assert dstny.service_start_due(at(MARIEHAMN, 2026, 4, 2, 16, 0), 4) == at(MARIEHAMN, 2026, 4, 7, 11, 30)


def test_fractional_hours_are_exact():
    received = at(MARIEHAMN, 2026, 10, 1, 9, 0, 0, 1)
    expected = at(MARIEHAMN, 2026, 10, 1, 9, 6, 0, 1)
    assert dstny.service_start_due(received, Decimal("0.1")) == expected
    assert dstny.service_start_due(received, 0.1) == expected
    assert dstny.service_start_due(received, Decimal("4.0")) == dstny.service_start_due(received, 4)


def test_zero_hours_is_the_effective_receipt():
    received = at(MARIEHAMN, 2026, 10, 3, 11, 0)
    assert dstny.service_start_due(received, 0) == at(MARIEHAMN, 2026, 10, 5, 8, 30)
    assert dstny.add_business_time(received, datetime.timedelta(0)) == received


def test_results_are_aware_utc_datetimes():
    received = at(MARIEHAMN, 2026, 10, 1, 13, 0, 0, 123456)
    for result in (
        dstny.service_start_due(received, 4),
        dstny.effective_received_at(received),
        dstny.next_opening(received),
        dstny.add_business_time(received, H),
        *dstny.business_hours_on(D(2026, 10, 1)),
    ):
        assert result.tzinfo is UTC
    assert dstny.effective_received_at(received) == utc(2026, 10, 1, 10, 0, 0, 123456)


def test_business_time_between_counts_only_open_hours_and_is_antisymmetric():
    start, end = at(MARIEHAMN, 2026, 10, 2, 16, 0), at(MARIEHAMN, 2026, 10, 5, 9, 0)
    assert dstny.business_time_between(start, end) == datetime.timedelta(hours=1, minutes=30)
    assert dstny.business_time_between(end, start) == -datetime.timedelta(hours=1, minutes=30)
    assert dstny.business_time_between(start, start) == datetime.timedelta(0)


# Daylight saving -------------------------------------------------------------------------------


def test_spring_dst_weekend_keeps_wall_clock_hours():
    received = at(MARIEHAMN, 2026, 3, 27, 16, 0)  # Friday, UTC+2; the clocks go forward on Sunday
    assert received == utc(2026, 3, 27, 14, 0)
    due = dstny.service_start_due(received, 4)
    assert due == at(MARIEHAMN, 2026, 3, 30, 11, 30)
    assert due == utc(2026, 3, 30, 8, 30)  # UTC+3 after the change


def test_autumn_dst_weekend_keeps_wall_clock_hours():
    received = at(MARIEHAMN, 2026, 10, 23, 16, 0)  # Friday, UTC+3; the clocks go back on Sunday
    assert received == utc(2026, 10, 23, 13, 0)
    due = dstny.service_start_due(received, 4)
    assert due == at(MARIEHAMN, 2026, 10, 26, 11, 30)
    assert due == utc(2026, 10, 26, 9, 30)  # UTC+2 after the change


def test_new_york_hours_follow_the_local_clock_across_its_own_dst_dates():
    # The US changes on 8 March 2026, while Europe is still on winter time.
    assert new_york.business_hours_on(D(2026, 3, 6)) == (utc(2026, 3, 6, 12, 0), utc(2026, 3, 7, 0, 0))
    assert new_york.business_hours_on(D(2026, 3, 9)) == (utc(2026, 3, 9, 11, 0), utc(2026, 3, 9, 23, 0))
    # Friday 18:00 EST: 1 h, then Monday 07:00 EDT + 3 h.
    assert new_york.service_start_due(at(NEW_YORK, 2026, 3, 6, 18, 0), 4) == at(NEW_YORK, 2026, 3, 9, 10, 0)


def test_weekdays_support_ignores_holidays_but_working_days_do_not():
    thanksgiving = D(2026, 11, 26)
    assert new_york.is_business_day(thanksgiving)
    assert not new_york.is_working_day(thanksgiving)
    assert new_york.is_holiday(thanksgiving)
    assert not new_york.is_business_day(D(2026, 11, 28))  # Saturday


def test_an_opening_inside_the_spring_gap_opens_at_the_end_of_the_gap():
    # New York, 8 March 2026: 02:00 EST jumps to 03:00 EDT; 02:30 never shows on the clock.
    night = BusinessCalendar(timezone="America/New_York", support_days="all_days", opens_minute=150, closes_minute=300)
    assert night.business_hours_on(D(2026, 3, 8)) == (utc(2026, 3, 8, 7, 0), utc(2026, 3, 8, 9, 0))
    assert night.business_hours_on(D(2026, 3, 7)) == (utc(2026, 3, 7, 7, 30), utc(2026, 3, 7, 10, 0))
    # A window wholly inside the gap is empty: no business time that day.
    gap = BusinessCalendar(timezone="America/New_York", support_days="all_days", opens_minute=130, closes_minute=170)
    opens, closes = gap.business_hours_on(D(2026, 3, 8))
    assert opens == closes == utc(2026, 3, 8, 7, 0)
    assert gap.next_opening(utc(2026, 3, 8, 6, 0)) == at(NEW_YORK, 2026, 3, 9, 2, 10)


def test_an_opening_the_autumn_change_repeats_opens_at_its_first_occurrence():
    # New York, 1 November 2026: 01:00–02:00 happens twice, first EDT (UTC-4), then EST.
    night = BusinessCalendar(timezone="America/New_York", support_days="all_days", opens_minute=90, closes_minute=180)
    assert night.business_hours_on(D(2026, 11, 1)) == (utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 8, 0))


# Sweden -----------------------------------------------------------------------------------------


def test_swedish_eves_are_days_off():
    for day in (D(2026, 6, 19), D(2026, 12, 24), D(2026, 12, 31)):  # Midsommar-, Jul-, Nyårsafton
        assert sweden.is_holiday(day)
        assert not sweden.is_working_day(day)
        assert sweden.business_hours_on(day) is None
    assert sweden.is_working_day(D(2026, 12, 30))
    # Thursday 18 June 15:00: 2 h; Midsommarafton and the weekend off; Monday 08:30 + 2 h.
    assert sweden.service_start_due(at(STOCKHOLM, 2026, 6, 18, 15, 0), 4) == at(STOCKHOLM, 2026, 6, 22, 10, 30)


def test_telia_counts_every_hour_of_every_day():
    received = at(STOCKHOLM, 2026, 6, 19, 23, 30)  # Midsommarafton, late at night
    assert telia.is_business_time(received)
    assert telia.effective_received_at(received) == received
    assert telia.service_start_due(received, 4) == received.astimezone(UTC) + 4 * H


def test_telia_four_hours_across_the_short_night_are_four_real_hours():
    received = at(STOCKHOLM, 2026, 3, 29, 0, 30)  # the clocks jump 02:00 → 03:00
    due = telia.service_start_due(received, 4)
    assert due - received == 4 * H
    assert due == at(STOCKHOLM, 2026, 3, 29, 5, 30)
    opens, closes = telia.business_hours_on(D(2026, 3, 29))
    assert closes - opens == 23 * H


def test_telia_four_hours_across_the_long_night_are_four_real_hours():
    received = at(STOCKHOLM, 2026, 10, 25, 0, 30)  # the clocks go back 03:00 → 02:00
    due = telia.service_start_due(received, 4)
    assert due - received == 4 * H
    assert due == at(STOCKHOLM, 2026, 10, 25, 3, 30)
    opens, closes = telia.business_hours_on(D(2026, 10, 25))
    assert closes - opens == 25 * H


# Working days -----------------------------------------------------------------------------------


def test_ten_working_days_over_midsommar():
    # 16, 17, 18 June; Midsommarafton 19 June off; 22–26 June; 29, 30 June.
    assert sweden.add_working_days(D(2026, 6, 15), 10) == D(2026, 6, 30)
    assert sweden.working_days_between(D(2026, 6, 15), D(2026, 6, 30)) == 10
    assert sweden.working_days_between(D(2026, 6, 15), D(2026, 6, 29)) == 9


def test_ten_working_days_over_christmas_differ_between_sweden_and_finland():
    # Sweden: 21–23 Dec; 28–30 Dec; 4, 5 Jan; Epiphany off; 7, 8 Jan.
    assert sweden.add_working_days(D(2026, 12, 18), 10) == D(2027, 1, 8)
    # Finland works on New Year's Eve: 21–23, 28–31 Dec, 4, 5, 7 Jan.
    assert dstny.add_working_days(D(2026, 12, 18), 10) == D(2027, 1, 7)
    assert sweden.working_days_between(D(2026, 12, 18), D(2027, 1, 8)) == 10


def test_working_days_do_not_depend_on_support_days():
    assert telia.add_working_days(D(2026, 12, 21), 3) == D(2026, 12, 28)
    assert telia.is_business_day(D(2026, 12, 24))
    assert not telia.is_working_day(D(2026, 12, 24))


def test_working_days_edge_cases():
    assert sweden.add_working_days(D(2026, 6, 19), 0) == D(2026, 6, 19)
    assert sweden.working_days_between(D(2026, 6, 30), D(2026, 6, 15)) == 0
    assert sweden.working_days_between(D(2026, 6, 15), D(2026, 6, 15)) == 0


def test_holidays_are_known_over_the_whole_century():
    assert dstny.is_holiday(D(1990, 12, 24))
    assert dstny.is_holiday(D(2100, 6, 9))  # Självstyrelsedagen
    assert sweden.is_holiday(D(2100, 12, 31))


# Refused input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"timezone": ""}, "unknown time zone"),
        ({"holiday_country": "XX"}, "unknown holiday country"),
        ({"holiday_subdivision": "99"}, "unknown holiday subdivision"),
        ({"opens_minute": 1020, "closes_minute": 510}, "opens < closes"),
        ({"opens_minute": 510, "closes_minute": 510}, "opens < closes"),
        ({"closes_minute": 1441}, "closes <= 1440"),
        ({"opens_minute": -1}, "0 <= opens"),
        ({"support_days": "sometimes"}, "support_days"),
        ({"holiday_country": None, "holiday_subdivision": None}, "needs a holiday_country"),
        ({"holiday_country": None}, "subdivision needs a holiday country"),
        ({"holiday_categories": ("nonsense",)}, "holiday categories"),
        ({"opens_minute": 8.5}, "whole minutes"),
    ],
)
def test_a_bad_calendar_is_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(**{**CALENDARS["dstny"], **overrides})


def test_every_support_days_value_is_accepted():
    for support_days in SUPPORT_DAYS:
        BusinessCalendar(**{**CALENDARS["dstny"], "support_days": support_days})
    BusinessCalendar(timezone="UTC", support_days="all_days", opens_minute=0, closes_minute=1440)


@pytest.mark.parametrize(
    "call",
    [
        lambda naive: dstny.service_start_due(naive, 4),
        lambda naive: dstny.effective_received_at(naive),
        lambda naive: dstny.next_opening(naive),
        lambda naive: dstny.is_business_time(naive),
        lambda naive: dstny.add_business_time(naive, H),
        lambda naive: dstny.business_time_between(naive, utc(2026, 10, 1)),
        lambda naive: dstny.business_time_between(utc(2026, 10, 1), naive),
    ],
)
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="naive datetime"):
        call(datetime.datetime(2026, 10, 1, 13, 0))


def test_negative_amounts_are_refused():
    received = at(MARIEHAMN, 2026, 10, 1, 13, 0)
    with pytest.raises(ValueError, match="negative"):
        dstny.add_business_time(received, -datetime.timedelta(microseconds=1))
    with pytest.raises(ValueError, match="negative"):
        dstny.service_start_due(received, -1)
    with pytest.raises(ValueError, match="negative"):
        dstny.add_working_days(D(2026, 10, 1), -1)


# Properties against the reference ---------------------------------------------------------------

REFERENCES = {name: ReferenceCalendar(**params) for name, params in CALENDARS.items()}
FAST = {name: BusinessCalendar(**params) for name, params in CALENDARS.items()}
INPUT_ZONES = [UTC, MARIEHAMN, STOCKHOLM, NEW_YORK, datetime.timezone(datetime.timedelta(hours=-3, minutes=-30))]

calendar_names = st.sampled_from(sorted(CALENDARS))


def _dst_sunday(year, month, nth):
    """The nth (1-based; -1 the last) Sunday of a month."""
    if nth > 0:
        first = D(year, month, 1)
        return first + datetime.timedelta(days=(6 - first.weekday()) % 7 + 7 * (nth - 1))
    last = D(year, month + 1, 1) - datetime.timedelta(days=1)
    return last - datetime.timedelta(days=(last.weekday() + 1) % 7)


# Days where mistakes hide: the EU and US daylight-saving changes, Christmas to Epiphany,
# Easter and Midsummer, each picked in any year of 1990–2100.
_SPECIAL_DAYS = [
    lambda y: _dst_sunday(y, 3, -1),
    lambda y: _dst_sunday(y, 10, -1),
    lambda y: _dst_sunday(y, 3, 2),
    lambda y: _dst_sunday(y, 11, 1),
    lambda y: D(y, 12, 24),
    lambda y: D(y, 12, 31),
    lambda y: D(y, 4, 2),
    lambda y: D(y, 6, 19),
]
near_special_days = st.builds(
    lambda year, special, minutes: datetime.datetime.combine(special(year), datetime.time(), UTC)
    + datetime.timedelta(minutes=minutes),
    st.integers(1990, 2099),
    st.sampled_from(_SPECIAL_DAYS),
    st.integers(-4 * 24 * 60, 4 * 24 * 60),
)
anywhere = st.datetimes(
    min_value=datetime.datetime(1990, 1, 2),
    max_value=datetime.datetime(2100, 12, 1),
    timezones=st.sampled_from(INPUT_ZONES),
)
# Aware instants with seconds and microseconds, in various zones.
precise_instants = st.one_of(
    anywhere,
    st.builds(lambda t, us: t + datetime.timedelta(microseconds=us), near_special_days, st.integers(0, 59_999_999)),
)
# The same on whole minutes, the reference's grain.
whole_minutes = st.one_of(
    anywhere.map(lambda t: t.astimezone(UTC).replace(second=0, microsecond=0)),
    near_special_days,
)
instants = st.one_of(whole_minutes, precise_instants)


def amounts(max_hours):
    """Business time in microseconds: often whole minutes, so that it ends exactly at a closing."""
    return st.one_of(
        st.integers(0, max_hours * 60).map(lambda minutes: minutes * 60_000_000),
        st.integers(0, max_hours * 3_600_000_000),
    )


REFERENCE_EXAMPLES = settings(max_examples=1000, deadline=None)
FAST_EXAMPLES = settings(max_examples=1000, deadline=None)


@REFERENCE_EXAMPLES
@given(calendar_names, instants, st.integers(0, 12))
def test_deadline_matches_the_reference(name, received, hours):
    assert FAST[name].service_start_due(received, hours) == REFERENCES[name].service_start_due(received, hours)


@REFERENCE_EXAMPLES
@given(calendar_names, instants, st.sampled_from([Decimal("0.5"), Decimal("1.25"), 2.5, Decimal("7.99")]))
def test_fractional_deadline_matches_the_reference(name, received, hours):
    expected = REFERENCES[name].add(
        REFERENCES[name].effective_received_at(received), datetime.timedelta(hours=float(hours))
    )
    assert FAST[name].service_start_due(received, hours) == expected


@REFERENCE_EXAMPLES
@given(calendar_names, instants)
def test_effective_receipt_and_business_time_match_the_reference(name, received):
    calendar, reference = FAST[name], REFERENCES[name]
    expected = reference.effective_received_at(received)
    assert calendar.effective_received_at(received) == expected
    assert calendar.next_opening(received) == expected
    assert calendar.is_business_time(received) == reference.is_business_time(received)


@REFERENCE_EXAMPLES
@given(calendar_names, instants, amounts(36))
def test_adding_business_time_matches_the_reference(name, start, micros):
    amount = datetime.timedelta(microseconds=micros)
    assert FAST[name].add_business_time(start, amount) == REFERENCES[name].add(start, amount)


@REFERENCE_EXAMPLES
@given(calendar_names, instants, st.integers(0, 3 * 24 * 60 * 60 * 1_000_000))
def test_business_time_between_matches_the_reference(name, start, micros):
    # In UTC: arithmetic on a zoned datetime is wall-clock arithmetic.
    end = start.astimezone(UTC) + datetime.timedelta(microseconds=micros)
    expected = REFERENCES[name].between(start, end)
    assert FAST[name].business_time_between(start, end) == expected
    assert FAST[name].business_time_between(end, start) == -expected


@FAST_EXAMPLES
@given(calendar_names, instants, amounts(500))
def test_adding_then_measuring_gives_back_the_amount_at_the_earliest_instant(name, start, micros):
    calendar = FAST[name]
    amount = datetime.timedelta(microseconds=micros)
    end = calendar.add_business_time(start, amount)
    assert end >= start
    assert calendar.business_time_between(start, end) == amount
    if micros:
        # One microsecond earlier, the time has not yet run.
        assert calendar.business_time_between(start, end - datetime.timedelta(microseconds=1)) < amount
        assert calendar.is_business_time(end - datetime.timedelta(microseconds=1))


@FAST_EXAMPLES
@given(calendar_names, instants, st.integers(0, 200), st.integers(0, 200))
def test_deadline_is_the_earliest_instant(name, received, hours, extra):
    calendar = FAST[name]
    due = calendar.service_start_due(received, hours)
    effective = calendar.effective_received_at(received)
    assert effective >= received
    assert calendar.business_time_between(received, effective) == datetime.timedelta(0)
    assert calendar.business_time_between(effective, due) == hours * H
    if hours:
        assert calendar.business_time_between(effective, due - datetime.timedelta(microseconds=1)) < hours * H


@FAST_EXAMPLES
@given(calendar_names, instants, st.integers(0, 60 * 24 * 3600), st.integers(0, 60 * 24 * 3600))
def test_business_time_between_is_additive(name, a, b_seconds, c_seconds):
    calendar = FAST[name]
    # In UTC: arithmetic on a zoned datetime is wall-clock arithmetic.
    b = a.astimezone(UTC) + datetime.timedelta(seconds=b_seconds, microseconds=7)
    c = b + datetime.timedelta(seconds=c_seconds)
    ab, bc, ac = (
        calendar.business_time_between(a, b),
        calendar.business_time_between(b, c),
        calendar.business_time_between(a, c),
    )
    assert ab + bc == ac
    assert datetime.timedelta(0) <= ab <= b - a
    # And in any order of the three instants.
    assert calendar.business_time_between(c, a) + calendar.business_time_between(
        a, b
    ) == calendar.business_time_between(c, b)


@FAST_EXAMPLES
@given(calendar_names, st.dates(D(1990, 1, 1), D(2100, 10, 31)))
def test_business_hours_on_a_day_match_the_reference(name, day):
    calendar, reference = FAST[name], REFERENCES[name]
    hours = calendar.business_hours_on(day)
    assert calendar.is_business_day(day) == reference.support_day(day) == (hours is not None)
    assert calendar.is_working_day(day) == reference.working_day(day)
    assert calendar.is_holiday(day) == reference.holiday(day)
    if hours is not None:
        opens, closes = hours
        # The local wall clock reads the opening and closing times at those instants.
        local_open = opens.astimezone(reference.zone)
        assert (local_open.date(), local_open.hour * 60 + local_open.minute) == (day, reference.opens)
        local_close = closes.astimezone(reference.zone)
        close_day = day + datetime.timedelta(days=reference.closes // 1440)
        assert (local_close.date(), local_close.hour * 60 + local_close.minute) == (close_day, reference.closes % 1440)
        assert reference.business_minute(opens)
        assert reference.business_minute(closes - datetime.timedelta(minutes=1))
        if reference.closes < 1440:
            assert not reference.business_minute(closes)


@FAST_EXAMPLES
@given(calendar_names, st.dates(D(1990, 1, 1), D(2100, 10, 31)), st.integers(0, 40))
def test_add_working_days_matches_the_reference(name, day, n):
    calendar, reference = FAST[name], REFERENCES[name]
    result = calendar.add_working_days(day, n)
    assert result == reference.add_working_days(day, n)
    assert calendar.working_days_between(day, result) == n


@FAST_EXAMPLES
@given(calendar_names, st.dates(D(1990, 1, 1), D(2100, 10, 31)), st.integers(-30, 800))
def test_working_days_between_matches_the_reference(name, start, span):
    end = start + datetime.timedelta(days=span)
    assert FAST[name].working_days_between(start, end) == REFERENCES[name].working_days_between(start, end)
