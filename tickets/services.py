"""Every write that changes a ticket. Views, the API, e-mail and tasks all call these.

Each service locks the ticket row, re-checks the state it acts on, writes the history entry and
posts the customer's notification (sent after commit). An illegal transition raises
`TransitionNotAllowed` (HTTP 409); bad input raises ValidationError keyed by field (HTTP 400).
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q, TextField, Value
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contracts.clauses import cited
from contracts.models import ContactPerson, Contract, CustomerMembership, ServiceTerms
from core.db import insert_select
from core.validation import check_time, labels
from tickets import attachments, history, notifications, signals, staff_notices
from tickets.models import (
    OPEN_STATUSES,
    Category,
    Channel,
    Classification,
    CloseReason,
    Message,
    NotFaultReason,
    Satisfaction,
    Status,
    Ticket,
    TicketEvent,
    TicketNumberSequence,
    TicketWatcher,
    TimeEntry,
)
from tickets.phone import PhoneNumberError, to_e164
from tickets.states import DONE, Action, allows


class TransitionNotAllowed(Exception):
    """The ticket's state does not allow the action (HTTP 409)."""


def _record(ticket: Ticket, actor, field: str, old, new, note: str = "") -> None:
    TicketEvent.objects.create(
        ticket=ticket,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        field=field,
        old_value=None if old is None else str(old),
        new_value=None if new is None else str(new),
        note=note,
    )


def _set(ticket: Ticket, actor, **changes) -> list[str]:
    """Apply field changes and write one history entry per field that really changed."""
    changed = []
    for field, value in changes.items():
        old = getattr(ticket, field)
        if old != value:
            setattr(ticket, field, value)
            _record(ticket, actor, field, _history_value(old), _history_value(value))
            changed.append(field)
    return changed


def _history_value(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    if hasattr(value, "pk"):
        return str(value)
    return value


def _locked(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def next_ticket_number(prefix: str, year: int) -> str:
    """PREFIX-YEAR-NNNNNN. The sequence row stays locked until the ticket's transaction ends,
    so concurrent reports never share a number."""
    last = _advance(prefix, year)
    if last is None:
        TicketNumberSequence.objects.get_or_create(prefix=prefix, year=year)
        last = _advance(prefix, year)
    return f"{prefix}-{year}-{last:06d}"


def _advance(prefix: str, year: int) -> int | None:
    """The sequence's next value, or None before its first ticket of the year. One statement
    (PostgreSQL and SQLite both return the updated row; the ORM's update() returns a count)."""
    table = connection.ops.quote_name(TicketNumberSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE {table} SET "last" = "last" + 1 WHERE "prefix" = %s AND "year" = %s RETURNING "last"',
            [prefix, year],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


@attachments.keeps_files
@transaction.atomic
def ticket_create(
    *,
    contract: Contract,
    description: str,
    channel: str,
    reported_by=None,
    category: str = Category.FAULT,
    urgent: bool = False,
    a_number: str = "",
    b_number: str = "",
    fault_occurred_at: datetime.datetime | None = None,
    received_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
    accept_missing_details: bool = False,
    registered_by=None,
    uploads: Sequence[attachments.Upload] = (),
) -> Ticket:
    """A new fault report or support request, with its clock (D §16.8), its files and its
    acknowledgement (D §16.7). Every problem with it, files included, is raised at once.
    `accept_missing_details` (e-mail): a fault report without A-number, B-number or fault time
    is opened all the same, marked, and its acknowledgement asks for them (D §16.9).
    `registered_by`: the staff member who entered someone else's report (the reporter otherwise),
    whom the contract's account managers' notices leave out."""
    now = now or timezone.now()
    received_at = received_at or now
    errors, numbers, terms = report_problems(
        contract=contract,
        category=category,
        channel=channel,
        description=description,
        a_number=a_number,
        b_number=b_number,
        fault_occurred_at=fault_occurred_at,
        received_at=received_at,
        now=now,
    )
    checked = _checked_uploads(errors, uploads)
    details_missing = accept_missing_details and _only_details_missing(category, errors)
    if details_missing:
        numbers = {field: "" if field in errors else numbers.get(field, "") for field in ("a_number", "b_number")}
        fault_occurred_at = None if "fault_occurred_at" in errors else fault_occurred_at
    elif errors:
        raise ValidationError(errors)
    assert terms is not None  # only an arrival time in error leaves the terms unknown
    ticket = Ticket.objects.create(
        number=_number_for(terms, received_at),
        contract=contract,
        customer_id=contract.customer_id,
        terms=terms,
        category=category,
        urgent=urgent,
        a_number=numbers["a_number"],
        b_number=numbers["b_number"],
        fault_occurred_at=fault_occurred_at,
        description=description.strip(),
        channel=channel,
        received_at=received_at,
        details_missing=details_missing,
        reported_by=reported_by if getattr(reported_by, "is_authenticated", False) else None,
        **report_clock(terms, received_at),
    )
    _record(ticket, reported_by, "status", None, Status.NEW, note=history.note("reported"))
    attachments.store(ticket, checked, actor=reported_by)
    notifications.post(ticket, notifications.Kind.ACKNOWLEDGEMENT)
    if urgent:
        notifications.post(ticket, notifications.Kind.URGENT_REPORT)
    staff_notices.new_report(ticket, registered_by=registered_by or reported_by)
    return ticket


DETAILS = frozenset({"a_number", "b_number", "fault_occurred_at"})


def _only_details_missing(category: str, errors: dict[str, list[str]]) -> bool:
    """A fault report whose only problems are its A-number, B-number or fault time (D §16.9)."""
    return category == Category.FAULT and bool(errors) and set(errors) <= DETAILS


def _checked_uploads(errors: dict[str, list[str]], uploads: Sequence[attachments.Upload]) -> list:
    """The files through the upload rules; what is wrong with them goes into `errors`."""
    checked, refused = attachments.upload_problems(uploads)
    if refused:
        errors.setdefault("attachments", []).extend(refused)
    return checked


def report_clock(terms: ServiceTerms, received_at: datetime.datetime) -> dict[str, datetime.datetime | None]:
    """When a report counts as received in business time, when service must start (D §16.8)
    and when staff are warned: as the business time left reaches the margin."""
    calendar = terms.calendar
    effective = calendar.effective_received_at(received_at)
    due = warn_at = None
    if terms.service_start_hours is not None:
        due = calendar.service_start_due(received_at, terms.service_start_hours)
        lead = datetime.timedelta(hours=terms.service_start_hours) - datetime.timedelta(
            minutes=settings.ESCALATION_MARGIN_MINUTES
        )
        warn_at = calendar.add_business_time(effective, max(lead, datetime.timedelta(0)))
    return {"effective_received_at": effective, "service_start_due": due, "service_start_warn_at": warn_at}


def _number_for(terms: ServiceTerms, received_at: datetime.datetime) -> str:
    """The next number of the terms' prefix, with the year of arrival in the terms' own zone."""
    return next_ticket_number(terms.ticket_prefix, received_at.astimezone(zoneinfo.ZoneInfo(terms.timezone)).year)


def report_problems(
    *,
    contract: Contract,
    category: str,
    channel: str,
    description: str,
    a_number: str,
    b_number: str,
    fault_occurred_at: datetime.datetime | None,
    received_at: datetime.datetime,
    now: datetime.datetime,
) -> tuple[dict[str, list[str]], dict[str, str], ServiceTerms | None]:
    """Everything wrong with a report, all at once and keyed by field (a form shows them in one
    round), with its numbers in E.164 and the terms it falls under."""
    errors: dict[str, list[str]] = {}
    check_time(errors, "received_at", received_at)
    check_time(errors, "fault_occurred_at", fault_occurred_at)
    if category not in Category.values:
        errors.setdefault("category", []).append(
            _("Choose what the report is about: %(labels)s.") % {"labels": labels(Category)}
        )
    if channel not in Channel.values:
        errors.setdefault("channel", []).append(_("Choose how it came in: %(labels)s.") % {"labels": labels(Channel)})
    if not (description or "").strip():
        errors.setdefault("description", []).append(_("Describe the fault or the request."))
    if "received_at" in errors:
        return errors, {}, None
    terms = contract.terms_in_force(timezone.localtime(received_at).date())
    if received_at > now:
        errors.setdefault("received_at", []).append(_("The arrival time cannot be in the future."))
    if category == Category.DELIVERY_DEFECT:
        _check_defect_window(errors, contract, terms, received_at)

    region = terms.holiday_country or terms.a_number_countries[0]
    numbers = {}
    for field, value, allowed, kinds in (
        ("a_number", a_number, terms.a_number_countries, terms.a_number_types),
        ("b_number", b_number, None, None),
    ):
        if not (value or "").strip():
            if category == Category.FAULT:
                # D §16.9: A-number, B-number and the time of the fault.
                errors.setdefault(field, []).append(
                    _("A fault report needs this number%(ref)s.") % {"ref": cited(terms, "fault_details")}
                )
            numbers[field] = ""
            continue
        try:
            numbers[field] = to_e164(
                value,
                default_region=region,
                allowed_regions=allowed,
                allowed_types=kinds,
                reference=cited(terms, "numbers_covered"),
            )
        except PhoneNumberError as error:
            errors.setdefault(field, []).append(str(error))

    if "fault_occurred_at" in errors:
        pass
    elif fault_occurred_at is None:
        if category == Category.FAULT:
            errors.setdefault("fault_occurred_at", []).append(
                _("A fault report needs the date and time of the fault%(ref)s.")
                % {"ref": cited(terms, "fault_details")}
            )
    elif fault_occurred_at > now:
        errors.setdefault("fault_occurred_at", []).append(_("The fault cannot be in the future."))
    elif fault_occurred_at > received_at:
        errors.setdefault("fault_occurred_at", []).append(_("The fault cannot have occurred after it was reported."))
    return errors, numbers, terms


def _check_defect_window(errors: dict, contract: Contract, terms, received_at: datetime.datetime) -> None:
    """D §8.4: defects in the delivery are reported within the terms' days of the delivery date."""
    if contract.delivered_on is None:
        errors.setdefault("category", []).append(
            _("The service has not been delivered yet: report a fault or a support request.")
        )
        return
    # The delivery's terms are those it was signed on, as on the contract's page.
    terms = contract.terms_in_force(contract.signed_on)
    days = terms.delivery_defect_report_days
    if days is None:
        return
    until = contract.delivered_on + datetime.timedelta(days=days)
    if received_at.astimezone(zoneinfo.ZoneInfo(terms.timezone)).date() > until:
        errors.setdefault("category", []).append(
            _(
                "Defects in the delivery had to be reported by %(date)s%(ref)s; report a fault or a support request instead."
            )
            % {"date": until.isoformat(), "ref": cited(terms, "delivery_defects")}
        )


def _answered_in_time(ticket: Ticket, at: datetime.datetime) -> bool:
    return (
        ticket.status == Status.CLOSED
        and ticket.close_reason == CloseReason.NO_CUSTOMER_FEEDBACK
        and ticket.unanswered_due is not None
        and at <= ticket.unanswered_due
    )


def _answered_too_late(ticket: Ticket, at: datetime.datetime) -> bool:
    return (
        ticket.status == Status.WAITING_FOR_CUSTOMER
        and ticket.customer_reply_due is not None
        and at > ticket.customer_reply_due
    )


def _reopen_answered(ticket: Ticket, actor, at: datetime.datetime) -> None:
    """The sweep closed the ticket while the customer's answer, in time, was on its way to us."""
    assert ticket.unanswered_due is not None  # _answered_in_time
    stored = history.note("answered-in-time", at=at, due=ticket.unanswered_due)
    note = history.note_text(stored, ticket.terms.timezone, ticket.terms)
    _record(ticket, actor, "status", Status.CLOSED, Status.WAITING_FOR_CUSTOMER, note=stored)
    _record(ticket, actor, "close_reason", ticket.close_reason, None)
    ticket.status, ticket.close_reason, ticket.closed_at = Status.WAITING_FOR_CUSTOMER, None, None
    ticket.unanswered_due = None
    notifications.post(ticket, notifications.Kind.REOPENED, message=note)


def _require(ticket: Ticket, action: Action) -> None:
    """The states table (tickets.states) allows the action, or TransitionNotAllowed says why."""
    if not allows(ticket.status, action):
        raise TransitionNotAllowed(
            _("A ticket that is %(status)s cannot be %(action)s.")
            % {"status": Status(ticket.status).label.lower(), "action": DONE[action]}
        )


@transaction.atomic
def ticket_start(*, ticket: Ticket, actor, now: datetime.datetime | None = None) -> Ticket:
    """Service starts (D §16.8)."""
    ticket = _locked(ticket)
    now = now or timezone.now()
    _require(ticket, Action.START)
    _set(ticket, actor, status=Status.IN_PROGRESS, service_started_at=ticket.service_started_at or now)
    if ticket.assignee_id is None and getattr(actor, "is_staff", False):
        _set(ticket, actor, assignee=actor)
    ticket.save()
    return ticket


@attachments.keeps_files
@transaction.atomic
def ticket_request_info(
    *,
    ticket: Ticket,
    actor,
    message: str,
    now: datetime.datetime | None = None,
    uploads: Sequence[attachments.Upload] = (),
) -> Ticket:
    """Ask the customer; the customer has the terms' reply time to answer (D §16.7)."""
    ticket = _locked(ticket)
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if not (message or "").strip():
        errors["message"] = [_("Write what the customer should answer.")]
    checked = _checked_uploads(errors, uploads)
    if errors:
        raise ValidationError(errors)
    _require(ticket, Action.REQUEST_INFO)
    hours = ticket.terms.customer_reply_hours
    due = now + datetime.timedelta(hours=hours) if hours is not None else None
    _set(
        ticket,
        actor,
        status=Status.WAITING_FOR_CUSTOMER,
        service_started_at=ticket.service_started_at or now,
        customer_reply_due=due,
    )
    if due is not None and hours is not None:
        ticket.reply_reminder_at = due - datetime.timedelta(hours=hours * settings.CUSTOMER_REPLY_REMINDER_SHARE)
        ticket.reply_reminder_sent_at = None
    ticket.customer_answered = False
    ticket.save()
    written = Message.objects.create(
        ticket=ticket, author=actor, body=message.strip(), channel=Channel.WEB, internal=False
    )
    attachments.store(ticket, checked, actor=actor, message=written)
    notifications.post(ticket, notifications.Kind.INFO_REQUEST, message=message.strip())
    return ticket


@attachments.keeps_files
@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    actor,
    message: str,
    internal: bool = False,
    channel: str = Channel.WEB,
    at: datetime.datetime | None = None,
    uploads: Sequence[attachments.Upload] = (),
) -> tuple[Ticket, Message]:
    """A message on the ticket. A customer's reply while the ticket waits for it resumes the
    work; a customer's reply to a resolved ticket reopens it. `at`: when the reply reached us
    (an e-mail: at the mail server; the portal and the API: now). The one rule for every channel
    (D §16.7): a reply that came by the deadline reopens a ticket the sweep closed meanwhile; one
    that came after it resumes nothing, even before the sweep has closed the ticket."""
    ticket = _locked(ticket)
    errors: dict[str, list[str]] = {}
    if not (message or "").strip():
        errors["message"] = [_("Write a message.")]
    is_staff = getattr(actor, "is_staff", False)
    if internal and not is_staff:
        errors["internal"] = [_("Only staff can write internal notes.")]
    checked = _checked_uploads(errors, uploads)
    if errors:
        raise ValidationError(errors)
    if not is_staff:
        at = at or timezone.now()
        if _answered_in_time(ticket, at):
            _reopen_answered(ticket, actor, at)
        elif _answered_too_late(ticket, at):
            # D §16.7: the ticket is closed by its deadline; the sweep closes it and tells the customer.
            assert ticket.customer_reply_due is not None  # _answered_too_late
            raise TransitionNotAllowed(
                _(
                    "The answer came after the reply deadline %(due)s, so the ticket is closed as finished "
                    "and the answer is not added to it. Write a new report if the fault remains."
                )
                % {"due": _local(ticket.customer_reply_due, ticket.terms.timezone)}
            )
    _require(ticket, Action.REPLY)
    if not internal:
        ticket.customer_answered = not is_staff  # who has the last public word
    if not is_staff and ticket.status in (Status.WAITING_FOR_CUSTOMER, Status.RESOLVED):
        _record(ticket, actor, "status", ticket.status, Status.IN_PROGRESS, note=history.note("customer-answered"))
        ticket.status = Status.IN_PROGRESS
        if ticket.customer_reply_due is not None:
            _record(ticket, actor, "customer_reply_due", _history_value(ticket.customer_reply_due), None)
        ticket.customer_reply_due = None
        ticket.reply_reminder_at = None
        ticket.resolved_at = None
        ticket.save()
    else:
        ticket.save(update_fields=["updated_at", "customer_answered"])
    created = Message.objects.create(
        ticket=ticket, author=actor, body=message.strip(), channel=channel, internal=internal
    )
    attachments.store(ticket, checked, actor=actor, message=created)
    if is_staff and not internal:
        notifications.post(ticket, notifications.Kind.REPLY, message=message.strip())
    if not is_staff:
        staff_notices.customer_replied(ticket, message.strip())
    return ticket, created


@transaction.atomic
def ticket_classify(*, ticket: Ticket, actor, classification: str, not_fault_reason: str | None = None) -> Ticket:
    """Fault, or not a Fault with its reason (D §16.4–16.6, §16.10)."""
    ticket = _locked(ticket)
    _require(ticket, Action.CLASSIFY)
    errors = {}
    if classification not in Classification.values:
        errors["classification"] = [
            _("Choose %(fault)s or %(not_fault)s.")
            % {"fault": Classification.FAULT.label, "not_fault": Classification.NOT_FAULT.label}
        ]
    elif classification == Classification.NOT_FAULT and not_fault_reason not in NotFaultReason.values:
        errors["not_fault_reason"] = [
            _("Choose why it is not a fault: %(labels)s.") % {"labels": labels(NotFaultReason)}
        ]
    elif classification == Classification.FAULT and not_fault_reason:
        errors["not_fault_reason"] = [_("A fault has no reason for not being one.")]
    if errors:
        raise ValidationError(errors)
    _set(
        ticket,
        actor,
        classification=classification,
        not_fault_reason=not_fault_reason if classification == Classification.NOT_FAULT else None,
    )
    ticket.save()
    return ticket


@attachments.keeps_files
@transaction.atomic
def ticket_resolve(
    *,
    ticket: Ticket,
    actor,
    message: str,
    now: datetime.datetime | None = None,
    uploads: Sequence[attachments.Upload] = (),
) -> Ticket:
    ticket = _locked(ticket)
    now = now or timezone.now()
    _require(ticket, Action.RESOLVE)
    errors: dict[str, list[str]] = {}
    if not (message or "").strip():
        errors["message"] = [_("Tell the customer what was done.")]
    checked = _checked_uploads(errors, uploads)
    if ticket.category == Category.FAULT and not ticket.classification:
        # Availability and discounts count only the supplier's faults (D §10.4, §16.4).
        errors["classification"] = [
            _(
                "Classify the report before resolving it: %(fault)s or %(not_fault)s (the availability "
                "figures count only the supplier's faults)."
            )
            % {"fault": Classification.FAULT.label, "not_fault": Classification.NOT_FAULT.label}
        ]
    if errors:
        raise ValidationError(errors)
    _set(
        ticket,
        actor,
        status=Status.RESOLVED,
        customer_reply_due=None,
        service_started_at=ticket.service_started_at or now,
    )
    ticket.resolved_at = now
    ticket.customer_answered = False
    ticket.save()
    written = Message.objects.create(ticket=ticket, author=actor, body=message.strip(), channel=Channel.WEB)
    attachments.store(ticket, checked, actor=actor, message=written)
    notifications.post(ticket, notifications.Kind.RESOLVED, message=message.strip())
    return ticket


@transaction.atomic
def ticket_close(
    *,
    ticket: Ticket,
    actor,
    close_reason: str | None = None,
    duplicate_of: Ticket | None = None,
    now: datetime.datetime | None = None,
) -> Ticket:
    """Close a ticket; a duplicate may name the same customer's ticket it repeats, which the
    closing e-mail then quotes."""
    ticket = _locked(ticket)
    now = now or timezone.now()
    _require(ticket, Action.CLOSE)
    if close_reason is None:
        close_reason = (
            CloseReason.DUPLICATE
            if duplicate_of is not None
            else CloseReason.NOT_A_FAULT
            if ticket.classification == Classification.NOT_FAULT
            else CloseReason.RESOLVED
        )
    if close_reason not in CloseReason.values:
        raise ValidationError(
            {"close_reason": [_("Choose a close reason: %(labels)s.") % {"labels": labels(CloseReason)}]}
        )
    if duplicate_of is not None:
        _check_original(ticket, duplicate_of, close_reason)
    _set(
        ticket,
        actor,
        status=Status.CLOSED,
        close_reason=close_reason,
        customer_reply_due=None,
        duplicate_of=duplicate_of,
    )
    ticket.closed_at = now
    ticket.save()
    notifications.post(ticket, notifications.Kind.CLOSED)
    return ticket


def _check_original(ticket: Ticket, original: Ticket, close_reason: str) -> None:
    if close_reason != CloseReason.DUPLICATE:
        problem = _("Only a ticket closed as “%(duplicate)s” names the ticket it repeats.") % {
            "duplicate": CloseReason.DUPLICATE.label
        }
    elif original.pk == ticket.pk:
        problem = _("A ticket cannot be a duplicate of itself.")
    elif original.customer_id != ticket.customer_id:
        problem = _("%(number)s is another customer's ticket: a duplicate repeats the same customer's report.") % {
            "number": original.number
        }
    elif original.duplicate_of_id == ticket.pk:
        problem = _("%(number)s is already closed as a duplicate of this ticket.") % {"number": original.number}
    else:
        return
    raise ValidationError({"duplicate_of": [problem]})


@transaction.atomic
def ticket_withdraw(
    *, ticket: Ticket, actor, message: str = "", channel: str = Channel.WEB, now: datetime.datetime | None = None
) -> Ticket:
    """The customer takes the report back (the fault went away, or was theirs): the ticket closes
    as withdrawn, with their words, if any, kept as their message. Staff close a ticket instead."""
    ticket = _locked(ticket)
    now = now or timezone.now()
    if getattr(actor, "is_staff", False):
        raise ValidationError({"actor": [_("Staff close a ticket; withdrawing it is the customer's.")]})
    _require(ticket, Action.WITHDRAW)
    _set(ticket, actor, status=Status.CLOSED, close_reason=CloseReason.WITHDRAWN, customer_reply_due=None)
    ticket.closed_at = now
    ticket.reply_reminder_at = None
    ticket.customer_answered = False
    ticket.save()
    if (message or "").strip():
        Message.objects.create(ticket=ticket, author=actor, body=message.strip(), channel=channel)
    notifications.post(ticket, notifications.Kind.CLOSED)
    return ticket


@transaction.atomic
def ticket_assign(*, ticket: Ticket, actor, assignee) -> Ticket:
    ticket = _locked(ticket)
    _require(ticket, Action.ASSIGN)
    if assignee is not None and not (assignee.is_staff and assignee.is_active):
        raise ValidationError({"assignee": [_("Tickets are assigned to active staff members.")]})
    _set(ticket, actor, assignee=assignee)
    ticket.save()
    return ticket


@transaction.atomic
def time_log(*, ticket: Ticket, actor, minutes: int, worked_on: datetime.date, note: str = "") -> TimeEntry:
    if not isinstance(minutes, int) or minutes <= 0 or minutes > 24 * 60:
        raise ValidationError({"minutes": [_("Log between 1 and 1440 minutes.")]})
    if worked_on > timezone.localdate():
        raise ValidationError({"worked_on": [_("Work cannot be logged in the future.")]})
    return TimeEntry.objects.create(ticket=ticket, user=actor, minutes=minutes, worked_on=worked_on, note=note.strip())


# Colleagues who also receive a ticket's e-mails ---------------------------------------------


@transaction.atomic
def watcher_add(*, ticket: Ticket, actor, user=None, contact: ContactPerson | None = None) -> TicketWatcher:
    """A colleague from the ticket's own customer, a user or a contact person with an e-mail
    address, receives the ticket's e-mails to the customer from now on. Nobody of another
    customer is ever added: the refusal does not say whom the id belongs to."""
    ticket = _locked(ticket)
    if ticket.status == Status.CLOSED:
        raise TransitionNotAllowed(_("A closed ticket sends no more e-mails: nobody can be added to it."))
    if (user is None) == (contact is None):
        raise ValidationError({"colleague": [_("Choose one colleague or contact person.")]})
    problem = _contact_problem(ticket, contact) if contact is not None else _user_problem(ticket, user)
    if problem:
        raise ValidationError({"colleague": [problem]})
    watcher = TicketWatcher.objects.create(
        ticket=ticket, user=user, contact=contact, added_by=actor if getattr(actor, "is_authenticated", False) else None
    )
    _record(ticket, actor, "watcher", None, watcher.name)
    return watcher


def _user_problem(ticket: Ticket, user) -> str | None:
    if not CustomerMembership.objects.filter(user=user, customer_id=ticket.customer_id).exists():
        return _("Only your own organisation's users and contact persons can be added.")
    name = user.get_full_name() or user.get_username()
    if not user.is_active or not user.email:
        return _("%(name)s has no e-mail address we can send to.") % {"name": name}
    if user.pk == ticket.reported_by_id:
        return _("%(name)s reported the ticket and already receives its e-mails.") % {"name": name}
    if ticket.watchers.filter(user=user).exists():
        return _("%(name)s already receives this ticket's e-mails.") % {"name": name}
    return None


def _contact_problem(ticket: Ticket, contact: ContactPerson) -> str | None:
    if contact.customer_id != ticket.customer_id:
        return _("Only your own organisation's users and contact persons can be added.")
    if not contact.email:
        return _("%(name)s has no e-mail address we can send to.") % {"name": contact.name}
    if contact.is_primary:
        return _("%(name)s is the main contact person and already receives every ticket's e-mails.") % {
            "name": contact.name
        }
    if ticket.watchers.filter(contact=contact).exists():
        return _("%(name)s already receives this ticket's e-mails.") % {"name": contact.name}
    return None


@transaction.atomic
def watcher_remove(*, watcher: TicketWatcher, actor) -> None:
    """The colleague receives none of the ticket's e-mails from now on (customers and staff may
    take one off)."""
    ticket = _locked(watcher.ticket)
    name = watcher.name
    TicketWatcher.objects.filter(pk=watcher.pk).delete()
    _record(ticket, actor, "watcher", name, None)


# The customer's answer to "How did we do?" -------------------------------------------------


def satisfaction_askable(ticket: Ticket) -> bool:
    """Resolved, or closed as resolved: the work is done and the customer can judge it."""
    return ticket.status == Status.RESOLVED or (
        ticket.status == Status.CLOSED and ticket.close_reason == CloseReason.RESOLVED
    )


@transaction.atomic
def satisfaction_record(
    *, ticket: Ticket, score: str, comment: str = "", actor=None, now: datetime.datetime | None = None
) -> Satisfaction:
    """One answer per ticket: a later one (a change of mind, the other link) replaces it.
    `actor` is None for an answer through the e-mail's link, which needs no sign-in."""
    ticket = _locked(ticket)
    if not satisfaction_askable(ticket):
        raise TransitionNotAllowed(
            _("Ticket %(number)s is not resolved, so there is nothing to rate yet.") % {"number": ticket.number}
        )
    if score not in Satisfaction.Score.values:
        raise ValidationError(
            {
                "score": [
                    _("Choose %(good)s or %(bad)s.")
                    % {"good": Satisfaction.Score.GOOD.label, "bad": Satisfaction.Score.BAD.label}
                ]
            }
        )
    answer, _created = Satisfaction.objects.update_or_create(
        ticket=ticket,
        defaults={
            "score": score,
            "comment": (comment or "").strip(),
            "answered_at": now or timezone.now(),
            "answered_by": actor if getattr(actor, "is_authenticated", False) else None,
        },
    )
    return answer


# Sweeps run by Celery beat. Each takes its batch with FOR UPDATE SKIP LOCKED and re-checks the
# condition in the same statement, so a ticket another transaction holds (a customer's reply
# being written) is left alone and seen again next time, and two workers never take the same
# ticket. Each batch commits on its own; notifications go out after the commit.

SWEEP_BATCH = 500


def _claim(queryset, batch: int) -> list[Ticket]:
    return list(queryset.select_for_update(skip_locked=True, of=("self",)).order_by().only("pk")[:batch])


def close_unanswered(*, now: datetime.datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """D §16.7: close every ticket whose customer did not answer in time. Returns how many."""
    now = now or timezone.now()
    closed = 0
    # Each batch reads the deadline index from where the one before ended: the entries of the
    # tickets closed before stay in it until vacuum, and reading past them again made every
    # batch slower than the last (500 ms instead of 20 at 100,000 due). A ticket skipped because
    # another transaction held it is seen again by the next run, as one held at the end was.
    since = Q()
    while True:
        with transaction.atomic():
            rows = list(
                Ticket.objects.filter(since, status=Status.WAITING_FOR_CUSTOMER, customer_reply_due__lte=now)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("customer_reply_due")
                .values_list("pk", "customer_reply_due", "customer__language", "terms__timezone", "terms__clauses")[
                    :batch
                ]
            )
            if not rows:
                return closed
            since = Q(customer_reply_due__gte=rows[-1][1])
            ids = [row[0] for row in rows]
            texts = _closing_texts(rows)
            Ticket.objects.filter(pk__in=ids).update(
                status=Status.CLOSED,
                close_reason=CloseReason.NO_CUSTOMER_FEEDBACK,
                closed_at=now,
                unanswered_due=F("customer_reply_due"),
                customer_reply_due=None,
                reply_reminder_at=None,
                updated_at=now,
            )
            # The history and the notifications are written by the database from the rows it
            # holds: building their model instances in Python was nearly half of the sweep's work.
            closing = Ticket.objects.filter(pk__in=ids)
            changes = [
                # One statement per field, so that each ticket's status entry comes first.
                *_record_from(closing, now, "status", Status.WAITING_FOR_CUSTOMER, Status.CLOSED),
                *_record_from(closing, now, "close_reason", None, CloseReason.NO_CUSTOMER_FEEDBACK),
            ]
            signals.changes_written.send(sender=TicketEvent, changes=TicketEvent.objects.filter(pk__in=changes))
            messages = Message.objects.bulk_create(
                Message(ticket_id=pk, body=text, channel=Channel.EMAIL, from_desk=True) for pk, text in texts.items()
            )
            notifications.post_from(
                Message.objects.filter(pk__in=[m.pk for m in messages]), notifications.Kind.CLOSED, message=F("body")
            )
            closed += len(ids)


def _record_from(tickets, now: datetime.datetime, field: str, old: str | None, new: str) -> list[int]:
    """The same history entry for each of `tickets`, written by the sweep (no actor)."""
    return insert_select(
        tickets,
        TicketEvent,
        ticket=F("pk"),
        at=Value(now),
        field=Value(field),
        old_value=Value(old, output_field=TextField()),
        new_value=Value(new),
        note=Value(history.note("no-answer")),
    )


def _closing_texts(rows: list[tuple]) -> dict[int, str]:
    """Each claimed ticket's closing message, its sentence translated once per language."""
    sentences = {language: _closing_sentence(language) for language in {row[2] for row in rows}}
    return {
        pk: _closing_text(sentences[language], due, zone, cited(clauses, "reply_close"))
        for pk, due, language, zone, clauses in rows
    }


def _closing_sentence(language: str) -> str:
    with translation.override(language):
        return _(
            "We did not hear from you by %(due)s, so the ticket is closed as finished%(ref)s. Write a new report if "
            "the fault remains."
        )


def _closing_text(sentence: str, due: datetime.datetime, zone: str, ref: str) -> str:
    return sentence % {"due": _local(due, zone), "ref": ref}


def remind_waiting(*, now: datetime.datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """One reminder per request for information, when the configured share of the reply time
    is left."""
    now = now or timezone.now()
    reminded = 0
    while True:
        with transaction.atomic():
            tickets = _claim(
                Ticket.objects.filter(
                    status=Status.WAITING_FOR_CUSTOMER,
                    reply_reminder_sent_at__isnull=True,
                    reply_reminder_at__lte=now,
                    customer_reply_due__gt=now,
                ),
                batch,
            )
            if not tickets:
                return reminded
            Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(reply_reminder_sent_at=now)
            notifications.post_many(
                notifications.build_for(ticket.pk, notifications.Kind.REMINDER) for ticket in tickets
            )
            reminded += len(tickets)


def escalate(*, now: datetime.datetime | None = None, batch: int = SWEEP_BATCH) -> tuple[int, int]:
    """Tell staff once when a service start nears its deadline and once when it is breached
    (D §16.8). Returns (warned, breached)."""
    now = now or timezone.now()
    waiting_for_start = Ticket.objects.filter(status__in=OPEN_STATUSES, service_started_at__isnull=True)
    breached = _escalate_batches(
        waiting_for_start.filter(escalation_breached_at__isnull=True, service_start_due__lt=now),
        notifications.Kind.ESCALATION_BREACHED,
        # A breach also counts as the warning: nobody needs "near" after "late".
        {"escalation_breached_at": now, "escalation_warned_at": now},
        batch,
    )
    warned = _escalate_batches(
        waiting_for_start.filter(
            escalation_warned_at__isnull=True, service_start_warn_at__lte=now, service_start_due__gte=now
        ),
        notifications.Kind.ESCALATION_NEAR,
        {"escalation_warned_at": now},
        batch,
    )
    return warned, breached


def _escalate_batches(queryset, kind: str, marks: dict, batch: int) -> int:
    done = 0
    while True:
        with transaction.atomic():
            tickets = _claim(queryset, batch)
            if not tickets:
                return done
            Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(**marks)
            notifications.post_many(notifications.build_for(ticket.pk, kind) for ticket in tickets)
            done += len(tickets)


def _local(moment: datetime.datetime, zone: str) -> str:
    return moment.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
