"""Monthly snapshots of availability and discounts, and their audited recomputation."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from contracts.models import Contract
from sla import selectors
from sla.models import MonthlyReport, Outage, ReportRevision

REPORT_CHUNK = 1000
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


def store_month(
    year: int,
    month: int,
    *,
    contracts: Iterable[Contract] | None = None,
    now: datetime.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Snapshot a month for every contract active in it. A report that exists and is not stale
    is left as it is. Returns (created, recomputed)."""
    now = now or timezone.now()
    contracts = list(contracts if contracts is not None else contracts_in_month(year, month))
    first = datetime.date(year, month, 1)
    existing = {
        r.contract_id: r for r in MonthlyReport.objects.filter(month=first, contract__in=contracts)
    }
    todo = [c for c in contracts if c.pk not in existing or existing[c.pk].stale]
    if progress:
        progress(len(contracts) - len(todo))
    created = recomputed = 0
    for chunk_start in range(0, len(todo), REPORT_CHUNK):
        chunk = todo[chunk_start : chunk_start + REPORT_CHUNK]
        fresh = []
        with transaction.atomic():
            for data in selectors.months(chunk, year, month, now=now):
                report = existing.get(data.contract.pk)
                if report is None:
                    fresh.append(MonthlyReport(contract=data.contract, month=first, **_fields(data, now)))
                else:
                    _recompute(report, data, now=now, reason="stale: an outage of this month changed")
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


def mark_stale(outage: Outage, *, before: tuple, actor=None) -> int:
    """An outage changed: the reports of every month it touched, before or after, are stale,
    and are recomputed after commit (a month's edge in another time zone is covered too)."""
    months = months_between(*before) | months_between(outage.started_at, outage.ended_at)
    reports = MonthlyReport.objects.filter(month__in=months)
    if not outage.service_wide:
        reports = reports.filter(contract__in=outage.contracts.all())
    count = reports.update(stale=True)
    if count:
        from sla.tasks import recompute_stale_reports

        transaction.on_commit(lambda: _dispatch(recompute_stale_reports))
    return count


def _dispatch(task) -> None:
    try:
        task.delay()
    except Exception:  # noqa: BLE001 - beat's hourly sweep recomputes what is still stale
        pass


def recompute_stale(*, now: datetime.datetime | None = None) -> int:
    now = now or timezone.now()
    done = 0
    for report in MonthlyReport.objects.filter(stale=True).select_related("contract__terms").order_by("pk"):
        with transaction.atomic():
            locked = MonthlyReport.objects.select_for_update(skip_locked=True).filter(pk=report.pk, stale=True).first()
            if locked is None:
                continue
            data = selectors.contract_month(locked.contract, report.month.year, report.month.month, now=now)
            _recompute(locked, data, now=now, reason="an outage of this month changed")
            done += 1
    return done
