"""Alerts of the operator's monitoring become outages (drafts, until staff confirm them).

Each alert is known by its source's fingerprint. A firing alert drafts an unconfirmed outage of
the service its labels name (or a staff routing rule places it in); the same fingerprint again
is the same outage; a resolved notification ends it; an alert that fires again within the terms'
`alert_reopen_minutes` of its end reopens it instead of drafting another (flapping). An alert no
route places is kept for staff, never turned into an outage by guess.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from contracts.models import Contract, ServiceTerms
from sla import services
from sla.models import Alert, AlertRoute, Outage, OutageSource

FIRING, RESOLVED = "firing", "resolved"


@dataclass(frozen=True)
class Notice:
    """One alert as a source told it."""

    source: str
    fingerprint: str
    status: str  # FIRING or RESOLVED
    starts_at: datetime.datetime
    ends_at: datetime.datetime | None  # when it resolved; None while firing
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    summary: str = ""


@dataclass
class Outcome:
    """What a batch of notices did, counted by what happened to each."""

    drafted: int = 0
    unchanged: int = 0
    ended: int = 0
    reopened: int = 0
    unrouted: int = 0
    outages: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "drafted": self.drafted,
            "unchanged": self.unchanged,
            "ended": self.ended,
            "reopened": self.reopened,
            "unrouted": self.unrouted,
            "outages": sorted(set(self.outages)),
        }


@dataclass(frozen=True)
class Route:
    service: str
    contracts: tuple[Contract, ...] = ()


@dataclass
class Book:
    """What routing reads, once for a batch: the services, the contracts its labels name, the
    staff's rules."""

    services: set[str]
    by_id: dict[str, Contract]
    by_customer: dict[str, list[Contract]]
    rules: list[AlertRoute]

    @classmethod
    def read(cls, notices: list[Notice], on: datetime.date) -> Book:
        ids = {n.labels["contract"] for n in notices if n.labels.get("contract", "").isdigit()}
        orgs = {n.labels["customer"] for n in notices if n.labels.get("customer") and not n.labels.get("contract")}
        contracts = Contract.objects.select_related("terms", "customer")
        by_id = {str(c.pk): c for c in contracts.filter(pk__in=[int(i) for i in ids])} if ids else {}
        by_customer: dict[str, list[Contract]] = {}
        if orgs:
            for contract in contracts.active(on).filter(customer__org_number__in=orgs).order_by("pk"):
                by_customer.setdefault(contract.customer.org_number, []).append(contract)
        return cls(
            services=set(ServiceTerms.objects.values_list("slug", flat=True)),
            by_id=by_id,
            by_customer=by_customer,
            rules=list(AlertRoute.objects.prefetch_related("contracts__terms")),
        )


def route(labels: dict[str, str], book: Book) -> Route | None:
    """Where an alert belongs: the labels `service` (a terms slug), `contract` (an id) and
    `customer` (an organisation number), else the first staff rule that matches; None when
    nothing places it, or when the labels name what does not exist or does not fit together."""
    service, contract_id, customer = labels.get("service", ""), labels.get("contract", ""), labels.get("customer", "")
    if service or contract_id or customer:
        if contract_id:
            found = [book.by_id[contract_id]] if contract_id in book.by_id else []
        elif customer:
            found = [c for c in book.by_customer.get(customer, []) if not service or c.terms.slug == service]
        else:
            found = []
        if (contract_id or customer) and not found:
            return None
        slugs = {c.terms.slug for c in found} or {service}
        if len(slugs) != 1 or (service and slugs != {service}):
            return None
        slug = slugs.pop()
        return Route(slug, tuple(found)) if slug in book.services else None
    for rule in book.rules:
        if rule.matches(labels):
            return Route(rule.service, tuple(rule.contracts.all()))
    return None


@transaction.atomic
def take(notices: list[Notice], *, now: datetime.datetime | None = None) -> Outcome:
    """Take a batch of notices (one webhook call) in one transaction: each alert's row locked,
    in one order for every caller, so that concurrent and repeated notifications of an alert
    make one outage; new alerts' outages drafted together."""
    now = now or timezone.now()
    outcome = Outcome()
    if not notices:
        return outcome
    # The last word on each alert counts (a batch names an alert once; a repeat changes nothing).
    latest = {(n.source, n.fingerprint): n for n in notices}
    alerts = _locked_alerts(list(latest.values()), now)
    book = Book.read(list(latest.values()), timezone.localdate(now))
    drafts: list[tuple[Alert, services.Draft]] = []
    changed: list[Alert] = []
    for key, notice in latest.items():
        alert = alerts[key]
        before = (alert.status, alert.labels, alert.annotations, alert.starts_at, alert.ends_at, alert.outage_id)
        draft = _take_one(alert, notice, book, now, outcome)
        if draft is not None:
            drafts.append((alert, draft))
        elif before != (alert.status, alert.labels, alert.annotations, alert.starts_at, alert.ends_at, alert.outage_id):
            changed.append(alert)
    if drafts:
        for (alert, _draft), outage in zip(drafts, services.outage_drafts_register([d for _a, d in drafts], now=now)):
            alert.outage = outage
            outcome.outages.append(outage.pk)
    # Every alert told again, in one statement; what changed besides, row by row (a repetition,
    # the usual notification, changes nothing else).
    Alert.objects.filter(pk__in=[a.pk for a in alerts.values()]).update(
        notifications=F("notifications") + 1, last_received_at=now
    )
    # An alert first seen now holds what its notice said already; it needs only its outage.
    fresh = [alert for alert, _draft in drafts if alert.notifications == 0]
    for alert in [*changed, *(alert for alert, _draft in drafts if alert.notifications)]:
        alert.save(update_fields=["status", "labels", "annotations", "starts_at", "ends_at", "outage"])
    if fresh:
        _link(fresh)
    return outcome


def _link(alerts: list[Alert]) -> None:
    """Alerts first seen now and the outages drafted for them, in one statement."""
    table = Alert._meta.db_table
    values = ", ".join(["(%s, %s)"] * len(alerts))
    params = [value for alert in alerts for value in (alert.pk, alert.outage_id)]
    with connection.cursor() as cursor:
        # A common table expression with named columns: what PostgreSQL and SQLite both read.
        cursor.execute(
            f"WITH v(id, outage) AS (VALUES {values}) UPDATE {table} "
            f"SET outage_id = (SELECT v.outage FROM v WHERE v.id = {table}.id) WHERE id IN (SELECT id FROM v)",
            params,
        )


def _locked_alerts(notices: list[Notice], now: datetime.datetime) -> dict[tuple[str, str], Alert]:
    """Each alert's row, created on first sight, locked for this transaction in one order."""
    Alert.objects.bulk_create(
        [
            Alert(
                source=n.source,
                fingerprint=n.fingerprint,
                status=n.status,
                labels=n.labels,
                annotations=n.annotations,
                starts_at=n.starts_at,
                first_received_at=now,
                last_received_at=now,
            )
            for n in notices
        ],
        ignore_conflicts=True,
    )
    query = Q()
    for source in {n.source for n in notices}:
        query |= Q(source=source, fingerprint__in=[n.fingerprint for n in notices if n.source == source])
    rows = Alert.objects.select_for_update(of=("self",)).select_related("outage").filter(query).order_by("pk")
    return {(a.source, a.fingerprint): a for a in rows}


def _take_one(
    alert: Alert, notice: Notice, book: Book, now: datetime.datetime, outcome: Outcome
) -> services.Draft | None:
    """What one notice does to its alert's outage; the draft of a new outage, when it needs one."""
    alert.status, alert.labels, alert.annotations = notice.status, notice.labels, notice.annotations
    alert.starts_at, alert.ends_at = notice.starts_at, notice.ends_at
    started = min(notice.starts_at, now)  # a clock a little ahead of ours
    ended = None if notice.ends_at is None else max(started, min(notice.ends_at, now))
    outage = alert.outage
    if outage is not None and outage.discarded_at is None and outage.ended_at is None:
        # Going on: a repetition, or its end.
        if notice.status == RESOLVED:
            services.outage_update(outage=outage, changes={"ended_at": ended}, now=now)
            outcome.ended += 1
        else:
            outcome.unchanged += 1
        outcome.outages.append(outage.pk)
    elif outage is not None and outage.ended_at is not None and started <= outage.ended_at:
        # A late copy of what is known already (Alertmanager retries, and a copy may come last).
        outcome.unchanged += 1
        outcome.outages.append(outage.pk)
    elif outage is not None and outage.discarded_at is None and _within_reopen_window(outage, started):
        # Flapping: fired again soon after it ended, the same outage goes on.
        services.outage_update(outage=outage, changes={"ended_at": ended}, now=now)
        outcome.reopened += 1
        outcome.outages.append(outage.pk)
    else:
        placed = route(notice.labels, book)
        draft = _draft(notice, placed, started, ended) if placed is not None else None
        if draft is None:
            outcome.unrouted += 1
            if outage is None:
                alert.outage = None
        else:
            outcome.drafted += 1
        return draft
    return None


def _within_reopen_window(outage: Outage, started: datetime.datetime) -> bool:
    """Whether an alert that fired again at `started`, after its outage ended, is the same
    outage: within the terms' `alert_reopen_minutes` of the end."""
    assert outage.ended_at is not None
    terms = ServiceTerms.objects.version_in_force(outage.service, outage.ended_at.date()) if outage.service else None
    window = datetime.timedelta(minutes=terms.alert_reopen_minutes if terms else 15)
    return started - outage.ended_at <= window


def _draft(notice: Notice, placed: Route, started, ended) -> services.Draft | None:
    """The unconfirmed outage a placed alert drafts; None when its times are not ones an outage
    can have (it then waits for staff as an unrouted alert: nothing is ever lost)."""
    summary = notice.summary or notice.annotations.get("summary") or notice.labels.get("alertname", "")
    description = "\n".join(part for part in (summary, notice.annotations.get("description", "")) if part)
    draft = services.Draft(
        started_at=started,
        ended_at=ended,
        service=placed.service,
        contracts=placed.contracts,
        description=(description or notice.fingerprint)[:4000],
        source=notice.source,
        external_id=notice.fingerprint,
    )
    return draft if services.draft_problems(draft) is None else None


def unrouted(limit: int = 50) -> list[Alert]:
    """Alerts no route placed, newest first, for the board."""
    return list(Alert.objects.filter(outage__isnull=True).order_by("-last_received_at", "-id")[:limit])


def pending(limit: int = 100) -> list[Outage]:
    """Outages drafted by monitoring that staff have neither confirmed nor discarded, oldest first."""
    return list(
        Outage.objects.filter(confirmed=False, discarded_at__isnull=True)
        .exclude(source=OutageSource.STAFF)
        .prefetch_related("contracts__customer")
        .order_by("started_at", "id")[:limit]
    )
