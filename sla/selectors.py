"""Contracts' months: their outages, availability and discount, from the terms in force.

One code path serves one contract (the API) and ten thousand (the monthly reports): outages
that hit every active contract are worked out once per terms version, and each contract adds
only its own outages and its own service time (delivery to termination).
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from contracts.models import Contract, ServiceTerms
from sla.availability import (
    Span,
    clip,
    from_us,
    maintenance_spans,
    month_bounds,
    period_for,
    result_for,
    subtract,
    to_us,
    total,
    union,
)
from sla.models import Outage, OutageKind, Responsibility

US_PER_MINUTE = 60_000_000
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str | None, *, today: datetime.date) -> tuple[int, int]:
    match = MONTH.match(text or "")
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValidationError({"month": [_("Give the month as YYYY-MM, e.g. 2026-10.")]})
    year, month = int(match[1]), int(match[2])
    if (year, month) > (today.year, today.month):
        raise ValidationError({"month": [_("%(month)s has not begun yet.") % {"month": text}]})
    return year, month


def minutes_text(us: int) -> Decimal:
    return (Decimal(us) / US_PER_MINUTE).quantize(Decimal("0.0001"), ROUND_HALF_UP)


@dataclass
class OutagePart:
    """One outage within one contract's month."""

    outage: Outage
    counted: list[Span]  # what counts as unavailable time
    excluded_reason: str | None

    @property
    def counted_minutes(self) -> Decimal:
        return minutes_text(total(self.counted))


def _part(outage: Outage, low: int, high: int, windows: list[Span], now_us: int) -> OutagePart:
    end = to_us(outage.ended_at) if outage.ended_at else now_us
    inside = clip([(to_us(outage.started_at), end)], low, high)
    after_windows = subtract(inside, windows) if outage.kind == OutageKind.PLANNED else inside
    reason = None
    if not inside:
        reason = _("outside the contract's service time this month")
    elif outage.responsibility == Responsibility.CUSTOMER_CHANGE:
        reason = _("caused by an unannounced change by the customer (D §17.1)")
    elif outage.responsibility != Responsibility.SUPPLIER:
        reason = _("not the supplier's Fault (D §10.4)")
    elif not after_windows:
        reason = _("planned work inside the maintenance windows (D §11.2, §11.4)")
    elif total(after_windows) < total(inside):
        reason = _("partly planned work inside the maintenance windows (D §11.4)")
    counts = outage.responsibility == Responsibility.SUPPLIER
    return OutagePart(outage, after_windows if counts else [], reason)


def outages_touching(low: datetime.datetime, high: datetime.datetime, contracts: Sequence[Contract] | None = None):
    queryset = Outage.objects.filter(started_at__lt=high).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=low))
    if contracts is not None:
        queryset = queryset.filter(Q(service_wide=True) | Q(contracts__in=contracts)).distinct()
    return queryset.prefetch_related("contracts").order_by("started_at", "id")


def terms_in_force(contracts: Sequence[Contract], day: datetime.date) -> dict[int, ServiceTerms]:
    """The version of each contract's terms in force on a day, in one query (D §28)."""
    slugs = {c.terms.slug for c in contracts}
    versions = ServiceTerms.objects.filter(slug__in=slugs).filter(
        Q(effective_from__isnull=True) | Q(effective_from__lte=day)
    )
    newest: dict[str, ServiceTerms] = {}
    for terms in versions:
        if terms.slug not in newest or terms.version > newest[terms.slug].version:
            newest[terms.slug] = terms
    return {c.pk: newest.get(c.terms.slug, c.terms) for c in contracts}


def months(
    contracts: Sequence[Contract], year: int, month: int, *, now: datetime.datetime
) -> list[dict]:
    """Each contract's month, in the order given."""
    if not contracts:
        return []
    first = datetime.date(year, month, 1)
    terms_of = terms_in_force(contracts, first)
    zones = {t.timezone for t in terms_of.values()}
    edges = [month_bounds(year, month, zoneinfo.ZoneInfo(z)) for z in zones]
    touching = list(
        outages_touching(
            from_us(min(e[0] for e in edges)),
            from_us(max(e[1] for e in edges)),
            contracts if len(contracts) < 50 else None,
        )
    )
    wide = [o for o in touching if o.service_wide]
    own: dict[int, list[Outage]] = {}
    for outage in touching:
        if not outage.service_wide:
            for contract in outage.contracts.all():
                own.setdefault(contract.pk, []).append(outage)
    now_us = to_us(now)
    shared: dict[int, tuple] = {}  # per terms version: bounds, windows, wide parts, their union
    results = []
    for contract in contracts:
        terms = terms_of[contract.pk]
        if terms.pk not in shared:
            zone = zoneinfo.ZoneInfo(terms.timezone)
            low, high = month_bounds(year, month, zone)
            windows = maintenance_spans(terms.maintenance_windows, low, high, zone)
            parts = [_part(o, low, high, windows, now_us) for o in wide]
            shared[terms.pk] = (zone, low, high, windows, parts, union(s for p in parts for s in p.counted))
        zone, low, high, windows, wide_parts, wide_union = shared[terms.pk]
        start, end = _service_time(contract, zone, low, high)
        if (start, end) != (low, high):
            # Delivered or terminated this month: the shared parts are cut to the contract's time.
            wide_parts = [_part(o, start, end, windows, now_us) for o in wide]
            wide_union = union(s for p in wide_parts for s in p.counted)
        own_parts = [_part(o, start, end, windows, now_us) for o in own.get(contract.pk, [])]
        counted = union([*wide_union, *(s for p in own_parts for s in p.counted)])
        result = result_for(
            counted, period_us=period_for(terms.availability_period or "calendar_month", low, high),
            ladder=terms.discount_ladder or [],
        )
        # Terms without an availability promise give no discount (Telia: null target).
        discount = result.discount_percent if terms.availability_target is not None else Decimal(0)
        results.append(
            {
                "contract": contract,
                "terms": terms,
                "month": f"{year:04d}-{month:02d}",
                "period_minutes": result.period_us // US_PER_MINUTE,
                "unavailable_minutes": minutes_text(result.unavailable_us),
                "unavailable_seconds": result.unavailable_us // 1_000_000,
                "availability_percent": result.percent_text(),
                "target_percent": terms.availability_target,
                "discount_percent": discount,
                "monthly_fee": contract.monthly_fee,
                "discount_amount": (contract.monthly_fee * discount / 100).quantize(Decimal("0.01"), ROUND_HALF_UP),
                "currency": terms.currency,
                # Kept apart: the service-wide parts are shared by every contract of the terms.
                "service_wide_parts": wide_parts,
                "own_parts": own_parts,
            }
        )
    return results


def contract_month(contract: Contract, year: int, month: int, *, now: datetime.datetime) -> dict:
    """One contract's month, with all its outages in time order."""
    data = months([contract], year, month, now=now)[0]
    data["outages"] = sorted(
        [*data["service_wide_parts"], *data["own_parts"]], key=lambda p: (p.outage.started_at, p.outage.pk)
    )
    return data


def _service_time(contract: Contract, zone, low: int, high: int) -> tuple[int, int]:
    def midnight(day: datetime.date) -> int:
        return to_us(datetime.datetime(day.year, day.month, day.day, tzinfo=zone))

    start = max(low, midnight(contract.delivered_on)) if contract.delivered_on else high
    end = min(high, midnight(contract.terminated_on)) if contract.terminated_on else high
    return start, max(start, end)
