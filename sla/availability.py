"""Monthly availability and the discount ladder (D §10–11). Pure Python, no Django.

Availability = (period − unavailable time) / period (D §10.1), where the period is a fixed
24 h × 30 days whatever the month's length, or the calendar month when the terms say so. Only
outages that are the supplier's Fault count (D §10.4, §16); overlapping outages count once;
outages are cut at the month's bounds in the terms' time zone; planned system work inside the
maintenance windows is not unavailable time, the part outside them is (D §11.2–11.4).
Arithmetic is exact: instants are integer microseconds, ratios are Fractions.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction

UTC = datetime.UTC
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = datetime.timedelta(microseconds=1)
US_PER_SECOND = 1_000_000
FIXED_30_DAYS_US = 30 * 24 * 3600 * US_PER_SECOND

Span = tuple[int, int]  # [start, end) in epoch microseconds


def to_us(instant: datetime.datetime) -> int:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: give an aware datetime")
    return (instant - EPOCH) // MICROSECOND


def from_us(us: int) -> datetime.datetime:
    return EPOCH + datetime.timedelta(microseconds=us)


@dataclass(frozen=True)
class OutageSpan:
    """What the arithmetic needs to know of an outage."""

    start: datetime.datetime
    end: datetime.datetime | None  # None: still going on
    planned: bool
    counts: bool  # the supplier's Fault and not caused by an unannounced customer change


@dataclass(frozen=True)
class MonthResult:
    period_us: int
    unavailable_us: int
    availability: Fraction  # percent, exact
    discount_percent: Decimal
    counted: list[Span]  # the union of counted time inside the month

    def percent_text(self, places: int = 4) -> str:
        """Rounded down, so a value that earns a discount never displays as its threshold."""
        scaled = self.availability * 10**places
        floor = scaled.numerator // scaled.denominator
        return str(Decimal(floor).scaleb(-places).quantize(Decimal(1).scaleb(-places), ROUND_DOWN))


def union(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def clip(spans: Iterable[Span], low: int, high: int) -> list[Span]:
    return [(max(s, low), min(e, high)) for s, e in spans if e > low and s < high]


def subtract(spans: Sequence[Span], holes: Sequence[Span]) -> list[Span]:
    """`spans` minus `holes`; both sorted and non-overlapping."""
    result: list[Span] = []
    j = 0
    for start, end in spans:
        cursor = start
        while j < len(holes) and holes[j][1] <= cursor:
            j += 1
        k = j
        while k < len(holes) and holes[k][0] < end:
            hole_start, hole_end = holes[k]
            if hole_start > cursor:
                result.append((cursor, hole_start))
            cursor = max(cursor, hole_end)
            if cursor >= end:
                break
            k += 1
        if cursor < end:
            result.append((cursor, end))
    return result


def total(spans: Iterable[Span]) -> int:
    return sum(end - start for start, end in spans)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _local_us(day: datetime.date, minute: int, zone: zoneinfo.ZoneInfo) -> int:
    if minute == 1440:
        day, minute = day + datetime.timedelta(days=1), 0
    # fold=0: the first of an ambiguous autumn hour; wall-clock windows as the contract reads them.
    return to_us(datetime.datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone))


def maintenance_spans(windows: Sequence[dict] | None, low: int, high: int, zone: zoneinfo.ZoneInfo) -> list[Span]:
    """The terms' maintenance windows (ISO weekdays, local "HH:MM") between two instants."""
    if not windows:
        return []
    first = from_us(low).astimezone(zone).date() - datetime.timedelta(days=1)
    last = from_us(high).astimezone(zone).date()
    spans = []
    day = first
    while day <= last:
        weekday = day.isoweekday()
        for window in windows:
            if weekday in window["weekdays"]:
                spans.append(
                    (_local_us(day, _minutes(window["start"]), zone), _local_us(day, _minutes(window["end"]), zone))
                )
        day += datetime.timedelta(days=1)
    return union(clip(spans, low, high))


def month_bounds(year: int, month: int, zone: zoneinfo.ZoneInfo) -> tuple[int, int]:
    """The month from local midnight of its first day to local midnight of the next month's."""
    start = datetime.datetime(year, month, 1, tzinfo=zone)
    following = datetime.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return to_us(start), to_us(following)


def discount_for(availability: Fraction, ladder: Sequence[dict]) -> Decimal:
    """The step of the lowest threshold the exact availability is under (D §10.3)."""
    percent = Decimal(0)
    for step in sorted(ladder, key=lambda s: Decimal(s["below"]), reverse=True):
        if availability < Fraction(Decimal(step["below"])):
            percent = Decimal(step["percent"])
    return percent


def month_availability(
    outages: Iterable[OutageSpan],
    *,
    year: int,
    month: int,
    timezone: str,
    period_rule: str,
    maintenance_windows: Sequence[dict] | None,
    ladder: Sequence[dict],
    now: datetime.datetime,
) -> MonthResult:
    zone = zoneinfo.ZoneInfo(timezone)
    low, high = month_bounds(year, month, zone)
    now_us = to_us(now)
    windows = maintenance_spans(maintenance_windows, low, high, zone)
    counted: list[Span] = []
    for outage in outages:
        if not outage.counts:
            continue
        end = to_us(outage.end) if outage.end is not None else now_us
        spans = clip([(to_us(outage.start), end)], low, high)
        if outage.planned:
            spans = subtract(spans, windows)
        counted.extend(spans)
    return result_for(union(counted), period_us=period_for(period_rule, low, high), ladder=ladder)


def period_for(rule: str, low: int, high: int) -> int:
    """D §10.1: 24 h × 30 days whatever the month, unless the terms take the calendar month."""
    if rule == "fixed_30_days":
        return FIXED_30_DAYS_US
    if rule == "calendar_month":
        return high - low
    raise ValueError(f"unknown availability period {rule!r}")


def result_for(counted: list[Span], *, period_us: int, ladder: Sequence[dict]) -> MonthResult:
    unavailable = total(counted)
    availability = Fraction(period_us - unavailable, period_us) * 100
    return MonthResult(
        period_us=period_us,
        unavailable_us=unavailable,
        availability=availability,
        discount_percent=discount_for(availability, ladder),
        counted=counted,
    )
