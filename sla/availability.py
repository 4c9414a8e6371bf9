"""Monthly availability and the discount ladder (D §10–11). Pure Python, no Django.

Availability = (period − unavailable time) / period (D §10.1), where the period is a fixed
24 h × 30 days whatever the month's length, or the calendar month when the terms say so. Only
outages that are the supplier's Fault count (D §10.4, §16); overlapping outages count once;
outages are cut at the month's bounds in the terms' time zone and at the contract's delivery and
termination; planned system work inside the maintenance windows is not unavailable time, the
part outside them is (D §11.2–11.4).

`month_figures` is the whole computation for one contract. It is `judge` (each outage's part)
and `figures` (their union, the availability and the step) composed; the monthly reports judge
the service-wide outages once per terms and service time and each contract's own outages apart,
with the same two functions.
Arithmetic is exact: instants are integer microseconds, ratios are Fractions.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from fractions import Fraction

from core.months import midnights

UTC = datetime.UTC
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = datetime.timedelta(microseconds=1)
US_PER_SECOND = 1_000_000
FIXED_30_DAYS_US = 30 * 24 * 3600 * US_PER_SECOND
CENT = Decimal("0.01")

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
    # Why it is not unavailable time at all (not the supplier's Fault, D §10.4; an unannounced
    # customer change, D §17.1), as a code the caller chose; None: it counts.
    excluded: str | None = None
    key: object = None  # the caller's name for it (an outage's id)

    @property
    def counts(self) -> bool:
        return self.excluded is None


# Why an outage, or part of it, is not unavailable time, besides the caller's own codes.
OUTSIDE_SERVICE = "outside_service_time"
INSIDE_WINDOWS = "inside_maintenance_windows"
PARTLY_INSIDE_WINDOWS = "partly_inside_maintenance_windows"


@dataclass(frozen=True)
class Part:
    """One outage within one contract's month."""

    key: object
    counted: tuple[Span, ...]  # what counts as unavailable time
    excluded: str | None  # why (part of) it does not count

    @property
    def counted_us(self) -> int:
        return total(self.counted)


@dataclass(frozen=True)
class Judged:
    """Outages judged for one stretch of service time: each outage's part and their union."""

    parts: tuple[Part, ...]
    counted: tuple[Span, ...]


@dataclass(frozen=True)
class MonthRules:
    """What a terms version says about one month: its bounds in the terms' time zone, the
    maintenance windows inside it, the denominator and the ladder."""

    low: int
    high: int
    zone: zoneinfo.ZoneInfo
    windows: tuple[Span, ...]
    period_us: int
    ladder: tuple[tuple[Fraction, Decimal], ...]  # (below, percent), highest threshold first
    promises_availability: bool  # terms without a target give no discount (Telia)

    def midnight(self, day: datetime.date) -> int:
        return to_us(datetime.datetime(day.year, day.month, day.day, tzinfo=self.zone))

    def service_time(self, delivered_on: datetime.date | None, terminated_on: datetime.date | None) -> Span:
        """The part of the month a contract had its service: from local midnight of the delivery
        date to local midnight of the termination date; empty before delivery."""
        start = max(self.low, self.midnight(delivered_on)) if delivered_on else self.high
        end = min(self.high, self.midnight(terminated_on)) if terminated_on else self.high
        return start, max(start, end)


@dataclass(frozen=True)
class MonthFigures:
    period_us: int
    unavailable_us: int
    availability: Fraction  # percent, exact
    discount_percent: Decimal
    counted: tuple[Span, ...]  # the union of counted time inside the month
    parts: tuple[Part, ...]
    # The end of the stretch of counted time during which the month fell under the ladder's
    # first threshold: when the customer could see the discount arise (D §20.1). None: no discount.
    discount_arose_us: int | None

    def percent_text(self, places: int = 4) -> str:
        """Rounded down, so a value that earns a discount never displays as its threshold."""
        scaled = self.availability * 10**places
        floor = scaled.numerator // scaled.denominator
        return str(Decimal(floor).scaleb(-places).quantize(Decimal(1).scaleb(-places), ROUND_DOWN))

    @property
    def discount_arose_at(self) -> datetime.datetime | None:
        return None if self.discount_arose_us is None else from_us(self.discount_arose_us)


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
    start, following = midnights(datetime.date(year, month, 1), zone)
    return to_us(start), to_us(following)


def ladder_steps(ladder: Sequence[dict]) -> tuple[tuple[Fraction, Decimal], ...]:
    steps = [(Fraction(Decimal(step["below"])), Decimal(step["percent"])) for step in ladder]
    return tuple(sorted(steps, reverse=True))


def discount_for(availability: Fraction, ladder: Sequence[dict]) -> Decimal:
    """The step of the lowest threshold the exact availability is under (D §10.3)."""
    return _step(availability, ladder_steps(ladder))


def _step(availability: Fraction, steps: Sequence[tuple[Fraction, Decimal]]) -> Decimal:
    percent = Decimal(0)
    for below, step_percent in steps:
        if availability < below:
            percent = step_percent
    return percent


def period_for(rule: str, low: int, high: int) -> int:
    """D §10.1: 24 h × 30 days whatever the month, unless the terms take the calendar month."""
    if rule == "fixed_30_days":
        return FIXED_30_DAYS_US
    if rule == "calendar_month":
        return high - low
    raise ValueError(f"unknown availability period {rule!r}")


def month_rules(
    year: int,
    month: int,
    *,
    timezone: str,
    period_rule: str | None,
    maintenance_windows: Sequence[dict] | None,
    ladder: Sequence[dict],
    promises_availability: bool = True,
) -> MonthRules:
    zone = zoneinfo.ZoneInfo(timezone)
    low, high = month_bounds(year, month, zone)
    return MonthRules(
        low=low,
        high=high,
        zone=zone,
        windows=tuple(maintenance_spans(maintenance_windows, low, high, zone)),
        period_us=period_for(period_rule or "calendar_month", low, high),
        ladder=ladder_steps(ladder),
        promises_availability=promises_availability,
    )


def judge(outages: Iterable[OutageSpan], rules: MonthRules, service: Span, now: datetime.datetime) -> Judged:
    """Each outage cut at the contract's service time within the month (delivery to
    termination); planned work loses what lies inside the maintenance windows (D §11.2, §11.4);
    what is not the supplier's counts for nothing (D §10.4, §17.1)."""
    low, high = service
    now_us = to_us(now)
    parts = []
    for outage in outages:
        start = to_us(outage.start)
        # Time still to come is not unavailable yet: planned work may have an end ahead.
        end = min(to_us(outage.end), now_us) if outage.end is not None else now_us
        inside = clip([(start, max(start, end))], low, high)
        outside_windows = subtract(inside, rules.windows) if outage.planned else inside
        if not inside:
            excluded = OUTSIDE_SERVICE
        elif outage.excluded is not None:
            excluded = outage.excluded
        elif not outside_windows:
            excluded = INSIDE_WINDOWS
        elif total(outside_windows) < total(inside):
            excluded = PARTLY_INSIDE_WINDOWS
        else:
            excluded = None
        parts.append(Part(outage.key, tuple(outside_windows) if outage.counts else (), excluded))
    return Judged(tuple(parts), tuple(union(span for part in parts for span in part.counted)))


def figures(judged: Sequence[Judged], rules: MonthRules) -> MonthFigures:
    """The month's figures from outages judged in groups (the service-wide ones, shared by every
    contract of the terms, and each contract's own): overlapping time counts once."""
    with_time = [group.counted for group in judged if group.counted]
    counted = with_time[0] if len(with_time) == 1 else tuple(union(span for spans in with_time for span in spans))
    unavailable = total(counted)
    availability = Fraction(rules.period_us - unavailable, rules.period_us) * 100
    discount = _step(availability, rules.ladder) if rules.promises_availability else Decimal(0)
    return MonthFigures(
        period_us=rules.period_us,
        unavailable_us=unavailable,
        availability=availability,
        discount_percent=discount,
        counted=counted,
        parts=tuple(part for group in judged for part in group.parts),
        discount_arose_us=_discount_arose(counted, rules) if discount else None,
    )


def _discount_arose(counted: Sequence[Span], rules: MonthRules) -> int | None:
    # Under the first threshold once the unavailable time exceeds period × (100 − below) / 100.
    allowed = rules.period_us * (100 - rules.ladder[0][0]) / 100
    so_far = 0
    for start, end in counted:
        so_far += end - start
        if so_far > allowed:
            return end
    return None


def month_figures(
    outages: Iterable[OutageSpan],
    rules: MonthRules,
    *,
    delivered_on: datetime.date | None,
    terminated_on: datetime.date | None = None,
    now: datetime.datetime,
) -> MonthFigures:
    """A contract's month (D §10.1, §10.3): availability and discount step."""
    service = rules.service_time(delivered_on, terminated_on)
    return figures([judge(outages, rules, service, now)], rules)


def discount_amount(monthly_fee: Decimal, percent: Decimal) -> Decimal:
    """The discount in money, to the cent (D §10.3: a percent of the monthly fee)."""
    return (monthly_fee * percent / 100).quantize(CENT, ROUND_HALF_UP)
