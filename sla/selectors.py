"""A contract's month: its outages, availability and discount, from the terms in force."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from contracts.models import Contract
from sla.availability import (
    OutageSpan,
    clip,
    from_us,
    maintenance_spans,
    month_availability,
    month_bounds,
    subtract,
    to_us,
    total,
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


def outages_touching(contract: Contract, low: datetime.datetime, high: datetime.datetime):
    return (
        Outage.objects.filter(Q(service_wide=True) | Q(contracts=contract))
        .filter(started_at__lt=high)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=low))
        .distinct()
        .order_by("started_at", "id")
    )


def service_bounds(contract: Contract, zone: zoneinfo.ZoneInfo) -> tuple[int | None, int | None]:
    """The contract's own time: from delivery to termination, local midnights."""
    def midnight(day):
        return to_us(datetime.datetime(day.year, day.month, day.day, tzinfo=zone)) if day else None

    return midnight(contract.delivered_on), midnight(contract.terminated_on)


def contract_month(
    contract: Contract, year: int, month: int, *, now: datetime.datetime, outages=None
) -> dict:
    terms = contract.terms_in_force(datetime.date(year, month, 1))
    zone = zoneinfo.ZoneInfo(terms.timezone)
    low, high = month_bounds(year, month, zone)
    served_from, served_until = service_bounds(contract, zone)
    if outages is None:
        outages = list(outages_touching(contract, from_us(low), from_us(high)))
    start_bound = max(low, served_from) if served_from is not None else high
    end_bound = min(high, served_until) if served_until is not None else high
    now_us = to_us(now)
    windows = maintenance_spans(terms.maintenance_windows, low, high, zone)
    spans, details = [], []
    for outage in outages:
        end = to_us(outage.ended_at) if outage.ended_at else now_us
        inside = clip([(to_us(outage.started_at), end)], start_bound, end_bound)
        counted = subtract(inside, windows) if outage.kind == OutageKind.PLANNED else inside
        reason = None
        if not inside:
            reason = _("outside the contract's service time this month")
        elif outage.responsibility == Responsibility.CUSTOMER_CHANGE:
            reason = _("caused by an unannounced change by the customer (D §17.1)")
        elif outage.responsibility != Responsibility.SUPPLIER:
            reason = _("not the supplier's Fault (D §10.4)")
        elif not counted:
            reason = _("planned work inside the maintenance windows (D §11.2, §11.4)")
        elif total(counted) < total(inside):
            reason = _("partly planned work inside the maintenance windows (D §11.4)")
        counts = outage.responsibility == Responsibility.SUPPLIER
        details.append(
            {
                "outage": outage,
                "counted_minutes": minutes_text(total(counted) if counts else 0),
                "excluded_reason": reason,
            }
        )
        if inside and counts:
            # At most one span: one outage clipped to the contract's time in the month.
            spans.append(
                OutageSpan(
                    start=from_us(inside[0][0]),
                    end=from_us(inside[0][1]),
                    planned=outage.kind == OutageKind.PLANNED,
                    counts=True,
                )
            )
    rule = terms.availability_period or "calendar_month"
    result = month_availability(
        spans,
        year=year,
        month=month,
        timezone=terms.timezone,
        period_rule=rule,
        maintenance_windows=terms.maintenance_windows,
        ladder=terms.discount_ladder or [],
        now=now,
    )
    discount = result.discount_percent if terms.availability_target is not None else Decimal(0)
    amount = (contract.monthly_fee * discount / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return {
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
        "discount_amount": amount,
        "currency": terms.currency,
        "outages": details,
    }


def minutes_text(us: int) -> Decimal:
    return (Decimal(us) / US_PER_MINUTE).quantize(Decimal("0.0001"), ROUND_HALF_UP)
