"""Monthly snapshots of availability and discounts, and their audited recomputation."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import cast

from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce, Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from config.broker import hand_over
from contracts.models import Contract, ServiceTerms
from core.months import months_from, next_month
from sla import selectors
from sla.availability import from_us, month_bounds
from sla.models import MonthlyReport, Outage, ReportRevision

REPORT_CHUNK = 1000
CENT = Decimal("0.01")
STALE_REASON_LENGTH = 500
FIGURES = ("availability_percent", "discount_percent", "discount_amount", "unavailable_seconds", "terms_id")


def contracts_in_month(year: int, month: int):
    first = datetime.date(year, month, 1)
    following = next_month(first)
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


def check_month_over(year: int, month: int, now: datetime.datetime) -> None:
    ends_at = month_ends_at(year, month)
    if now < ends_at:
        raise MonthNotOver(
            _("%(month)s is not complete yet: it ends at %(end)s.")
            % {"month": f"{year:04d}-{month:02d}", "end": timezone.localtime(ends_at).strftime("%Y-%m-%d %H:%M")}
        )


def store_month(
    year: int,
    month: int,
    *,
    contracts: Iterable[Contract] | None = None,
    now: datetime.datetime | None = None,
    progress: Callable[[int], object] | None = None,
) -> tuple[int, int]:
    """Snapshot a month for every contract active in it. A report that exists and is not stale
    is left as it is; a stale one is recomputed under the terms version it was stored with.
    A month is stored only once it is over. Returns (created, recomputed)."""
    now = now or timezone.now()
    check_month_over(year, month, now)
    everyone = contracts is None
    contracts = list(contracts if contracts is not None else contracts_in_month(year, month))
    first = datetime.date(year, month, 1)
    stored = set(
        MonthlyReport.objects.filter(month=first, contract__in=contracts).values_list("contract_id", flat=True)
    )
    todo = [c for c in contracts if c.pk not in stored]
    if progress:
        progress(len(contracts) - len(todo))
    created = 0
    started = timezone.now()
    touching = selectors.month_outages(year, month) if len(todo) >= 50 else None
    for chunk_start in range(0, len(todo), REPORT_CHUNK):
        chunk = todo[chunk_start : chunk_start + REPORT_CHUNK]
        fresh = [
            MonthlyReport(contract=data.contract, month=first, **_fields(data, now))
            for data in selectors.months(chunk, year, month, now=now, touching=touching)
        ]
        # Two clerks storing the same month at once: the first report of a contract stands.
        with transaction.atomic():
            before = MonthlyReport.objects.filter(month=first).count()
            MonthlyReport.objects.bulk_create(fresh, ignore_conflicts=True)
            created += MonthlyReport.objects.filter(month=first).count() - before
            _changed_meanwhile(first, chunk, started)
        if progress:
            progress(len(chunk))
    return created, recompute_stale(now=now, month=first, contracts=None if everyone else contracts)


def _changed_meanwhile(first: datetime.date, chunk: list[Contract], started: datetime.datetime) -> None:
    """An outage or a contract that changed while the chunk was computed found no report to mark
    stale: the new reports are marked now, and recomputed."""
    following = next_month(first)
    # A day wider than the month, so that its edge in any time zone is covered.
    before = datetime.datetime.combine(following + datetime.timedelta(days=1), datetime.time(), tzinfo=datetime.UTC)
    ids = [c.pk for c in chunk]
    outages = Outage.objects.filter(updated_at__gt=started, started_at__lt=before)
    contracts = Contract.objects.filter(pk__in=ids, updated_at__gt=started)
    if outages.exists():
        mark_reports_stale(
            MonthlyReport.objects.filter(month=first, contract__in=ids),
            reason="an outage changed while the month was stored",
        )
    elif contracts.exists():
        mark_reports_stale(
            MonthlyReport.objects.filter(month=first, contract__in=contracts),
            reason="the contract changed while the month was stored",
        )


def _fields(data: selectors.ContractMonth, now: datetime.datetime) -> dict:
    return {
        "terms": data.terms,
        "period_minutes": data.period_minutes,
        "unavailable_seconds": data.unavailable_seconds,
        "availability_percent": data.availability_percent,
        "discount_percent": data.discount_percent.quantize(CENT),
        "monthly_fee": data.monthly_fee,
        "discount_amount": data.discount_amount,
        "discount_arose_at": data.figures.discount_arose_at,
        "currency": data.currency,
        # The contract's own outages as judged (id, counted minutes, why left out), and the
        # service-wide ones that touched the month (judged alike for every contract of the terms).
        "outages": {
            "own": [
                [line.outage.pk, str(line.counted_minutes), line.excluded_reason]
                for line in (selectors.OutageLine(cast(Outage, part.key), part) for part in data.own_parts)
            ],
            "service_wide": list(data.service_wide_ids),
        },
        "computed_at": now,
        "stale": False,
        "stale_since": None,
        "stale_reason": "",
        "stale_by": None,
    }


def _figures(report: MonthlyReport) -> dict:
    return {name: str(getattr(report, name)) for name in FIGURES}


def recompute_stale(
    *,
    now: datetime.datetime | None = None,
    month: datetime.date | None = None,
    contracts: Iterable[Contract] | None = None,
) -> int:
    """Recompute stale reports (of one month, or all) under the terms version each was stored
    with, a chunk at a time, each report locked (a second worker takes the others). Each writes
    a revision: the figures before and after, and who changed what (the report's stale reason)."""
    now = now or timezone.now()
    stale = MonthlyReport.objects.filter(stale=True)
    if month is not None:
        stale = stale.filter(month=month)
    if contracts is not None:
        stale = stale.filter(contract__in=[c.pk for c in contracts])
    done = 0
    for first in sorted(set(stale.values_list("month", flat=True))):
        touching, read_at = None, None
        while True:
            with transaction.atomic():
                chunk = list(
                    stale.filter(month=first)
                    .select_for_update(skip_locked=True, of=("self",))
                    .select_related("contract__terms", "terms")
                    .order_by("pk")[:REPORT_CHUNK]
                )
                if not chunk:
                    break
                terms_of = {report.contract_id: report.terms for report in chunk}
                # The month's outages are read once for all chunks, and again when one changed.
                if len(chunk) >= 50 and (touching is None or Outage.objects.filter(updated_at__gt=read_at).exists()):
                    read_at = timezone.now()
                    touching = selectors.month_outages(first.year, first.month)
                computed = selectors.months(
                    [r.contract for r in chunk], first.year, first.month, now=now, terms_of=terms_of, touching=touching
                )
                revisions = []
                for report, data in zip(chunk, computed, strict=True):
                    fields = _fields(data, now)
                    revisions.append(_recompute(report, fields, now=now))
                    # One plain UPDATE a row: Django's bulk_update builds a CASE per field and row.
                    MonthlyReport.objects.filter(pk=report.pk).update(**fields)
                ReportRevision.objects.bulk_create(revisions)
                done += len(chunk)
    return done


def _recompute(report: MonthlyReport, fields: dict, *, now) -> ReportRevision:
    """The report brought up to date in memory, and the revision that says so."""
    before = _figures(report)
    reason, actor_id = report.stale_reason or "recomputed", report.stale_by_id
    for field, value in fields.items():
        setattr(report, field, value)
    return ReportRevision(
        report=report, at=now, actor_id=actor_id, reason=reason, before=before, after=_figures(report)
    )


def months_between(start: datetime.datetime, end: datetime.datetime | None) -> set[datetime.date]:
    """First days of the months an interval touches, a day wider on each side so that a month's
    edge in any time zone is covered."""
    end = end or timezone.now()
    return set(months_from((start - datetime.timedelta(days=1)).date(), (end + datetime.timedelta(days=1)).date()))


def mark_stale(outage: Outage, *, before: tuple | None = None, actor=None, reason: str) -> int:
    """An outage was registered or changed: the reports of every month it touches, before or
    after, are stale (a month's edge in another time zone is covered too)."""
    months = months_between(outage.started_at, outage.ended_at)
    if before is not None:
        months |= months_between(*before)
    reports = MonthlyReport.objects.filter(month__in=months)
    if not outage.service_wide:
        reports = reports.filter(contract__in=outage.contracts.all())
    elif outage.service:
        reports = reports.filter(contract__terms__slug=outage.service)
    return mark_reports_stale(reports, actor=actor, reason=reason)


def mark_reports_stale(reports, *, actor=None, reason: str) -> int:
    """Mark stored reports stale, remembering who changed what, and recompute them after commit.
    A stale report is never billed (see `billing`)."""
    actor = actor if getattr(actor, "is_authenticated", False) else None
    if actor is not None:
        reason = f"{reason} by {actor.get_username()}"
    reason = reason[:STALE_REASON_LENGTH]
    # One UPDATE with no condition on `stale`: a report being recomputed right now (its row locked)
    # is marked again once that recomputation commits, so a change made meanwhile is never lost.
    # A report stale already keeps its reasons and adds this one.
    marked = reports.update(
        stale=True,
        stale_since=Coalesce(F("stale_since"), Value(timezone.now())),
        stale_by=actor,
        stale_reason=Case(
            When(Q(stale=True) & Q(stale_reason__contains=reason), then=F("stale_reason")),
            When(
                Q(stale=True) & ~Q(stale_reason=""),
                then=Substr(Concat(F("stale_reason"), Value("; " + reason)), 1, STALE_REASON_LENGTH),
            ),
            default=Value(reason),
        ),
    )
    if marked:
        transaction.on_commit(_dispatch_recompute)
    return marked


def _dispatch_recompute() -> None:
    hand_over("sla.tasks.recompute_stale_reports", waiting="the stale reports (beat recomputes them hourly)")


def contract_changed(sender, *, contract, since: datetime.date, actor=None, reason: str, **kwargs) -> int:
    """A contract's service time or fee changed from `since`: its reports from that month on are stale."""
    reports = MonthlyReport.objects.filter(contract=contract, month__gte=since.replace(day=1))
    return mark_reports_stale(reports, actor=actor, reason=reason)
