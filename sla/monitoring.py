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

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from contracts.models import Contract, ServiceTerms
from sla import services
from sla.models import Alert, AlertRoute, Outage, OutageKind, OutageSource

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


def route(labels: dict[str, str], *, rules: list[AlertRoute] | None = None, on: datetime.date) -> Route | None:
    """Where an alert belongs: the labels `service` (a terms slug), `contract` (an id) and
    `customer` (an organisation number), else the first staff rule that matches; None when
    nothing places it, or when the labels name what does not exist or does not fit together."""
    service, contract_id, customer = labels.get("service", ""), labels.get("contract", ""), labels.get("customer", "")
    if service or contract_id or customer:
        contracts = Contract.objects.select_related("terms")
        if contract_id:
            if not contract_id.isdigit():
                return None
            found = list(contracts.filter(pk=int(contract_id)))
        elif customer:
            found = list(contracts.active(on).filter(customer__org_number=customer))
            if service:
                found = [c for c in found if c.terms.slug == service]
        else:
            found = []
        if (contract_id or customer) and not found:
            return None
        slugs = {c.terms.slug for c in found} or {service}
        if len(slugs) != 1 or (service and slugs != {service}):
            return None
        slug = slugs.pop()
        if not found and not ServiceTerms.objects.filter(slug=slug).exists():
            return None
        return Route(slug, tuple(found))
    for rule in rules if rules is not None else AlertRoute.objects.prefetch_related("contracts__terms"):
        if rule.matches(labels):
            return Route(rule.service, tuple(rule.contracts.all()))
    return None


def take(notices: list[Notice], *, now: datetime.datetime | None = None) -> Outcome:
    """Take a batch of notices (one webhook call), each in its own transaction."""
    now = now or timezone.now()
    rules = list(AlertRoute.objects.prefetch_related("contracts__terms"))
    outcome = Outcome()
    for notice in notices:
        _take_one(notice, rules, now, outcome)
    return outcome


def _locked_alert(notice: Notice, now: datetime.datetime) -> Alert:
    """The alert's row, created on first sight, locked for this transaction."""
    defaults = {
        "status": notice.status,
        "labels": notice.labels,
        "annotations": notice.annotations,
        "starts_at": notice.starts_at,
        "first_received_at": now,
        "last_received_at": now,
    }
    try:
        with transaction.atomic():
            Alert.objects.get_or_create(source=notice.source, fingerprint=notice.fingerprint, defaults=defaults)
    except IntegrityError:
        pass  # created meanwhile by a concurrent notification: locked below
    return Alert.objects.select_for_update().get(source=notice.source, fingerprint=notice.fingerprint)


@transaction.atomic
def _take_one(notice: Notice, rules: list[AlertRoute], now: datetime.datetime, outcome: Outcome) -> None:
    alert = _locked_alert(notice, now)
    alert.status, alert.labels, alert.annotations = notice.status, notice.labels, notice.annotations
    alert.starts_at, alert.ends_at = notice.starts_at, notice.ends_at
    alert.notifications += 1
    alert.last_received_at = now
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
        placed = route(notice.labels, rules=rules, on=timezone.localdate(now))
        drafted = _draft(notice, placed, started, ended, now) if placed is not None else None
        alert.outage = drafted or outage
        if drafted is None:
            if outage is None:
                alert.outage = None
            outcome.unrouted += 1
        else:
            outcome.drafted += 1
            outcome.outages.append(drafted.pk)
    alert.save()


def _within_reopen_window(outage: Outage, started: datetime.datetime) -> bool:
    """Whether an alert that fired again at `started`, after its outage ended, is the same
    outage: within the terms' `alert_reopen_minutes` of the end."""
    assert outage.ended_at is not None
    terms = ServiceTerms.objects.version_in_force(outage.service, outage.ended_at.date()) if outage.service else None
    window = datetime.timedelta(minutes=terms.alert_reopen_minutes if terms else 15)
    return started - outage.ended_at <= window


def _draft(notice: Notice, placed: Route, started, ended, now) -> Outage | None:
    """The unconfirmed outage a placed alert drafts; None when its times are not ones an outage
    can have (then it waits for staff as an unrouted alert, as nothing is ever lost)."""
    summary = notice.summary or notice.annotations.get("summary") or notice.labels.get("alertname", "")
    description = (
        "\n".join(part for part in (summary, notice.annotations.get("description", "")) if part) or notice.fingerprint
    )
    try:
        return services.outage_register(
            started_at=started,
            ended_at=ended,
            kind=OutageKind.UNPLANNED,
            responsibility="",
            description=description[:4000],
            contracts=list(placed.contracts),
            service=placed.service,
            source=notice.source,
            external_id=notice.fingerprint,
            confirmed=False,
            now=now,
        )
    except ValidationError:
        return None


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
