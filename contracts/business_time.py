"""Business time of a contract's terms: support days, support hours, holidays and deadlines.

Pure Python (standard library and `holidays`), no Django. A `BusinessCalendar` answers when a
report counts as received, when its service start is due, how much business time lies between
two instants, and how many working days a notice period spans. Instants are exact to the
microsecond; every datetime taken or returned is timezone-aware, and results are in UTC.
"""

from __future__ import annotations

import bisect
import datetime
import operator
import zoneinfo
from decimal import ROUND_HALF_EVEN, Decimal

import holidays

__all__ = ["SUPPORT_DAYS", "BusinessCalendar"]

SUPPORT_DAYS = ("holiday_free_weekdays", "weekdays", "all_days")

_UTC = datetime.timezone.utc
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_ONE_US = datetime.timedelta(microseconds=1)
_MINUTE_US = 60_000_000
_HOUR_US = 3_600_000_000
_DAY_US = 86_400_000_000
_timedelta = datetime.timedelta

# Every real UTC offset lies strictly between -24 h and +24 h (datetime.tzinfo requires it), so
# the local date of an instant is never before the UTC date minus one. Walks over days start
# there instead of converting the instant to local time first: one extra dictionary lookup is
# cheaper than a time-zone conversion on the hot path.
_FIRST_CANDIDATE_SHIFT = _EPOCH_ORDINAL - 1


# Holidays ------------------------------------------------------------------------------------

# (country, subdivision, categories, year) → (holiday ordinals, sorted ordinals of those falling
# on Monday–Friday). Shared by all calendars of the process: terms versions with the same country
# share the years already built, and building a year costs about a millisecond, which a hot loop
# over random dates would otherwise pay again and again.
_HOLIDAY_YEARS: dict[tuple, tuple[frozenset[int], list[int]]] = {}


def _holiday_year(key: tuple) -> tuple[frozenset[int], list[int]]:
    found = _HOLIDAY_YEARS.get(key)
    if found is None:
        country, subdivision, categories, year = key
        dates = holidays.country_holidays(country, subdiv=subdivision, years=year, categories=categories)
        ordinals = frozenset(day.toordinal() for day in dates if day.year == year)
        weekday_ordinals = sorted(o for o in ordinals if (o - 1) % 7 < 5)
        found = _HOLIDAY_YEARS[key] = (ordinals, weekday_ordinals)
    return found


def _weekdays_up_to(ordinal: int) -> int:
    """Monday–Friday days among ordinals 1..ordinal (ordinal 1, 0001-01-01, is a Monday)."""
    weeks, rest = divmod(ordinal, 7)
    return 5 * weeks + min(rest, 5)


# Instants ------------------------------------------------------------------------------------


def _naive_error(value: object) -> Exception:
    if isinstance(value, datetime.datetime):
        return ValueError(f"naive datetime {value!r}: give a timezone-aware datetime")
    return TypeError(f"expected an aware datetime, got {type(value).__name__}")


def _to_us(instant: datetime.datetime) -> int:
    try:
        return (instant - _EPOCH) // _ONE_US
    except TypeError:
        raise _naive_error(instant) from None


def _from_us(us: int) -> datetime.datetime:
    return _EPOCH + _timedelta(0, 0, us)


def _hours_to_us(hours: int | Decimal | float) -> int:
    if isinstance(hours, Decimal):
        if not hours.is_finite():
            raise ValueError(f"hours must be a finite number, not {hours}")
        # Rounded like timedelta(hours=...) rounds a float: half to even, to the microsecond.
        return int((hours * _HOUR_US).to_integral_value(rounding=ROUND_HALF_EVEN))
    if isinstance(hours, int):
        return hours * _HOUR_US
    return _timedelta(hours=hours) // _ONE_US


class BusinessCalendar:
    """Support days and hours of one terms version, in that version's local time zone."""

    def __init__(
        self,
        *,
        timezone: str,
        support_days: str,
        opens_minute: int,
        closes_minute: int,
        holiday_country: str | None = None,
        holiday_subdivision: str | None = None,
        holiday_categories: tuple[str, ...] = ("public",),
    ) -> None:
        try:
            self.zone = zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError, OSError):
            raise ValueError(f"unknown time zone {timezone!r}; use an IANA name such as Europe/Stockholm") from None
        if support_days not in SUPPORT_DAYS:
            raise ValueError(f"unknown support_days {support_days!r}; use one of {', '.join(SUPPORT_DAYS)}")
        try:
            opens_minute, closes_minute = operator.index(opens_minute), operator.index(closes_minute)
        except TypeError:
            raise ValueError("opens_minute and closes_minute must be whole minutes") from None
        if not 0 <= opens_minute < closes_minute <= 1440:
            raise ValueError(
                f"support hours {opens_minute}–{closes_minute} must satisfy "
                "0 <= opens < closes <= 1440 (minutes after local midnight; 1440 is 24:00)"
            )
        holiday_country = holiday_country or None
        holiday_subdivision = holiday_subdivision or None
        if holiday_subdivision is not None and holiday_country is None:
            raise ValueError("a holiday subdivision needs a holiday country")
        if support_days == "holiday_free_weekdays" and holiday_country is None:
            raise ValueError("support_days 'holiday_free_weekdays' needs a holiday_country")
        categories = tuple(sorted(set(holiday_categories or ()))) or ("public",)
        if holiday_country is not None:
            self._check_holidays(holiday_country, holiday_subdivision, categories)

        self.timezone = timezone
        self.support_days = support_days
        self.opens_minute = opens_minute
        self.closes_minute = closes_minute
        self.holiday_country = holiday_country
        self.holiday_subdivision = holiday_subdivision
        self.holiday_categories = categories
        self._holiday_key = (holiday_country, holiday_subdivision, categories)
        self._holiday_years: dict[int, tuple[frozenset[int], list[int]]] = {}
        # Local date ordinal → (opening, closing) in integer microseconds since the epoch, or
        # None on a day without business time. Filled day by day on first use; each day is
        # then a closed-form interval, so no computation ever steps through the hours.
        self._windows: dict[int, tuple[int, int] | None] = {}

    @staticmethod
    def _check_holidays(country: str, subdivision: str | None, categories: tuple) -> None:
        # The holidays package says NotImplementedError for an unknown country or subdivision.
        try:
            holidays.country_holidays(country, years=2000)
        except NotImplementedError:
            raise ValueError(f"unknown holiday country {country!r}: no holiday calendar") from None
        try:
            holidays.country_holidays(country, subdiv=subdivision, years=2000)
        except NotImplementedError:
            raise ValueError(f"unknown holiday subdivision {subdivision!r} of country {country!r}") from None
        try:
            _holiday_year((country, subdivision, categories, 2000))
        except (NotImplementedError, ValueError) as error:
            raise ValueError(f"holiday categories {categories!r} of {country!r}: {error}") from None

    def __repr__(self) -> str:
        opens, closes = divmod(self.opens_minute, 60), divmod(self.closes_minute, 60)
        return (
            f"<BusinessCalendar {self.timezone} {self.support_days} "
            f"{opens[0]:02}:{opens[1]:02}–{closes[0]:02}:{closes[1]:02} "
            f"holidays={self.holiday_country}/{self.holiday_subdivision or '-'}>"
        )

    # Days -------------------------------------------------------------------------------------

    def _holidays_of_year(self, year: int) -> tuple[frozenset[int], list[int]]:
        found = self._holiday_years.get(year)
        if found is None:
            if self.holiday_country is None:
                found = (frozenset(), [])
            else:
                found = _holiday_year((*self._holiday_key, year))
            self._holiday_years[year] = found
        return found

    def is_holiday(self, day: datetime.date) -> bool:
        return day.toordinal() in self._holidays_of_year(day.year)[0]

    def days_off(
        self, start: datetime.date, end: datetime.date, language: str | None = None
    ) -> list[tuple[datetime.date, str]]:
        """The holidays in [start, end] with their names (in `language` where the calendar has it)."""
        if self.holiday_country is None:
            return []
        calendar = holidays.country_holidays(
            self.holiday_country,
            subdiv=self.holiday_subdivision,
            years=range(start.year, end.year + 1),
            categories=self.holiday_categories,
        )
        if language:
            known = [code for code in calendar.supported_languages if code.split("_")[0] == language]
            if known:
                calendar = holidays.country_holidays(
                    self.holiday_country,
                    subdiv=self.holiday_subdivision,
                    years=range(start.year, end.year + 1),
                    categories=self.holiday_categories,
                    language=min(
                        known, key=lambda code: (code != language, code != f"{language}_{self.holiday_country}")
                    ),
                )
        return sorted((day, name) for day, name in calendar.items() if start <= day <= end)

    def is_working_day(self, day: datetime.date) -> bool:
        """Monday–Friday and not a holiday, whatever the support days: notice periods in
        working days count these."""
        return day.weekday() < 5 and day.toordinal() not in self._holidays_of_year(day.year)[0]

    def is_business_day(self, day: datetime.date) -> bool:
        if self.support_days == "all_days":
            return True
        if self.support_days == "weekdays":
            return day.weekday() < 5
        return self.is_working_day(day)

    def add_working_days(self, day: datetime.date, n: int) -> datetime.date:
        if n < 0:
            raise ValueError(f"the number of working days must not be negative, got {n}")
        ordinal = day.toordinal()
        while n:
            ordinal += 1
            if (ordinal - 1) % 7 < 5:
                year = datetime.date.fromordinal(ordinal).year
                if ordinal not in self._holidays_of_year(year)[0]:
                    n -= 1
        return datetime.date.fromordinal(ordinal)

    def working_days_between(self, start: datetime.date, end: datetime.date) -> int:
        if end <= start:
            return 0
        low, high = start.toordinal(), end.toordinal()
        count = _weekdays_up_to(high) - _weekdays_up_to(low)
        for year in range(start.year, end.year + 1):
            weekday_holidays = self._holidays_of_year(year)[1]
            count -= bisect.bisect_right(weekday_holidays, high) - bisect.bisect_right(weekday_holidays, low)
        return count

    # Support hours of a day -------------------------------------------------------------------

    def _offset_us(self, us: int) -> int:
        offset = _from_us(us).astimezone(self.zone).utcoffset()
        assert offset is not None  # a zone gives every aware datetime an offset
        return offset // _ONE_US

    def _local_to_us(self, ordinal: int, minute: int) -> int:
        """The instant at which the local wall clock of date `ordinal` reads `minute`."""
        if minute == 1440:
            ordinal, minute = ordinal + 1, 0
        day = datetime.date.fromordinal(ordinal)
        wall = datetime.datetime(day.year, day.month, day.day, minute // 60, minute % 60)
        wall_us = (ordinal - _EPOCH_ORDINAL) * _DAY_US + minute * _MINUTE_US
        first_offset, second_offset = self.zone.utcoffset(wall), self.zone.utcoffset(wall.replace(fold=1))
        assert first_offset is not None and second_offset is not None  # a zone gives every datetime an offset
        first = wall_us - first_offset // _ONE_US
        second = wall_us - second_offset // _ONE_US
        if first <= second:
            # An ordinary wall time (both equal), or one the autumn change repeats: the first
            # occurrence (fold=0), so support starts at the earliest moment the clock shows it.
            return first
        # A wall time inside the spring gap never shows on the clock: support opens (or
        # closes) at the first instant the clock reads that time or later, the end of the gap.
        # It lies between the two readings above; find the change of offset by bisection.
        low, high = second, first  # the clock reads earlier than `wall` at low, not at high
        while high - low > 1:
            middle = (low + high) // 2
            if middle + self._offset_us(middle) >= wall_us:
                high = middle
            else:
                low = middle
        return high

    def _fill(self, ordinal: int) -> tuple[int, int] | None:
        support_days = self.support_days
        if support_days == "all_days":
            business = True
        else:
            business = (ordinal - 1) % 7 < 5
            if business and support_days == "holiday_free_weekdays":
                year = datetime.date.fromordinal(ordinal).year
                business = ordinal not in self._holidays_of_year(year)[0]
        window = None
        if business:
            window = (
                self._local_to_us(ordinal, self.opens_minute),
                self._local_to_us(ordinal, self.closes_minute),
            )
        self._windows[ordinal] = window
        return window

    def _window(self, ordinal: int) -> tuple[int, int] | None:
        try:
            return self._windows[ordinal]
        except KeyError:
            return self._fill(ordinal)

    def business_hours_on(self, day: datetime.date) -> tuple[datetime.datetime, datetime.datetime] | None:
        window = self._window(day.toordinal())
        if window is None:
            return None
        return _from_us(window[0]), _from_us(window[1])

    # Instants ---------------------------------------------------------------------------------
    #
    # Each day's window [opens, closes) is a half-open interval of real time, and the windows
    # of successive local dates never overlap and come in order (a day closes at 24:00 at the
    # latest, the next opens at 00:00 at the earliest). So walking the dates forward from the
    # first candidate visits business time in order, and the first window that closes after an
    # instant is the one that holds it or the next to open.

    def _next_opening_us(self, us: int) -> int:
        ordinal = us // _DAY_US + _FIRST_CANDIDATE_SHIFT
        while True:
            window = self._window(ordinal)
            if window is not None:
                opens, closes = window
                if us < opens:
                    if opens < closes:
                        return opens
                elif us < closes:
                    return us
            ordinal += 1

    def is_business_time(self, instant: datetime.datetime) -> bool:
        us = _to_us(instant)
        return self._next_opening_us(us) == us

    def next_opening(self, instant: datetime.datetime) -> datetime.datetime:
        """The first business instant at or after `instant` (itself if it is business time)."""
        return _from_us(self._next_opening_us(_to_us(instant)))

    def effective_received_at(self, instant: datetime.datetime) -> datetime.datetime:
        # D §16.8: a report outside the support hours counts as received at the next opening,
        # "the next holiday-free weekday at 08:30"; one before 08:30 on such a day at 08:30 of
        # that same day. A report inside the hours counts when it was made.
        return self.next_opening(instant)

    def _add_us(self, us: int, amount: int) -> int:
        if amount <= 0:
            if amount < 0:
                raise ValueError("the amount of business time must not be negative")
            return us
        ordinal = us // _DAY_US + _FIRST_CANDIDATE_SHIFT
        while True:
            window = self._window(ordinal)
            if window is not None:
                opens, closes = window
                if us < closes:
                    if us < opens:
                        us = opens
                    # The deadline is the earliest instant at which the time has run: four hours
                    # from 13:00 end at 17:00 that day, not at the next day's opening.
                    if amount <= closes - us:
                        return us + amount
                    amount -= closes - us
                    us = closes
            ordinal += 1

    def add_business_time(self, instant: datetime.datetime, amount: datetime.timedelta) -> datetime.datetime:
        """The earliest instant by which `amount` of business time has run since `instant`."""
        us = _to_us(instant)
        return _from_us(self._add_us(us, amount // _ONE_US))

    def service_start_due(self, received_at: datetime.datetime, hours: int | Decimal | float) -> datetime.datetime:
        """D §16.8: service starts within `hours` business hours of when the report counts as
        received."""
        amount = _hours_to_us(hours)
        if amount < 0:
            raise ValueError(f"hours must not be negative, got {hours}")
        return _from_us(self._add_us(self._next_opening_us(_to_us(received_at)), amount))

    def business_time_between(self, start: datetime.datetime, end: datetime.datetime) -> datetime.timedelta:
        """Business time in [start, end); negative, the same amount, if end is before start."""
        a, b = _to_us(start), _to_us(end)
        sign = 1
        if b < a:
            a, b, sign = b, a, -1
        total = 0
        # Dates after the UTC date of `end` plus one open at or after `end` (see above).
        for ordinal in range(a // _DAY_US + _FIRST_CANDIDATE_SHIFT, b // _DAY_US + _EPOCH_ORDINAL + 2):
            window = self._window(ordinal)
            if window is not None:
                opens, closes = window
                low = a if a > opens else opens
                high = b if b < closes else closes
                if high > low:
                    total += high - low
        return _timedelta(0, 0, sign * total)
