"""Contracts' months: their outages, availability and discount, from the terms in force.

One code path serves one contract (the API) and ten thousand (the monthly reports): outages
that hit every active contract are worked out once per terms version, and each contract adds
only its own outages and its own service time (delivery to termination).
"""

from __future__ import annotations

import dataclasses
import datetime
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import cast

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contracts.clauses import cited
from contracts.fees import fee_on
from contracts.models import Contract, ContractFee, ServiceTerms, TermsBook
from core import months as months_module
from sla import availability
from sla.availability import Judged, MonthFigures, MonthRules, OutageSpan, Part, from_us, month_rules
from sla.models import Outage, OutageKind, OutageUpdate, Responsibility
from tickets.models import Classification

US_PER_MINUTE = 60_000_000
CUSTOMER_CHANGE = "customer_change"
NOT_SUPPLIERS = "not_suppliers"
UNCONFIRMED = "unconfirmed"
REASONS = {
    UNCONFIRMED: gettext_lazy("drafted by monitoring, not confirmed by staff yet"),
    availability.OUTSIDE_SERVICE: gettext_lazy("outside the contract's service time this month"),
    CUSTOMER_CHANGE: gettext_lazy("caused by an unannounced change by the customer"),
    NOT_SUPPLIERS: gettext_lazy("not the supplier's Fault"),
    availability.INSIDE_WINDOWS: gettext_lazy("planned work inside the maintenance windows"),
    availability.PARTLY_INSIDE_WINDOWS: gettext_lazy("partly planned work inside the maintenance windows"),
}
# The matter of the terms' clause table (contracts.clauses) each reason cites.
REASON_CLAUSES = {
    CUSTOMER_CHANGE: "customer_change",
    NOT_SUPPLIERS: "not_suppliers_fault",
    availability.INSIDE_WINDOWS: "maintenance_windows",
    availability.PARTLY_INSIDE_WINDOWS: "maintenance_windows",
}


def parse_month(text: str | None, *, today: datetime.date) -> tuple[int, int]:
    """A month whose figures exist: begun by `today`."""
    try:
        first = months_module.parse_month(text)
    except months_module.MonthError as error:
        raise ValidationError({"month": [str(error)]}) from None
    if first > today:
        raise ValidationError(
            {"month": [_("%(month)s has not begun yet.") % {"month": months_module.month_text(first)}]}
        )
    return first.year, first.month


def minutes_text(us: int) -> Decimal:
    return (Decimal(us) / US_PER_MINUTE).quantize(Decimal("0.0001"), ROUND_HALF_UP)


@dataclass(frozen=True)
class OutageLine:
    """One outage within one contract's month, as judged."""

    outage: Outage
    part: Part
    terms: ServiceTerms | None = None  # whose clauses the reason cites

    @property
    def counted_minutes(self) -> Decimal:
        return minutes_text(self.part.counted_us)

    @property
    def excluded_reason(self) -> str | None:
        excluded = self.part.excluded
        if excluded is None:
            return None
        key = REASON_CLAUSES.get(excluded)
        return f"{REASONS[excluded]}{cited(self.terms, key) if key else ''}"


@dataclass(frozen=True)
class ContractMonth:
    """A contract's month: the figures of `sla.availability`, with the terms version, the fee
    and the outages they were computed from."""

    contract: Contract
    terms: ServiceTerms
    year: int
    month_number: int
    figures: MonthFigures
    monthly_fee: Decimal
    own_parts: tuple[Part, ...]  # the contract's own outages; the rest of `figures.parts` are
    service_wide_ids: tuple[int, ...]  # the service-wide ones, shared by the terms' contracts
    # What the outages drafted by monitoring and not yet confirmed would count as the supplier's.
    unconfirmed_us: int = 0

    @property
    def month(self) -> str:
        return f"{self.year:04d}-{self.month_number:02d}"

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, self.month_number, 1)

    @cached_property
    def outages(self) -> list[OutageLine]:
        # Each span is named by its outage (outage_span), so each part's key is an Outage.
        lines = [OutageLine(cast(Outage, part.key), part, self.terms) for part in self.figures.parts]
        return sorted(lines, key=lambda line: (line.outage.started_at, line.outage.pk))

    @property
    def period_minutes(self) -> int:
        return self.figures.period_us // US_PER_MINUTE

    @property
    def unavailable_minutes(self) -> Decimal:
        return minutes_text(self.figures.unavailable_us)

    @property
    def unconfirmed_minutes(self) -> Decimal:
        return minutes_text(self.unconfirmed_us)

    @property
    def unavailable_seconds(self) -> int:
        return self.figures.unavailable_us // 1_000_000

    @property
    def availability_percent(self) -> Decimal:
        return Decimal(self.figures.percent_text())

    @property
    def target_percent(self) -> Decimal | None:
        return self.terms.availability_target

    @property
    def discount_percent(self) -> Decimal:
        return self.figures.discount_percent

    @property
    def discount_amount(self) -> Decimal:
        return availability.discount_amount(self.monthly_fee, self.figures.discount_percent)

    @property
    def currency(self) -> str:
        return self.terms.currency


def outage_span(outage: Outage) -> OutageSpan:
    excluded = None
    if not outage.confirmed:
        excluded = UNCONFIRMED
    elif outage.responsibility == Responsibility.CUSTOMER_CHANGE:
        excluded = CUSTOMER_CHANGE
    elif outage.responsibility != Responsibility.SUPPLIER:
        excluded = NOT_SUPPLIERS
    return OutageSpan(
        start=outage.started_at,
        end=outage.ended_at,
        planned=outage.kind == OutageKind.PLANNED,
        excluded=excluded,
        key=outage,
    )


def rules_for(terms: ServiceTerms, year: int, month: int) -> MonthRules:
    return month_rules(
        year,
        month,
        timezone=terms.timezone,
        period_rule=terms.availability_period,
        maintenance_windows=terms.maintenance_windows,
        ladder=terms.discount_ladder or [],
        promises_availability=terms.availability_target is not None,
    )


def touches_contracts(contracts) -> Q:
    """Outages of these contracts (a list or a queryset, read in the same query): their own, and
    the service-wide ones of their services."""
    chosen = contracts if isinstance(contracts, QuerySet) else Contract.objects.filter(pk__in=[c.pk for c in contracts])
    services = chosen.values("terms__slug")
    return Q(service_wide=True, service__in=services) | Q(service_wide=True, service="") | Q(contracts__in=contracts)


def outages_touching(low: datetime.datetime, high: datetime.datetime, contracts: Sequence[Contract] | None = None):
    queryset = Outage.objects.filter(started_at__lt=high, discarded_at__isnull=True).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=low)
    )
    if contracts is not None:
        queryset = queryset.filter(touches_contracts(contracts)).distinct()
    return queryset.prefetch_related("contracts").order_by("started_at", "id")


# An outage this close to a ticket's fault time is shown on the ticket, to link it in one click.
AROUND_FAULT = datetime.timedelta(hours=2)


def outages_around(ticket) -> list[Outage]:
    """Outages of the ticket's contract (or the whole service) that were going on within
    AROUND_FAULT of the fault (of the report, when the fault time is missing), nearest first."""
    moment = ticket.fault_occurred_at or ticket.received_at
    found = outages_touching(moment - AROUND_FAULT, moment + AROUND_FAULT, [ticket.contract])
    return sorted(found.prefetch_related("tickets")[:20], key=lambda outage: abs(outage.started_at - moment))


def tickets_meanwhile(outage: Outage, now: datetime.datetime, limit: int = 20):
    """Tickets of the contracts an outage hits, reported while it went on (from AROUND_FAULT
    before it), not linked yet: offered to staff for linking in one click, oldest first."""
    from tickets.models import Ticket

    if outage.service_wide:
        contracts = Contract.objects.filter(terms__slug=outage.service) if outage.service else Contract.objects.all()
    else:
        contracts = outage.contracts.all()
    until = outage.ended_at or now
    return (
        Ticket.objects.filter(
            contract__in=contracts.values("pk"),
            received_at__gte=outage.started_at - AROUND_FAULT,
            received_at__lte=until,
        )
        .exclude(outages=outage)
        .select_related("customer")
        .order_by("received_at", "pk")[:limit]
    )


RECENT = datetime.timedelta(days=30)


def recent_outages(now: datetime.datetime, limit: int = 50) -> list[Outage]:
    """What tickets in the queue are linked to: outages going on now or begun within RECENT,
    newest first."""
    going_on = Q(ended_at__isnull=True, started_at__lte=now)
    begun = Q(started_at__gte=now - RECENT, started_at__lte=now)
    return list(Outage.objects.filter(going_on | begun).order_by("-started_at", "-id")[:limit])


def planned_ahead(now: datetime.datetime, limit: int = 50) -> list[Outage]:
    """Planned work still to come (announced maintenance), soonest first, for the board."""
    return list(
        Outage.objects.filter(kind=OutageKind.PLANNED, started_at__gt=now)
        .prefetch_related("contracts__customer")
        .order_by("started_at", "id")[:limit]
    )


def outage_zones(outage: Outage) -> list[tuple[str, list[str]]]:
    """The time zones of the terms an outage concerns, each with those terms' names: its
    contracts' terms, or its service's terms in force when it hits the whole service. Prefetch
    `contracts__terms`."""
    contracts = list(outage.contracts.all())
    if contracts and not outage.service_wide:
        terms = [contract.terms for contract in contracts]
    else:
        in_force = ServiceTerms.objects.in_force(outage.started_at.date())
        terms = list(in_force.filter(slug=outage.service) if outage.service else in_force)
    zones: dict[str, set[str]] = {}
    for item in terms:
        zones.setdefault(item.timezone, set()).add(item.name)
    return [(zone, sorted(names)) for zone, names in sorted(zones.items())]


def terms_in_force(contracts: Sequence[Contract], day: datetime.date) -> dict[int, ServiceTerms]:
    """The version of each contract's terms in force on a day, in two queries (D §28)."""
    book = TermsBook(contracts)
    return {c.pk: book.version_for(c, day) for c in contracts}


def months(
    contracts: Sequence[Contract],
    year: int,
    month: int,
    *,
    now: datetime.datetime,
    terms_of: dict[int, ServiceTerms] | None = None,
    touching: list[Outage] | None = None,
) -> list[ContractMonth]:
    """Each contract's month, in the order given, under the terms version in force on the
    month's first day (or the versions given: a stored report is recomputed under its own).
    `touching`: the month's outages, when the caller read them once for many chunks."""
    if not contracts:
        return []
    first = datetime.date(year, month, 1)
    terms_of = terms_of or terms_in_force(contracts, first)
    versions = {t.pk: t for t in terms_of.values()}
    rules = {pk: rules_for(t, year, month) for pk, t in versions.items()}
    if touching is None:
        touching = list(
            outages_touching(
                from_us(min(r.low for r in rules.values())),
                from_us(max(r.high for r in rules.values())),
                contracts if len(contracts) < 50 else None,
            )
        )
    # Planned work still ahead is not part of the month yet (it is announced on the board).
    touching = [o for o in touching if o.started_at <= now]
    wide = [(o, outage_span(o)) for o in touching if o.service_wide]
    own: dict[int, list[OutageSpan]] = {}
    for outage in touching:
        if not outage.service_wide:
            span = outage_span(outage)
            for contract in outage.contracts.all():
                own.setdefault(contract.pk, []).append(span)
    # The service-wide outages are judged once per terms version and service time: for most
    # contracts that is the whole month.
    shared: dict[tuple, tuple[Judged, tuple[int, ...]]] = {}
    fees = fees_in_month(contracts, first)
    results = []
    for contract in contracts:
        terms = terms_of[contract.pk]
        rule = rules[terms.pk]
        service = rule.service_time(contract.delivered_on, contract.terminated_on)
        key = (terms.pk, service)
        if key not in shared:
            spans = [span for outage, span in wide if outage.concerns_service(terms.slug)]
            judged_wide = availability.judge(spans, rule, service, now)
            shared[key] = judged_wide, tuple(cast(Outage, part.key).pk for part in judged_wide.parts)
        judged_wide, wide_ids = shared[key]
        own_spans = own.get(contract.pk, ())
        judged_own = availability.judge(own_spans, rule, service, now)
        pending = [
            dataclasses.replace(span, excluded=None)
            for span in (*own_spans, *(span for outage, span in wide if outage.concerns_service(terms.slug)))
            if span.excluded == UNCONFIRMED
        ]
        unconfirmed_us = availability.total(availability.judge(pending, rule, service, now).counted) if pending else 0
        results.append(
            ContractMonth(
                contract=contract,
                terms=terms,
                year=year,
                month_number=month,
                figures=availability.figures([judged_wide, judged_own], rule),
                monthly_fee=fees[contract.pk],
                own_parts=judged_own.parts,
                service_wide_ids=wide_ids,
                unconfirmed_us=unconfirmed_us,
            )
        )
    return results


def recent_months(
    contracts: Sequence[Contract], *, today: datetime.date, now: datetime.datetime, count: int = 3
) -> tuple[list[str], dict[int, list[ContractMonth | None]]]:
    """The last `count` months (this one first) of each contract, None for a month it was not
    in service: one computation per month for all the contracts, so the queries do not grow
    with them. Prefetch `fees`."""
    firsts = [months_module.add_months(months_module.first_of(today), -back) for back in range(count)]
    table: dict[int, list[ContractMonth | None]] = {contract.pk: [] for contract in contracts}
    for first in firsts:
        following = months_module.next_month(first)
        serving = [
            c
            for c in contracts
            if c.delivered_on is not None
            and c.delivered_on < following
            and (c.terminated_on is None or c.terminated_on > first)
        ]
        found = {data.contract.pk: data for data in months(serving, first.year, first.month, now=now)}
        for contract in contracts:
            table[contract.pk].append(found.get(contract.pk))
    return [months_module.month_text(first) for first in firsts], table


def fees_in_month(contracts: Sequence[Contract], first: datetime.date) -> dict[int, Decimal]:
    """The monthly fee each contract paid for a month: the fee in force on its first day
    (invoiced in advance, D §15.2), from the fee history in one query."""
    rows: dict[int, list[tuple[datetime.date, Decimal]]] = {}
    cached = [c for c in contracts if "fees" in getattr(c, "_prefetched_objects_cache", {})]
    for contract in cached:
        rows[contract.pk] = contract.fee_rows
    missing = [c.pk for c in contracts if c.pk not in rows]
    for start in range(0, len(missing), 5000):
        chunk = missing[start : start + 5000]
        for contract_id, since, fee in ContractFee.objects.filter(contract_id__in=chunk).values_list(
            "contract_id", "effective_from", "monthly_fee"
        ):
            rows.setdefault(contract_id, []).append((since, fee))
    return {contract.pk: fee_on(rows[contract.pk], first) for contract in contracts}


def contract_month(
    contract: Contract, year: int, month: int, *, now: datetime.datetime, terms: ServiceTerms | None = None
) -> ContractMonth:
    """One contract's month."""
    return months([contract], year, month, now=now, terms_of={contract.pk: terms} if terms else None)[0]


def contract_months(
    contract: Contract, year_months: Sequence[tuple[int, int]], *, now: datetime.datetime
) -> list[ContractMonth]:
    """A contract's months (a chart's year), each as `contract_month` computes it, with the
    terms' versions and the outages of the whole span read once rather than month by month."""
    if not year_months:
        return []
    book = TermsBook([contract])
    terms_of = {(y, m): book.version_for(contract, datetime.date(y, m, 1)) for y, m in year_months}
    rules = {(y, m): rules_for(terms_of[(y, m)], y, m) for y, m in year_months}
    low = from_us(min(r.low for r in rules.values()))
    high = from_us(max(r.high for r in rules.values()))
    everything = list(outages_touching(low, high, [contract]))
    result = []
    for (y, m), rule in rules.items():
        start, end = from_us(rule.low), from_us(rule.high)
        touching = [o for o in everything if o.started_at < end and (o.ended_at is None or o.ended_at > start)]
        result += months([contract], y, m, now=now, terms_of={contract.pk: terms_of[(y, m)]}, touching=touching)
    return result


# D §10.4: a discount only for outages the supplier answers for ----------------------------------


def contradicting_tickets(outage: Outage) -> list:
    """Linked tickets that say the outage was not the supplier's Fault: classified as not a
    fault, or caused by the customer's unannounced change (D §17.1). Prefetch `tickets`."""
    if outage.responsibility != Responsibility.SUPPLIER:
        return []
    return [
        t for t in outage.tickets.all() if t.classification == Classification.NOT_FAULT or t.caused_by_customer_change
    ]


def unsettled(outage: Outage) -> list[str]:
    """The ticket numbers of a contradiction staff have not settled (confirmed or corrected)."""
    confirmed = set(outage.confirmed_ticket_ids or ())
    return sorted(t.number for t in contradicting_tickets(outage) if t.pk not in confirmed)


def month_outages(year: int, month: int) -> list[Outage]:
    """Every outage touching a month in any terms' time zone, with its contracts."""
    low, high = month_edges(year, month)
    return list(outages_touching(low, high))


def month_edges(year: int, month: int) -> tuple[datetime.datetime, datetime.datetime]:
    """The month from its earliest start to its latest end over the terms' time zones."""
    zones = set(ServiceTerms.objects.values_list("timezone", flat=True)) or {"UTC"}
    edges = [availability.month_bounds(year, month, zoneinfo.ZoneInfo(zone)) for zone in zones]
    return from_us(min(e[0] for e in edges)), from_us(max(e[1] for e in edges))


def contradicted():
    """Outages counted as the supplier's with a linked ticket that says otherwise, settled or not."""
    return Outage.objects.filter(
        Q(tickets__classification=Classification.NOT_FAULT) | Q(tickets__caused_by_customer_change=True),
        responsibility=Responsibility.SUPPLIER,
    ).distinct()


def month_drafts(year: int, month: int) -> list[Outage]:
    """Outages monitoring drafted that touch a month (in any terms' time zone) and that staff have
    neither confirmed nor discarded: the month's figures leave them out until they do."""
    low, high = month_edges(year, month)
    return list(
        Outage.objects.filter(confirmed=False, discarded_at__isnull=True, started_at__lt=high)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=low))
        .order_by("started_at", "pk")
    )


def month_contradictions(year: int, month: int) -> list[tuple[Outage, list[str]]]:
    """Unsettled contradictions among the outages touching a month, in any terms' time zone."""
    low, high = month_edges(year, month)
    outages = (
        contradicted()
        .filter(started_at__lt=high)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=low))
        .prefetch_related("tickets")
        .order_by("started_at", "pk")
    )
    found = []
    for outage in outages:
        numbers = unsettled(outage)
        if numbers:
            found.append((outage, numbers))
    return found


# The status page (D §10.2) ----------------------------------------------------------------------

STATUS_HISTORY = datetime.timedelta(days=90)
STATUS_LIMIT = 500
STATES = {
    "operational": gettext_lazy("All systems operational"),
    "degraded": gettext_lazy("Some contracts are affected"),
    "outage": gettext_lazy("Outage"),
    "maintenance": gettext_lazy("Planned system work under way"),
}


@dataclass(frozen=True)
class StatusOutage:
    """An outage as the status page shows it: its kind, times and public updates, and the
    viewer's own contracts it names (empty when it hits the whole service). Never its internal
    description, its tickets or the other customers it names."""

    outage: Outage
    updates: tuple
    own_contract_ids: tuple[int, ...]

    @property
    def latest(self):
        return self.updates[-1] if self.updates else None


@dataclass(frozen=True)
class StatusBoard:
    terms: ServiceTerms
    now: datetime.datetime
    ongoing: list[StatusOutage]
    ahead: list[StatusOutage]
    recent: list[StatusOutage]

    @property
    def state(self) -> str:
        unplanned = [item.outage for item in self.ongoing if item.outage.kind == OutageKind.UNPLANNED]
        if any(outage.service_wide for outage in unplanned):
            return "outage"
        if unplanned:
            return "degraded"
        return "maintenance" if self.ongoing else "operational"

    @property
    def state_label(self) -> str:
        return str(STATES[self.state])

    @property
    def since(self) -> datetime.datetime:
        return self.now - STATUS_HISTORY

    def days(self) -> list[tuple[datetime.date, list[StatusOutage]]]:
        """The last 90 days' outages by the day they started, in the terms' time zone."""
        zone = zoneinfo.ZoneInfo(self.terms.timezone)
        grouped: dict[datetime.date, list[StatusOutage]] = {}
        for item in self.recent:
            grouped.setdefault(item.outage.started_at.astimezone(zone).date(), []).append(item)
        return list(grouped.items())


def status_board(terms: ServiceTerms, *, viewer, now: datetime.datetime) -> StatusBoard:
    """What the status page of a terms shows: outages of the whole service to everyone, and
    to a signed-in customer its own contracts' outages under these terms too (staff see what
    the public sees); ongoing, planned ahead and over within STATUS_HISTORY. Three queries
    (four for a customer) however many outages and updates."""
    visible = Q(service_wide=True, service=terms.slug) | Q(service_wide=True, service="")
    prefetches: list[Prefetch] = [Prefetch("updates", queryset=OutageUpdate.objects.order_by("posted_at", "id"))]
    if viewer.is_authenticated and not viewer.is_staff:
        own = Contract.objects.visible_to(viewer).filter(terms__slug=terms.slug).only("id", "customer_id")
        visible |= Q(contracts__in=own)
        prefetches.append(Prefetch("contracts", queryset=own, to_attr="own_contracts"))
    window = (Q(ended_at__isnull=True) | Q(ended_at__gt=now - STATUS_HISTORY)) & Q(discarded_at__isnull=True)
    if not terms.status_shows_unconfirmed:
        window &= Q(confirmed=True)  # monitoring's drafts wait for staff
    ids = Outage.objects.filter(visible).filter(window).values("pk")
    outages = Outage.objects.filter(pk__in=ids).prefetch_related(*prefetches).order_by("-started_at", "-id")
    ongoing, ahead, recent = [], [], []
    for outage in outages[:STATUS_LIMIT]:
        item = StatusOutage(
            outage=outage,
            updates=tuple(outage.updates.all()),
            own_contract_ids=tuple(c.pk for c in getattr(outage, "own_contracts", ()) if not outage.service_wide),
        )
        if outage.started_at > now:
            ahead.append(item)
        elif outage.ended_at is None or outage.ended_at > now:
            ongoing.append(item)
        else:
            recent.append(item)
    ahead.reverse()  # soonest first
    return StatusBoard(terms=terms, now=now, ongoing=ongoing, ahead=ahead, recent=recent)


def affected_customer_ids(outage: Outage, day: datetime.date) -> list[int]:
    """The customers with a contract the outage hits: those it names, or, when it hits the
    whole service, every customer with a contract of that service active on the day."""
    if outage.service_wide:
        contracts = Contract.objects.active(day)
        if outage.service:
            contracts = contracts.filter(terms__slug=outage.service)
    else:
        contracts = outage.contracts.all()
    return sorted(set(contracts.values_list("customer_id", flat=True)))
