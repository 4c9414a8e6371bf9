"""A slow, obviously correct model of a contract's month (D §10–11), to check sla.availability
and the production path through the database against.

It shares no code with the module. It walks the month one whole minute at a time and asks of
each minute: is the contract in service (local date from delivery up to termination), and does
some outage of the supplier's cover it, planned work only outside the maintenance windows?
Outages in the tests start and end on whole minutes, so a minute is wholly counted or not.
"""

import datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

MINUTE = datetime.timedelta(minutes=1)


def in_windows(local: datetime.datetime, windows) -> bool:
    wall = local.strftime("%H:%M")
    return any(
        local.isoweekday() in window["weekdays"] and window["start"] <= wall < window["end"].replace("24:00", "99:99")
        for window in windows or ()
    )


def unavailable_minutes(outages, *, year, month, timezone, windows, delivered_on, terminated_on, now):
    """`outages`: (start, end or None, planned, counts) tuples of aware datetimes."""
    zone = ZoneInfo(timezone)
    minute = datetime.datetime(year, month, 1, tzinfo=zone).astimezone(datetime.UTC)
    following = datetime.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone).astimezone(datetime.UTC)
    count = 0
    while minute < following:
        local = minute.astimezone(zone)
        in_service = (
            delivered_on is not None
            and delivered_on <= local.date()
            and (terminated_on is None or local.date() < terminated_on)
        )
        if in_service:
            for start, end, planned, counts in outages:
                if counts and start <= minute < min(end or now, now) and not (planned and in_windows(local, windows)):
                    count += 1
                    break
        minute += MINUTE
    return count


def discount(unavailable: int, period_minutes: int, ladder) -> tuple[Fraction, Decimal]:
    availability = Fraction(period_minutes - unavailable, period_minutes) * 100
    percent = Decimal(0)
    for step in ladder:  # thresholds fall, percents rise
        if availability < Fraction(Decimal(step["below"])):
            percent = Decimal(step["percent"])
    return availability, percent
