"""Monthly snapshots of availability and discounts, and their audited recomputation."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.models import Contract, ServiceTerms
from sla.availability import from_us, month_bounds
from sla import selectors
from sla.models import MonthlyReport, Outage, ReportRevision

REPORT_CHUNK = 1000
STALE_REASON_LENGTH = 500
FIGURES = ("availability_percent", "discount_percent", "discount_amount", "unavailable_seconds", "terms_id")


def _fields(data: selectors.ContractMonth, now: datetime.datetime) -> dict:
    return {
        "terms": data.terms,
        "period_minutes": data.period_minutes,
        "unavailable_seconds": data.unavailable_seconds,
        "availability_percent": data.availability_percent,
        "discount_percent": data.discount_percent,
        "monthly_fee": data.monthly_fee,
        "discount_amount": data.discount_amount,
        "discount_arose_at": data.figures.discount_arose_at,
        "currency": data.currency,
        # The contract's own outages as judged (id, counted minutes, why left out), and the
        # service-wide ones that touched the month (judged alike for every contract of the terms).
        "outages": {
            "own": [
                [line.outage.pk, str(line.counted_minutes), line.excluded_reason]
                for line in (selectors.OutageLine(part.key, part) for part in data.own_parts)
            ],
            "service_wide": list(data.service_wide_ids),
        },
        "computed_at": now,
        "stale": False,
    }


def _figures(report: MonthlyReport) -> dict:
    return {name: str(getattr(report, name)) for name in FIGURES}


def contracts_in_month(year: int, month: int):
    first = datetime.date(year, month, 1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return (
        Contract.objects.filter(delivered_on__lt=following)
        .filter(Q(terminated_on__isnull=True) | Q(terminated_on__gt=first))
        .select_related("terms", "customer")
        .order_by("pk")
    )


def month_ends_at(year: int, month: int) -> datetime.datetime:
    """When a month is over in every terms' time zone."""
    zones = set(ServiceTerms.objects.values_list("timezone", flat=True)) or {"UTC"}
    return max(from_us(month_bounds(year, month, zoneinfo.ZoneInfo(zone))[1]) for zone in zones)


class MonthNotOver(ValueError):
    pass


def store_month(
    year: int,
    month: int,
    *,
    contracts: Iterable[Contract] | None = None,
    now: datetime.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Snapshot a month for every contract active in it. A report that exists and is not stale
    is left as it is; a stale one is recomputed under the terms version it was stored with.
    A month is stored only once it is over. Returns (created, recomputed)."""
    now = now or timezone.now()
    ends_at = month_ends_at(year, month)
    if now < ends_at:
        raise MonthNotOver(
            _("%(month)s is not complete yet: it ends at %(end)s.")
            % {"month": f"{year:04d}-{month:02d}", "end": timezone.localtime(ends_at).strftime("%Y-%m-%d %H:%M")}
        )
    contracts = list(contracts if contracts is not None else contracts_in_month(year, month))
    first = datetime.date(year, month, 1)
    existing = {
        r.contract_id: r
        for r in MonthlyReport.objects.filter(month=first, contract__in=contracts).select_related("terms", "stale_by")
    }
    todo = [c for c in contracts if c.pk not in existing or existing[c.pk].stale]
    if progress:
        progress(len(contracts) - len(todo))
    created = recomputed = 0
    for chunk_start in range(0, len(todo), REPORT_CHUNK):
        chunk = todo[chunk_start : chunk_start + REPORT_CHUNK]
        fresh = []
        with transaction.atomic():
            # A stored report keeps the terms version it was made under (D §28).
            kept_terms = {c.pk: existing[c.pk].terms for c in chunk if c.pk in existing}
            terms_of = {**selectors.terms_in_force(chunk, first), **kept_terms}
            for data in selectors.months(chunk, year, month, now=now, terms_of=terms_of):
                report = existing.get(data.contract.pk)
                if report is None:
                    fresh.append(MonthlyReport(contract=data.contract, month=first, **_fields(data, now)))
                else:
                    _recompute(report, data, now=now, reason=report.stale_reason or "recomputed", actor=report.stale_by)
                    recomputed += 1
            MonthlyReport.objects.bulk_create(fresh)
        created += len(fresh)
        if progress:
            progress(len(chunk))
    return created, recomputed


def _recompute(report: MonthlyReport, data: dict, *, now, reason: str, actor=None) -> None:
    before = _figures(report)
    for field, value in _fields(data, now).items():
        setattr(report, field, value)
    report.stale_since, report.stale_reason, report.stale_by = None, "", None
    report.save()
    report.refresh_from_db()  # the figures as stored, with the columns' decimal places
    ReportRevision.objects.create(
        report=report, at=now, actor=actor, reason=reason, before=before, after=_figures(report)
    )


def months_between(start: datetime.datetime, end: datetime.datetime | None) -> set[datetime.date]:
    """First days of the months an interval touches, a day wider on each side so that a month's
    edge in any time zone is covered."""
    end = end or timezone.now()
    day = (start - datetime.timedelta(days=1)).date().replace(day=1)
    last = (end + datetime.timedelta(days=1)).date().replace(day=1)
    months = set()
    while day <= last:
        months.add(day)
        day = (day + datetime.timedelta(days=32)).replace(day=1)
    return months


def mark_stale(outage: Outage, *, before: tuple | None = None, actor=None, reason: str) -> int:
    """An outage was registered or changed: the reports of every month it touches, before or
    after, are stale (a month's edge in another time zone is covered too)."""
    months = months_between(outage.started_at, outage.ended_at)
    if before is not None:
        months |= months_between(*before)
    reports = MonthlyReport.objects.filter(month__in=months)
    if not outage.service_wide:
        reports = reports.filter(contract__in=outage.contracts.all())
    return mark_reports_stale(reports, actor=actor, reason=reason)


def mark_reports_stale(reports, *, actor=None, reason: str) -> int:
    """Mark stored reports stale, remembering who changed what, and recompute them after commit.
    A stale report is never billed (see `billing`)."""
    actor = actor if getattr(actor, "is_authenticated", False) else None
    reason = reason[:STALE_REASON_LENGTH]
    fresh = reports.filter(stale=False).update(
        stale=True, stale_since=timezone.now(), stale_reason=reason, stale_by=actor
    )
    # A report stale already keeps its first reason and adds this one.
    again = list(reports.filter(stale=True).exclude(stale_reason__contains=reason).only("pk", "stale_reason"))
    for report in again:
        joined = f"{report.stale_reason}; {reason}"[:STALE_REASON_LENGTH]
        MonthlyReport.objects.filter(pk=report.pk).update(stale_reason=joined, stale_by=actor)
    if fresh or again:
        transaction.on_commit(_dispatch_recompute)
    return reports.filter(stale=True).count()


def _dispatch_recompute() -> None:
    from sla.tasks import recompute_stale_reports

    _dispatch(recompute_stale_reports)


def _dispatch(task) -> None:
    try:
        task.delay()
    except Exception:  # noqa: BLE001 - beat's hourly sweep recomputes what is still stale
        pass


def recompute_stale(*, now: datetime.datetime | None = None, month: datetime.date | None = None) -> int:
    """Recompute stale reports (of one month, or all) under the terms version each was stored
    with, recording who changed what as the revision's actor and reason."""
    now = now or timezone.now()
    stale = MonthlyReport.objects.filter(stale=True)
    if month is not None:
        stale = stale.filter(month=month)
    done = 0
    for pk in stale.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            locked = (
                MonthlyReport.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("contract__terms", "terms")
                .filter(pk=pk, stale=True)
                .first()
            )
            if locked is None:
                continue
            data = selectors.contract_month(
                locked.contract, locked.month.year, locked.month.month, now=now, terms=locked.terms
            )
            _recompute(locked, data, now=now, reason=locked.stale_reason or "recomputed", actor=locked.stale_by)
            done += 1
    return done


def contract_changed(sender, *, contract, since: datetime.date, actor=None, reason: str, **kwargs) -> int:
    """A contract's service time or fee changed from `since`: its reports from that month on are stale."""
    reports = MonthlyReport.objects.filter(contract=contract, month__gte=since.replace(day=1))
    return mark_reports_stale(reports, actor=actor, reason=reason)
