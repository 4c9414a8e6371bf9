"""Retention of personal data: A- and B-numbers identify people, and so may attachments and the
numbers customers write into their messages.

Tickets closed longer than RETENTION_MONTHS ago lose their attachments (files and rows), the
raw e-mails they came with, and every phone number in their text: the ticket's own numbers keep
only their country code (+358), numbers written in descriptions, messages, notifications and
history become "***". What the desk needs afterwards stays: the ticket number, its times and
deadlines, category, status history and time log, so availability, claims and statistics still
add up. Each ticket is done once (`anonymised_at`) and says so in its history.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tickets.models import Attachment, InboundEmail, Message, Notification, Status, Ticket, TicketEvent

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
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    month += 1
    return now.replace(year=year, month=month, day=min(now.day, calendar.monthrange(year, month)[1]))


def country_code(number: str) -> str:
    try:
        return f"+{phonenumbers.parse(number, None).country_code}"
    except phonenumbers.NumberParseException:
        return MASK


def scrub(text: str | None, regions, known=()) -> str | None:
    """`text` with every phone number in it masked: the ticket's own numbers as stored, and any
    number a person wrote in a form valid in one of `regions` (dates and ticket numbers are not
    valid phone numbers, so they stay)."""
    if not text:
        return text
    for number in known:
        if number:
            text = text.replace(number, MASK)
    spans = set()
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            spans.add((match.start, match.end))
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + MASK + text[end:]
    return text


def due(now: datetime.datetime, months: int):
    return Ticket.objects.filter(
        status=Status.CLOSED, closed_at__lt=cutoff(now, months), anonymised_at__isnull=True
    )


def apply(*, now: datetime.datetime | None = None, months: int | None = None, batch: int = BATCH) -> RetentionResult:
    now = now or timezone.now()
    months = months if months is not None else settings.RETENTION_MONTHS
    if months < 1:
        raise ValueError("the retention period must be at least one month")
    result = RetentionResult()
    while True:
        with transaction.atomic():
            tickets = list(
                due(now, months).select_related("contract__terms")
                .select_for_update(of=("self",), skip_locked=True).order_by("closed_at", "pk")[:batch]
            )
            if not tickets:
                return result
            for ticket in tickets:
                _anonymise(ticket, now, result)


def _anonymise(ticket: Ticket, now: datetime.datetime, result: RetentionResult) -> None:
    regions = list(dict.fromkeys([*(ticket.contract.terms.a_number_countries or []), *FALLBACK_REGIONS]))
    known = [n for n in (ticket.a_number, ticket.b_number) if n]
    ticket.a_number = country_code(ticket.a_number) if ticket.a_number else ""
    ticket.b_number = country_code(ticket.b_number) if ticket.b_number else ""
    ticket.description = scrub(ticket.description, regions, known)
    ticket.anonymised_at = now
    ticket.save(update_fields=["a_number", "b_number", "description", "anonymised_at", "updated_at"])

    for message in Message.objects.filter(ticket=ticket):
        body = scrub(message.body, regions, known)
        if body != message.body:
            Message.objects.filter(pk=message.pk).update(body=body)
    for notification in Notification.objects.filter(ticket=ticket):
        changes = {
            field: scrub(getattr(notification, field), regions, known)
            for field in ("message", "subject", "body")
        }
        Notification.objects.filter(pk=notification.pk).update(**changes)
    for event in TicketEvent.objects.filter(ticket=ticket):
        old, new = scrub(event.old_value, regions, known), scrub(event.new_value, regions, known)
        if (old, new) != (event.old_value, event.new_value):
            TicketEvent.objects.filter(pk=event.pk).update(old_value=old, new_value=new)

    files = list(Attachment.objects.filter(ticket=ticket).values_list("file", flat=True))
    Attachment.objects.filter(ticket=ticket).delete()
    storage = Attachment._meta.get_field("file").storage
    transaction.on_commit(lambda: [storage.delete(name) for name in files if name])

    emails = InboundEmail.objects.filter(ticket=ticket).exclude(raw=b"")
    email_count = 0
    for record in emails:
        InboundEmail.objects.filter(pk=record.pk).update(
            raw=b"", subject=scrub(record.subject, regions, known)[:500],
            note=f"removed by retention {now:%Y-%m-%d}",
        )
        email_count += 1

    TicketEvent.objects.create(
        ticket=ticket, actor=None, field="retention", old_value=None,
        new_value=f"{len(files)} attachments, {email_count} e-mails removed; phone numbers masked",
        note=f"closed {ticket.closed_at:%Y-%m-%d}; RETENTION_MONTHS",
    )
    result.tickets += 1
    result.attachments += len(files)
    result.emails += email_count
