"""Retention of personal data: A- and B-numbers identify people, and so may attachments and the
numbers customers write into their messages.

Tickets closed longer than RETENTION_MONTHS ago lose their attachments (files and rows) and
their links to files kept elsewhere (an address can name a person; so does its history entry),
the raw e-mails they came with, and every phone number in their text: the ticket's own numbers keep
only their country code (+358), numbers written in descriptions, messages, notifications and
history become "***". What the desk needs afterwards stays: the ticket number, its times and
deadlines, category, status history and time log, so availability, claims and statistics still
add up. Each ticket is done once (`anonymised_at`) and says so in its history.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import TypeVar

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.months import add_months
from tickets.models import (
    Attachment,
    AttachmentReference,
    InboundEmail,
    Message,
    Notification,
    Status,
    Ticket,
    TicketEvent,
)

MASK = "***"
BATCH = 200
FALLBACK_REGIONS = ("SE", "FI")


@dataclass
class RetentionResult:
    tickets: int = 0
    attachments: int = 0
    emails: int = 0

    def __str__(self) -> str:
        return f"{self.tickets} tickets anonymised, {self.attachments} attachments and {self.emails} e-mails removed"


def cutoff(now: datetime.datetime, months: int) -> datetime.datetime:
    """The same day and time `months` calendar months before `now` (the month's last day when
    that month is shorter)."""
    day = add_months(now.date(), -months)
    return now.replace(year=day.year, month=day.month, day=day.day)


def country_code(number: str) -> str:
    try:
        return f"+{phonenumbers.parse(number, None).country_code}"
    except phonenumbers.NumberParseException:
        return MASK


# Text, or a field's None, which stays None.
_Text = TypeVar("_Text", str, None)


def scrub(text: _Text, regions, known=()) -> _Text:
    """`text` with every phone number in it masked: the `known` texts (the ticket's own numbers as
    stored; a person's names and addresses at their erasure) as whole words in any case, and any
    number a person wrote in a form valid in one of `regions` (dates and ticket numbers are not
    valid phone numbers, so they stay)."""
    if not text:
        return text
    for word in known:
        if word:
            text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", MASK, text, flags=re.IGNORECASE)
    spans = set()
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            spans.add((match.start, match.end))
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + MASK + text[end:]
    return text


def due(now: datetime.datetime, months: int):
    return Ticket.objects.filter(status=Status.CLOSED, closed_at__lt=cutoff(now, months), anonymised_at__isnull=True)


def apply(*, now: datetime.datetime | None = None, months: int | None = None, batch: int = BATCH) -> RetentionResult:
    now = now or timezone.now()
    months = months if months is not None else settings.RETENTION_MONTHS
    if months < 1:
        raise ValueError("the retention period must be at least one month")
    result = RetentionResult()
    while True:
        with transaction.atomic():
            tickets = list(
                due(now, months)
                .select_related("contract__terms")
                .select_for_update(of=("self",), skip_locked=True)
                .order_by("closed_at", "pk")[:batch]
            )
            if not tickets:
                return result
            anonymise(tickets, now=now, result=result)


# The text fields of a ticket's rows that can hold a phone number someone wrote.
TEXTS = (
    (Message, ("body",)),
    (Notification, ("message", "subject", "body")),
    (TicketEvent, ("old_value", "new_value")),
)


def regions_of(ticket: Ticket) -> list[str]:
    """Where the numbers written on a ticket are read as phone numbers (select_related
    "contract__terms")."""
    return list(dict.fromkeys([*(ticket.contract.terms.a_number_countries or []), *FALLBACK_REGIONS]))


def anonymise(
    tickets: list[Ticket],
    *,
    now: datetime.datetime,
    result: RetentionResult,
    known: tuple[str, ...] = (),
    erasure: bool = False,
) -> None:
    """One batch (locked, with "contract__terms"): a query and a bulk write per table, whatever
    the number of rows. `known`: texts masked besides phone numbers, and `erasure`: done for the
    reporter's request (sla.personal_data), not for the retention period; the history says which."""
    masks = {}  # ticket id → (regions, the ticket's own numbers and the known texts)
    for ticket in tickets:
        masks[ticket.pk] = (regions_of(ticket), [*(n for n in (ticket.a_number, ticket.b_number) if n), *known])
        ticket.a_number = country_code(ticket.a_number) if ticket.a_number else ""
        ticket.b_number = country_code(ticket.b_number) if ticket.b_number else ""
        ticket.description = scrub(ticket.description, *masks[ticket.pk])
        ticket.anonymised_at = ticket.updated_at = now
    Ticket.objects.bulk_update(tickets, ["a_number", "b_number", "description", "anonymised_at", "updated_at"])

    for model, fields in TEXTS:
        changed: list = []  # rows of `model`, whichever of the three it is
        for row in model.objects.filter(ticket__in=tickets).only("pk", "ticket_id", *fields):
            values = {field: scrub(getattr(row, field), *masks[row.ticket_id]) for field in fields}
            if any(values[field] != getattr(row, field) for field in fields):
                for field, value in values.items():
                    setattr(row, field, value)
                changed.append(row)
        model.objects.bulk_update(changed, fields, batch_size=BATCH)

    files: dict[int, list[str]] = {ticket.pk: [] for ticket in tickets}
    for ticket_id, name in Attachment.objects.filter(ticket__in=tickets).values_list("ticket_id", "file"):
        files[ticket_id].append(name)
    Attachment.objects.filter(ticket__in=tickets).delete()
    storage = Attachment._meta.get_field("file").storage
    names = [name for names in files.values() for name in names if name]

    def remove_files() -> None:
        for name in names:
            storage.delete(name)

    transaction.on_commit(remove_files)

    links: dict[int, int] = {ticket.pk: 0 for ticket in tickets}
    for ticket_id in AttachmentReference.objects.filter(ticket__in=tickets).values_list("ticket_id", flat=True):
        links[ticket_id] += 1
    AttachmentReference.objects.filter(ticket__in=tickets).delete()
    TicketEvent.objects.filter(ticket__in=tickets, field=AttachmentReference.HISTORY_FIELD).update(new_value=MASK)

    emails = list(InboundEmail.objects.filter(ticket__in=tickets).exclude(raw=b"").only("pk", "ticket_id", "subject"))
    emails_of = {ticket.pk: 0 for ticket in tickets}
    for record in emails:
        assert record.ticket_id is not None  # the query asked for these tickets' e-mails
        record.raw, record.note = b"", f"removed by retention {now:%Y-%m-%d}"
        record.subject = scrub(record.subject, *masks[record.ticket_id])[:500]
        emails_of[record.ticket_id] += 1
    InboundEmail.objects.bulk_update(emails, ["raw", "subject", "note"], batch_size=BATCH)

    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket=ticket,
            actor=None,
            field="erasure" if erasure else "retention",
            old_value=None,
            new_value=f"{len(files[ticket.pk])} attachments, {links[ticket.pk]} links to files, "
            f"{emails_of[ticket.pk]} e-mails removed; "
            + ("phone numbers, names and addresses masked" if known else "phone numbers masked"),
            note="manage.py personal_data erase"
            if erasure
            else f"closed {ticket.closed_at:%Y-%m-%d}; RETENTION_MONTHS",
        )
        for ticket in tickets
    )
    result.tickets += len(tickets)
    result.attachments += len(names)
    result.emails += len(emails)
