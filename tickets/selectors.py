"""Reads of tickets with their query shape: one place where N+1 queries are fixed."""

from __future__ import annotations

import datetime
import re
from typing import cast

import phonenumbers
from django.contrib.auth import get_user_model
from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from contracts.models import ContactPerson, ServiceTerms
from core.api.params import whole_number
from core.months import first_of, next_month
from tickets import search as search_module
from tickets.models import (
    NEEDS_STAFF,
    OPEN_STATUSES,
    AttachmentReference,
    Category,
    Classification,
    Message,
    Status,
    Ticket,
    TicketQuerySet,
    TicketWatcher,
    TimeEntry,
    queue_order,
)

PHONE_CHARS = re.compile(r"^[+\d][\d\s\-()]{4,}$")


def tickets_for(user) -> QuerySet[Ticket]:
    return Ticket.objects.visible_to(user).select_related("terms", "assignee", "customer")


def active_staff() -> QuerySet:
    """Who tickets can be assigned to."""
    return get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")


def _truthy(value: str) -> bool | None:
    value = (value or "").strip().lower()
    if value in {"1", "true", "yes"}:
        return True
    if value in {"0", "false", "no"}:
        return False
    return None


def filter_tickets(
    queryset: QuerySet[Ticket], params, *, now: datetime.datetime, internal_notes: bool = False
) -> QuerySet[Ticket]:
    """Filters shared by the API list and the staff queue. Unknown values filter nothing out
    rather than failing, as a search box would. `internal_notes`: the search reads staff notes."""
    statuses = [s for s in (params.get("status") or "").split(",") if s in Status.values]
    if statuses:
        queryset = queryset.filter(status__in=statuses)
    for name in ("customer", "contract", "assignee"):
        value = params.get(name) or ""
        if whole_number(value):
            queryset = queryset.filter(**{f"{name}_id": int(value)})
        elif name == "assignee" and value == "none":
            queryset = queryset.filter(assignee__isnull=True)
    if params.get("terms"):
        queryset = queryset.filter(terms__slug=params["terms"])
    if params.get("category") in Category.values:
        queryset = queryset.filter(category=params["category"])
    urgent = _truthy(params.get("urgent"))
    if urgent is not None:
        queryset = queryset.filter(urgent=urgent)
    breached = _truthy(params.get("breached"))
    if breached is True:
        # Every queryset of tickets is a TicketQuerySet (Ticket.objects), which QuerySet[Ticket] does not say.
        queryset = cast(TicketQuerySet, queryset).breached(now)
    elif breached is False:
        queryset = queryset.exclude(pk__in=Ticket.objects.breached(now).values("pk"))
    query = (params.get("q") or "").strip()
    if query:
        queryset = search(queryset, query, internal_notes=internal_notes)
    return queryset


def search(queryset: QuerySet[Ticket], query: str, *, internal_notes: bool = False) -> QuerySet[Ticket]:
    """The tickets the search box finds (tickets/search.py), each with its rank.
    Internal notes are searched only for staff: a customer must not find a ticket by a word
    written about it internally."""
    query = search_module.typed(query)
    phones = phone_candidates(query) if PHONE_CHARS.match(query) else set()
    return search_module.matching(queryset, query, internal_notes=internal_notes, phones=phones)


def phone_candidates(query: str) -> set[str]:
    """The E.164 forms a typed number can have: international as written, or national in any
    country whose terms are in use."""
    regions = {None} | set(ServiceTerms.objects.exclude(holiday_country=None).values_list("holiday_country", flat=True))
    candidates = set()
    for region in regions:
        try:
            number = phonenumbers.parse(query, region)
        except phonenumbers.NumberParseException:
            continue
        candidates.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return candidates


def messages_for(ticket: Ticket, user) -> QuerySet[Message]:
    messages = ticket.messages.select_related("author").order_by("created_at", "id")
    if not user.is_staff:
        messages = messages.filter(internal=False)
    return messages


# The queue's columns staff may sort by, each way ("-received" is newest first); tickets
# without a value (no deadline, nobody assigned) come last either way.
SORTS = {
    "number": "number",
    "customer": "customer__name",
    "status": "status",
    "due": "service_start_due",
    "received": "received_at",
    "assignee": "assignee__username",
}


def queue(queryset: QuerySet[Ticket], sort: str = "") -> QuerySet[Ticket]:
    """The staff queue in the order of `queue_order()` (tickets/models.py), which an index
    holds, or by a column staff chose (`sort`, with "-" for descending); what a search found
    comes best match first unless a column is chosen."""
    field = SORTS.get(sort.removeprefix("-"))
    if field is None and search_module.RANK in queryset.query.annotations:
        return ranked_or_newest(queryset)
    if field is None:
        return queryset.order_by(*queue_order())
    if sort.startswith("-"):
        return queryset.order_by(F(field).desc(nulls_last=True), "-id")
    return queryset.order_by(F(field).asc(nulls_last=True), "id")


def ranked_or_newest(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """The API list's order: what a search found best match first, then newest first."""
    if search_module.RANK in queryset.query.annotations:
        return queryset.order_by(F(search_module.RANK).desc(), "-received_at", "-id")
    return queryset.order_by("-received_at", "-id")


def needing_staff(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """New reports, and tickets in progress whose customer wrote last: the tab title's count."""
    return queryset.filter(NEEDS_STAFF)


def other_open_tickets(ticket: Ticket, limit: int = 10) -> list[Ticket]:
    """The customer's other open tickets, newest first: the same fault reported twice, or a
    pattern, is seen from the ticket."""
    others = Ticket.objects.filter(customer_id=ticket.customer_id, status__in=OPEN_STATUSES).exclude(pk=ticket.pk)
    return list(others.order_by("-received_at", "-id")[:limit])


def timeline(ticket: Ticket) -> list[tuple[str, object]]:
    """Messages, notes and history in time order, for the staff's ticket page."""
    entries: list[tuple[datetime.datetime, int, str, object]] = []
    for message in ticket.messages.select_related("author").prefetch_related("attachments"):
        entries.append((message.created_at, 1, "message", message))
    for event in ticket.events.select_related("actor"):
        entries.append((event.at, 0, "event", event))
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    return [(kind, item) for _at, _order, kind, item in entries]


def _owned_by(customer_id: int | None, contract_id: int | None, prefix: str = "") -> dict:
    """A filter to one customer's or one contract's tickets (or none)."""
    found = {}
    if customer_id is not None:
        found[f"{prefix}customer_id"] = customer_id
    if contract_id is not None:
        found[f"{prefix}contract_id"] = contract_id
    return found


def open_tickets(*, customer_id: int | None = None, contract_id: int | None = None, limit: int = 50) -> list[Ticket]:
    """A customer's (or a contract's) open tickets in the queue's order, for its staff page."""
    tickets = Ticket.objects.filter(status__in=OPEN_STATUSES, **_owned_by(customer_id, contract_id))
    return list(tickets.select_related("terms").order_by(*queue_order())[:limit])


def recently_closed(*, customer_id: int | None = None, contract_id: int | None = None, limit: int = 5) -> list[Ticket]:
    """The latest resolved or closed tickets, newest report first."""
    tickets = Ticket.objects.filter(status__in=(Status.RESOLVED, Status.CLOSED), **_owned_by(customer_id, contract_id))
    return list(tickets.select_related("terms").order_by("-received_at", "-id")[:limit])


def billable_work(
    month: datetime.date, *, customer_id: int | None = None, contract_id: int | None = None
) -> list[dict]:
    """Time logged in a month on tickets that are not a Fault, grouped per customer; one
    customer's or one contract's when given."""
    start, end = first_of(month), next_month(month)
    entries = (
        TimeEntry.objects.filter(
            worked_on__gte=start,
            worked_on__lt=end,
            ticket__classification=Classification.NOT_FAULT,
            **_owned_by(customer_id, contract_id, prefix="ticket__"),
        )
        .select_related("ticket__customer", "user")
        .order_by("ticket__customer__name", "worked_on", "id")
    )
    rows: dict[int, dict] = {}
    for entry in entries:
        customer = entry.ticket.customer
        row = rows.setdefault(customer.pk, {"customer": customer, "entries": [], "minutes": 0})
        row["entries"].append(entry)
        row["minutes"] += entry.minutes
    return list(rows.values())


def references_of(ticket: Ticket) -> list[AttachmentReference]:
    """Links to files kept elsewhere, oldest first, in one query however many there are."""
    return list(ticket.attachment_references.select_related("added_by"))


def watchers_of(ticket: Ticket) -> list[TicketWatcher]:
    return list(ticket.watchers.select_related("user", "contact", "added_by"))


def watcher_candidates(ticket: Ticket) -> list[tuple[str, list[tuple[str, str]]]]:
    """The customer's own people who could be added to the ticket's e-mails, grouped for a
    drop-down: active users and contact persons with an address, except the reporter, the main
    contact person and those already added (they receive the e-mails already)."""
    users = (
        get_user_model()
        .objects.filter(customer_membership__customer_id=ticket.customer_id, is_active=True)
        .exclude(email="")
        .exclude(pk=ticket.reported_by_id or 0)
        .exclude(pk__in=ticket.watchers.filter(user__isnull=False).values("user_id"))
        .order_by("first_name", "last_name", "username")
    )
    contacts = (
        ContactPerson.objects.filter(customer_id=ticket.customer_id, is_primary=False)
        .exclude(email="")
        .exclude(pk__in=ticket.watchers.filter(contact__isnull=False).values("contact_id"))
        .order_by("name", "id")
    )
    groups = [
        (_("Users"), [(f"user:{u.pk}", f"{u.get_full_name() or u.get_username()} <{u.email}>") for u in users]),
        (_("Contact persons"), [(f"contact:{c.pk}", f"{c.name} <{c.email}>") for c in contacts]),
    ]
    return [(label, options) for label, options in groups if options]
