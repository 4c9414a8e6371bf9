"""Calendar months: how people write them (YYYY-MM) and how they follow each other.

A month is its first day, a `datetime.date`; the months of availability, claims, billable work
and retention are all counted with these few functions.
"""

from __future__ import annotations

import calendar
import datetime
import re
import zoneinfo
from collections.abc import Iterator

from django.utils.translation import gettext as _

MONTH_TEXT = re.compile(r"(\d{4})-(\d{2})")
# Months people may name: from the service's first year to the last one whose following month
# a date can still hold.
FIRST_YEAR, LAST_YEAR = 2000, 9998
# The same months as an OpenAPI pattern (parse_month also takes spaces around them).
MONTH_PATTERN = r"^(?:[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-(?:0[1-9]|1[0-2])$"


class MonthError(ValueError):
    """A month not written as YYYY-MM, or out of range; the message is for people."""


def parse_month(text: str | None) -> datetime.date:
    """The first day of the month written YYYY-MM (e.g. 2026-10)."""
    match = MONTH_TEXT.fullmatch((text or "").strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise MonthError(_("Give the month as YYYY-MM, e.g. 2026-10."))
    if not FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
        raise MonthError(_("Give a month from %(first)s to %(last)s.") % {"first": FIRST_YEAR, "last": LAST_YEAR})
    return datetime.date(int(match[1]), int(match[2]), 1)


def month_text(day: datetime.date) -> str:
    """The month a day lies in, as YYYY-MM."""
    return f"{day.year:04d}-{day.month:02d}"


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` calendar months later (earlier when negative); the month's last
    day when that month is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def first_of(day: datetime.date) -> datetime.date:
    """The first day of the month a day lies in."""
    return day.replace(day=1)


def next_month(day: datetime.date) -> datetime.date:
    """The first day of the month after the one a day lies in."""
    return add_months(first_of(day), 1)


def previous_month(day: datetime.date) -> datetime.date:
    """The first day of the month before the one a day lies in."""
    return add_months(first_of(day), -1)


def months_from(first: datetime.date, last: datetime.date) -> Iterator[datetime.date]:
    """The first days of the months from the one `first` lies in through the one `last` lies in."""
    month, end = first_of(first), first_of(last)
    while month <= end:
        yield month
        month = add_months(month, 1)


def midnights(month: datetime.date, zone: zoneinfo.ZoneInfo) -> tuple[datetime.datetime, datetime.datetime]:
    """The month from local midnight of its first day to local midnight of the next month's."""
    start = datetime.datetime.combine(first_of(month), datetime.time(), tzinfo=zone)
    return start, datetime.datetime.combine(next_month(month), datetime.time(), tzinfo=zone)
