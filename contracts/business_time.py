"""Business time of a contract's terms: its calendar, support days and support hours.

Pure Python (standard library and `holidays`), no Django: the arithmetic behind D §16.8 ("service
start within four hours, counted on holiday-free weekdays 08:30–17:00; a report at another time
counts as received the next holiday-free weekday at 08:30"), exact to the microsecond.

Support hours are local wall-clock hours of the terms' time zone: 08:30 stays 08:30 on both
sides of a daylight-saving change, and a business day is the real time between its local opening
and closing (a 00:00–24:00 day lasts 23 or 25 hours on the days the clocks change). Each day is
handled in closed form; instants are integer microseconds since the epoch inside the module.
"""

from __future__ import annotations

import datetime
import zoneinfo
from decimal import Decimal

import holidays

SUPPORT_DAYS = ("holiday_free_weekdays", "weekdays", "all_days")

UTC = datetime.UTC
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = datetime.timedelta(microseconds=1)
US_PER_HOUR = 3_600_000_000
ONE_DAY = datetime.timedelta(days=1)

_holiday_years: dict[tuple, frozenset[datetime.date]] = {}


def holiday_dates(
    country: str, subdivision: str | None, categories: tuple[str, ...], year: int
) -> frozenset[datetime.date]:
    """A year's holidays of a country (and subdivision), built once per process."""
    key = (country, subdivision, categories, year)
    dates = _holiday_years.get(key)
    if dates is None:
        calendar = holidays.country_holidays(
            country, subdiv=subdivision, years=year, categories=categories
        )
        dates = _holiday_years[key] = frozenset(calendar)
    return dates


def _to_us(instant: datetime.datetime) -> int:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("naive datetime: give an aware datetime (with a time zone)")
    return (instant - EPOCH) // MICROSECOND


def _from_us(us: int) -> datetime.datetime:
    return EPOCH + datetime.timedelta(microseconds=us)


class BusinessCalendar:
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
    ):
        try:
            self.zone = zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"unknown time zone {timezone!r}") from None
        if support_days not in SUPPORT_DAYS:
            raise ValueError(f"support_days must be one of {', '.join(SUPPORT_DAYS)}")
        if not (0 <= opens_minute < closes_minute <= 1440):
            raise ValueError("support hours must satisfy 0 <= opens < closes <= 1440 (24:00)")
        if support_days == "holiday_free_weekdays" and not holiday_country:
            raise ValueError("holiday-free weekdays need a holiday country")
        self.timezone = timezone
        self.support_days = support_days
        self.opens_minute = opens_minute
        self.closes_minute = closes_minute
        self.holiday_country = holiday_country or None
        self.holiday_subdivision = holiday_subdivision or None
        self.holiday_categories = tuple(holiday_categories)
        if self.holiday_country:
            try:
                holiday_dates(
                    self.holiday_country, self.holiday_subdivision, self.holiday_categories, 2000
                )
            except NotImplementedError:
                raise ValueError(f"no holiday calendar for country {holiday_country!r}") from None
            except ValueError as error:
                raise ValueError(f"holiday calendar {holiday_country!r}: {error}") from None
        # Local date ordinal → (open, close) in epoch microseconds, or None: no business time.
        self._windows: dict[int, tuple[int, int] | None] = {}

    def __repr__(self) -> str:
        return (
            f"BusinessCalendar({self.timezone}, {self.support_days}, "
            f"{self.opens_minute}–{self.closes_minute}, {self.holiday_country}/"
            f"{self.holiday_subdivision})"
        )

    # Days -------------------------------------------------------------------------------------

    def is_holiday(self, day: datetime.date) -> bool:
        if not self.holiday_country:
            return False
        return day in holiday_dates(
            self.holiday_country, self.holiday_subdivision, self.holiday_categories, day.year
        )

    def is_working_day(self, day: datetime.date) -> bool:
        """Monday–Friday and not a holiday: the unit of notice periods in working days."""
        return day.weekday() < 5 and not self.is_holiday(day)

    def is_business_day(self, day: datetime.date) -> bool:
        if self.support_days == "all_days":
            return True
        if self.support_days == "weekdays":
            return day.weekday() < 5
        return self.is_working_day(day)

    def add_working_days(self, day: datetime.date, n: int) -> datetime.date:
        if n < 0:
            raise ValueError("n must not be negative")
        while n:
            day += ONE_DAY
            if self.is_working_day(day):
                n -= 1
        return day

    def working_days_between(self, start: datetime.date, end: datetime.date) -> int:
        count = 0
        day = start
        while day < end:
            day += ONE_DAY
            count += self.is_working_day(day)
        return count

    # Instants ---------------------------------------------------------------------------------

    def _local_instant_us(self, day: datetime.date, minute: int) -> int:
        if minute == 1440:
            day, minute = day + ONE_DAY, 0
        # fold=0: an ambiguous wall time (autumn) is its first occurrence; a wall time that does
        # not exist (inside the spring gap) is read with the offset before the change, i.e. it
        # lands as much later as the gap is long. European support hours never fall in a gap.
        local = datetime.datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=self.zone)
        return _to_us(local)

    def _window(self, ordinal: int) -> tuple[int, int] | None:
        try:
            return self._windows[ordinal]
        except KeyError:
            pass
        day = datetime.date.fromordinal(ordinal)
        window = None
        if self.is_business_day(day):
            window = (
                self._local_instant_us(day, self.opens_minute),
                self._local_instant_us(day, self.closes_minute),
            )
        self._windows[ordinal] = window
        return window

    def _local_ordinal(self, us: int) -> int:
        return _from_us(us).astimezone(self.zone).toordinal()

    def business_hours_on(self, day: datetime.date) -> tuple[datetime.datetime, datetime.datetime] | None:
        window = self._window(day.toordinal())
        if window is None:
            return None
        return _from_us(window[0]), _from_us(window[1])

    def is_business_time(self, instant: datetime.datetime) -> bool:
        us = _to_us(instant)
        window = self._window(self._local_ordinal(us))
        return window is not None and window[0] <= us < window[1]

    def _next_opening_us(self, us: int) -> int:
        ordinal = self._local_ordinal(us)
        while True:
            window = self._window(ordinal)
            if window is not None and us < window[1]:
                return max(us, window[0])
            ordinal += 1

    def next_opening(self, instant: datetime.datetime) -> datetime.datetime:
        """The first instant at or after `instant` that is business time."""
        return _from_us(self._next_opening_us(_to_us(instant)))

    def effective_received_at(self, instant: datetime.datetime) -> datetime.datetime:
        # D §16.8: a report outside business hours counts as received at the next opening; one
        # before 08:30 on a business day at 08:30 that same day.
        return _from_us(self._next_opening_us(_to_us(instant)))

    def _add_us(self, us: int, amount: int) -> int:
        if amount < 0:
            raise ValueError("the amount of business time must not be negative")
        if amount == 0:
            return us
        ordinal = self._local_ordinal(us)
        while True:
            window = self._window(ordinal)
            if window is not None:
                start = us if us > window[0] else window[0]
                if start < window[1]:
                    available = window[1] - start
                    # The earliest instant at which the time has run: a report at 13:00 with
                    # four hours is due at 17:00 that day, not at the next opening.
                    if amount <= available:
                        return start + amount
                    amount -= available
            ordinal += 1

    def add_business_time(self, instant: datetime.datetime, amount: datetime.timedelta) -> datetime.datetime:
        return _from_us(self._add_us(_to_us(instant), amount // MICROSECOND))

    def service_start_due(self, received_at: datetime.datetime, hours: int | Decimal | float) -> datetime.datetime:
        """D §16.8: `hours` of business time from when the report counts as received."""
        if isinstance(hours, int):
            amount = hours * US_PER_HOUR
        else:
            amount = int(Decimal(str(hours)) * US_PER_HOUR)
        us = self._next_opening_us(_to_us(received_at))
        return _from_us(self._add_us(us, amount))

    def business_time_between(self, start: datetime.datetime, end: datetime.datetime) -> datetime.timedelta:
        a, b = _to_us(start), _to_us(end)
        if b < a:
            return -self.business_time_between(end, start)
        total = 0
        ordinal, last = self._local_ordinal(a), self._local_ordinal(b)
        while ordinal <= last:
            window = self._window(ordinal)
            if window is not None:
                low = a if a > window[0] else window[0]
                high = b if b < window[1] else window[1]
                if high > low:
                    total += high - low
            ordinal += 1
        return datetime.timedelta(microseconds=total)
