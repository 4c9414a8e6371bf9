"""Writes for outages. Each raises ValidationError keyed by field and writes nothing on bad input."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.models import Contract, NoticeChannel, ServiceTerms
from contracts.services import notice_received_on
from core.validation import check_time, labels
from sla import outage_mail, reports, selectors
from sla.availability import maintenance_spans, subtract, to_us
from sla.models import (
    MonthlyReport,
    Outage,
    OutageKind,
    OutageUpdate,
    Responsibility,
    UpdateState,
)

# How far ahead planned work may be registered: further is a mistyped year.
PLANNED_AHEAD = datetime.timedelta(days=366)
FIELDS = ("started_at", "ended_at", "kind", "responsibility", "announced_at", "announced_via", "description")


def _validate(outage: Outage, contracts: list[Contract], tickets: list, now: datetime.datetime) -> None:
    errors: dict[str, list[str]] = {}
    if outage.kind not in OutageKind.values:
        errors["kind"] = [
            _("Choose %(unplanned)s or %(planned)s.")
            % {"unplanned": OutageKind.UNPLANNED.label, "planned": OutageKind.PLANNED.label}
        ]
    if outage.discarded_at is not None:
        raise ValidationError(
            {"outage": [_("This outage was discarded as a false alarm: register a new one if it was real.")]}
        )
    undecided = outage.responsibility == "" and not outage.confirmed  # drafted by monitoring
    if outage.responsibility not in Responsibility.values and not undecided:
        errors["responsibility"] = [_("Choose who answers for it: %(labels)s.") % {"labels": labels(Responsibility)}]
    for field in ("started_at", "ended_at", "announced_at"):
        check_time(errors, field, getattr(outage, field))
    if errors:
        raise ValidationError(errors)
    # Planned work is announced ahead (D §11.3), so it may lie in the future, end included;
    # a fault is registered as it happens.
    planned = outage.kind == OutageKind.PLANNED
    if outage.started_at > now and not planned:
        errors["started_at"] = [_("An outage cannot start in the future; only planned work is registered ahead.")]
    elif outage.started_at > now + PLANNED_AHEAD:
        errors["started_at"] = [_("Planned work is registered at most a year ahead.")]
    if outage.ended_at is not None:
        if outage.ended_at < outage.started_at:
            errors["ended_at"] = [_("An outage cannot end before it starts.")]
        elif outage.ended_at > now and not planned:
            errors["ended_at"] = [_("An outage cannot end in the future; leave it open while it goes on.")]
    if outage.announced_via and outage.announced_via not in NoticeChannel.values:
        errors["announced_via"] = [_("Announced by letter, e-mail or phone.")]
    elif outage.announced_via and outage.announced_at is None:
        errors["announced_via"] = [_("Give when it was announced too.")]
    if outage.announced_at is not None:
        if outage.kind != OutageKind.PLANNED:
            errors["announced_at"] = [_("Only planned work is announced.")]
        elif outage.announced_at > outage.started_at:
            errors["announced_at"] = [_("The announcement must come before the work starts.")]
    if contracts:
        customers = {c.customer_id for c in contracts}
        foreign = [t.number for t in tickets if t.customer_id not in customers]
        if foreign:
            errors["tickets"] = [
                _("These tickets belong to customers the outage does not name: %(numbers)s.")
                % {"numbers": ", ".join(foreign)}
            ]
    if errors:
        raise ValidationError(errors)


def _service(outage: Outage, contracts: list[Contract], service: str | None) -> str:
    """The service (terms slug) an outage belongs to: its contracts', or the one named; a
    service-wide outage without one takes the desk's only service. Raises ValidationError."""
    if contracts:
        slugs = sorted({c.terms.slug for c in contracts})
        if len(slugs) > 1:
            raise ValidationError(
                {
                    "contracts": [
                        _(
                            "An outage belongs to one service, and these contracts are of %(services)s: register one "
                            "outage for each."
                        )
                        % {"services": ", ".join(slugs)}
                    ]
                }
            )
        if service and service != slugs[0]:
            raise ValidationError(
                {"service": [_("The contracts named are of the service %(service)s.") % {"service": slugs[0]}]}
            )
        return slugs[0]
    known = sorted(set(ServiceTerms.objects.values_list("slug", flat=True)))
    if service:
        if service not in known:
            raise ValidationError(
                {
                    "service": [
                        _("No service is called %(service)s; the services are %(services)s.")
                        % {"service": service, "services": ", ".join(known)}
                    ]
                }
            )
        return service
    active = set(Contract.objects.active(outage.started_at.date()).values_list("terms__slug", flat=True))
    candidates = sorted(active) or known
    if len(candidates) == 1:
        return candidates[0]
    raise ValidationError(
        {
            "service": [
                _(
                    "Name the service the outage belongs to (%(services)s): it concerns every active contract of that "
                    "service and no other."
                )
                % {"services": ", ".join(candidates)}
            ]
        }
    )


def short_notice_terms(outage: Outage, contracts: list[Contract]) -> list[str]:
    """Planned work outside the maintenance windows needs notice: D §11.3 two weeks, T §5.1 ten
    working days. Returns the slugs of the terms whose notice was not met."""
    if outage.kind != OutageKind.PLANNED:
        return []
    if contracts:
        terms_list = {c.terms_in_force(outage.started_at.date()) for c in contracts}
    else:
        in_force = ServiceTerms.objects.in_force(outage.started_at.date())
        terms_list = set(in_force.filter(slug=outage.service) if outage.service else in_force)
    short = []
    for terms in sorted(terms_list, key=lambda t: t.slug):
        zone = zoneinfo.ZoneInfo(terms.timezone)
        end = outage.ended_at or outage.started_at + datetime.timedelta(minutes=1)
        span = [(to_us(outage.started_at), to_us(end))]
        windows = maintenance_spans(terms.maintenance_windows, span[0][0], span[0][1], zone)
        if not subtract(span, windows):
            continue  # wholly inside the windows: no notice needed (D §11.2)
        if outage.announced_at is None:
            short.append(terms.slug)
            continue
        # D §25.2: the notice counts from when the customer has it (an e-mail three days later).
        announced = notice_received_on(terms, outage.announced_at.astimezone(zone).date(), outage.announced_via)
        starts = outage.started_at.astimezone(zone).date()
        if terms.planned_work_notice_days is not None:
            if (starts - announced).days < terms.planned_work_notice_days:
                short.append(terms.slug)
        elif terms.planned_work_notice_working_days is not None:
            if terms.calendar.working_days_between(announced, starts) < terms.planned_work_notice_working_days:
                short.append(terms.slug)
    return short


@transaction.atomic
def outage_register(
    *,
    started_at: datetime.datetime,
    kind: str,
    responsibility: str,
    ended_at: datetime.datetime | None = None,
    announced_at: datetime.datetime | None = None,
    announced_via: str = "",
    description: str = "",
    contracts: list[Contract] | None = None,
    service: str | None = None,
    tickets: list | None = None,
    actor=None,
    now: datetime.datetime | None = None,
) -> Outage:
    """A new outage of one service: of the contracts named, or of every active contract of
    `service` (its terms slug; the desk's only service when left out)."""
    contracts, tickets = list(contracts or []), list(tickets or [])
    outage = Outage(
        started_at=started_at,
        ended_at=ended_at,
        kind=kind,
        responsibility=responsibility,
        announced_at=announced_at,
        # An announcement without its channel is taken as an e-mail, the usual way.
        announced_via=announced_via or (NoticeChannel.EMAIL if announced_at else ""),
        description=(description or "").strip(),
        service_wide=not contracts,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    _validate(outage, contracts, tickets, now or timezone.now())
    outage.service = _service(outage, contracts, service)
    outage.short_notice_terms = short_notice_terms(outage, contracts)
    outage.save()
    outage.contracts.set(contracts)
    outage.tickets.set(tickets)
    reports.mark_stale(outage, actor=actor, reason=f"outage {outage.pk} registered")
    return outage


@transaction.atomic
def outage_update(*, outage: Outage, changes: dict, actor=None, now: datetime.datetime | None = None) -> Outage:
    """Change an outage (most often: end it). Reports of the months it touches are marked stale."""
    outage = Outage.objects.select_for_update().get(pk=outage.pk)
    before = (outage.started_at, outage.ended_at)
    contracts_before = set(outage.contracts.all())
    was_service_wide, service_before, was_confirmed = outage.service_wide, outage.service, outage.confirmed
    contracts = changes.pop("contracts", None)
    service = changes.pop("service", None)
    tickets = changes.pop("tickets", None)
    for field, value in changes.items():
        if field in FIELDS:
            setattr(outage, field, value)
    if not outage.confirmed and changes.get("responsibility"):
        # Staff confirm a drafted outage by deciding who answers for it.
        outage.confirmed = True
    if "announced_at" in changes and "announced_via" not in changes:
        outage.announced_via = (outage.announced_via or NoticeChannel.EMAIL) if outage.announced_at else ""
    contract_list = list(contracts) if contracts is not None else list(outage.contracts.all())
    ticket_list = list(tickets) if tickets is not None else list(outage.tickets.all())
    _validate(outage, contract_list, ticket_list, now or timezone.now())
    if contracts is not None:
        outage.service_wide = not contract_list
    if contracts is not None or service:
        outage.service = _service(outage, contract_list, service)
    outage.short_notice_terms = short_notice_terms(outage, contract_list)
    if "responsibility" in changes or tickets is not None:
        # A confirmation of the supplier's responsibility was about the outage as it was.
        outage.confirmed_ticket_ids, outage.confirmation_note = [], ""
        outage.confirmed_by = outage.confirmed_at = None
    outage.save()
    if contracts is not None:
        outage.contracts.set(contract_list)
    if tickets is not None:
        outage.tickets.set(ticket_list)
    changed = sorted(name for name in changes if name in FIELDS) + (["contracts"] if contracts is not None else [])
    if outage.service != service_before:
        changed.append("service")
    if outage.confirmed and not was_confirmed:
        changed.append("confirmed")
    reason = f"outage {outage.pk} changed: {', '.join(changed) or 'nothing'}"
    if not outage.confirmed:
        return outage  # still a draft: no figure changes
    reports.mark_stale(outage, before=before, actor=actor, reason=reason)
    if contracts_before and not was_service_wide:
        # Contracts the outage no longer names lose it: their months change too.
        reports.mark_reports_stale(
            MonthlyReport.objects.filter(contract__in=contracts_before, month__in=reports.months_between(*before)),
            actor=actor,
            reason=reason,
        )
    if was_service_wide and (not outage.service_wide or outage.service != service_before):
        # The contracts it hit before lose it.
        hit = MonthlyReport.objects.filter(month__in=reports.months_between(*before))
        if service_before:
            hit = hit.filter(contract__terms__slug=service_before)
        reports.mark_reports_stale(hit, actor=actor, reason=reason)
    return outage


@dataclass(frozen=True)
class Draft:
    """An unplanned outage monitoring saw, placed in its service (and contracts), whose
    responsibility staff have yet to decide."""

    started_at: datetime.datetime
    ended_at: datetime.datetime | None
    service: str
    contracts: tuple[Contract, ...]
    description: str
    source: str
    external_id: str

    def outage(self) -> Outage:
        return Outage(
            started_at=self.started_at,
            ended_at=self.ended_at,
            kind=OutageKind.UNPLANNED,
            responsibility="",
            description=self.description,
            service=self.service,
            service_wide=not self.contracts,
            source=self.source,
            external_id=self.external_id,
            confirmed=False,
            short_notice_terms=[],
        )


def draft_problems(draft: Draft, now: datetime.datetime | None = None) -> dict | None:
    """What keeps a draft from being an outage (its times), or None."""
    try:
        _validate(draft.outage(), list(draft.contracts), [], now or timezone.now())
    except ValidationError as error:
        return error.message_dict
    return None


@transaction.atomic
def outage_drafts_register(drafts: list[Draft], *, now: datetime.datetime | None = None) -> list[Outage]:
    """Outages drafted by monitoring, in the order given, written together: a draft counts in no
    figure, so no report goes stale until staff confirm it. Raises ValidationError, writing
    nothing, if any draft's times cannot be an outage's (see `draft_problems`)."""
    now = now or timezone.now()
    outages = [draft.outage() for draft in drafts]
    for draft, outage in zip(drafts, outages, strict=True):
        _validate(outage, list(draft.contracts), [], now)
    Outage.objects.bulk_create(outages)
    Outage.contracts.through.objects.bulk_create(
        Outage.contracts.through(outage_id=outage.pk, contract_id=contract.pk)
        for draft, outage in zip(drafts, outages, strict=True)
        for contract in draft.contracts
    )
    return outages


@transaction.atomic
def outage_discard(*, outage: Outage, reason: str, actor, now: datetime.datetime | None = None) -> Outage:
    """An outage drafted by monitoring was a false alarm: kept, with why, and counted nowhere."""
    outage = Outage.objects.select_for_update().get(pk=outage.pk)
    reason = (reason or "").strip()
    if not outage.pending:
        raise ValidationError(
            {"outage": [_("Only an outage drafted by monitoring and not yet confirmed can be discarded.")]}
        )
    if not reason:
        raise ValidationError({"reason": [_("Say why it was a false alarm.")]})
    outage.discarded_at = now or timezone.now()
    outage.discard_reason = reason
    outage.discarded_by = actor if getattr(actor, "is_authenticated", False) else None
    outage.save(update_fields=["discarded_at", "discard_reason", "discarded_by", "updated_at"])
    return outage


@transaction.atomic
def outage_link_ticket(*, outage: Outage, ticket, link: bool = True, actor=None) -> Outage:
    """Link one ticket to an outage (or unlink it), the other tickets kept: read under the
    outage's lock, so two staff linking at once both count."""
    outage = Outage.objects.select_for_update().get(pk=outage.pk)
    others = [t for t in outage.tickets.all() if t.pk != ticket.pk]
    return outage_update(outage=outage, changes={"tickets": [*others, ticket] if link else others}, actor=actor)


@transaction.atomic
def outage_confirm_responsibility(*, outage: Outage, note: str, actor, now: datetime.datetime | None = None) -> Outage:
    """D §10.4: staff settle a contradiction (the outage counted as the supplier's, linked tickets
    classified otherwise) by confirming, with the reason, that it is the supplier's all the same.
    The alternatives are to change its responsibility or its tickets."""
    outage = Outage.objects.select_for_update().get(pk=outage.pk)
    tickets = selectors.contradicting_tickets(outage)
    if not tickets:
        raise ValidationError({"outage": [_("There is nothing to settle: no linked ticket says otherwise.")]})
    if not (note or "").strip():
        raise ValidationError({"note": [_("Say why the outage is the supplier's all the same.")]})
    outage.confirmed_ticket_ids = sorted(t.pk for t in tickets)
    outage.confirmation_note = note.strip()
    outage.confirmed_by = actor if getattr(actor, "is_authenticated", False) else None
    outage.confirmed_at = now or timezone.now()
    outage.save(
        update_fields=["confirmed_ticket_ids", "confirmation_note", "confirmed_by", "confirmed_at", "updated_at"]
    )
    return outage


UPDATE_TEXT_LIMIT = 4000


@transaction.atomic
def outage_post_update(
    *,
    outage: Outage,
    text: str,
    state: str = "",
    notify: bool = False,
    actor=None,
    now: datetime.datetime | None = None,
) -> OutageUpdate:
    """A public update on an outage going on or ahead, shown on the status page (D §10.2); with
    `notify`, an e-mail for each customer with an affected contract, sent by the workers after
    commit. An outage that is over is told about in its last update, not after it."""
    now = now or timezone.now()
    outage = Outage.objects.select_for_update().get(pk=outage.pk)
    text = (text or "").strip()
    errors: dict[str, list[str]] = {}
    if outage.ended_at is not None and outage.ended_at <= now:
        errors["outage"] = [_("The outage is over: updates are posted while it goes on or is still ahead.")]
    if not text:
        errors["text"] = [_("Write the update: what the customers should know now.")]
    elif len(text) > UPDATE_TEXT_LIMIT:
        errors["text"] = [_("Keep the update within %(limit)s characters.") % {"limit": UPDATE_TEXT_LIMIT}]
    if state and state not in UpdateState.values:
        errors["state"] = [_("Choose the state: %(labels)s, or none.") % {"labels": labels(UpdateState)}]
    if errors:
        raise ValidationError(errors)
    update = OutageUpdate.objects.create(
        outage=outage,
        posted_at=now,
        text=text,
        state=state,
        notify_customers=bool(notify),
        author=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if notify:
        outage_mail.post(update, selectors.affected_customer_ids(outage, timezone.localdate(now)))
    return update
