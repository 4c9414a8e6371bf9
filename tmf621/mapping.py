"""Our tickets as TMF621 TroubleTicket resources (README, "TMF621"): one place that says which of
our fields is which of theirs, for the API's answers and the events' payloads alike."""

from __future__ import annotations

import datetime
from typing import overload

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from tickets import history, selectors
from tickets.api.serializers import shown_name
from tickets.models import (
    Attachment,
    AttachmentReference,
    Category,
    CloseReason,
    Message,
    Status,
    Ticket,
    TicketEvent,
)

# Our states as TMF's; a ticket the customer withdrew is "cancelled", any other closed one "closed".
STATUS = {
    Status.NEW: "acknowledged",
    Status.IN_PROGRESS: "inProgress",
    Status.WAITING_FOR_CUSTOMER: "pending",
    Status.RESOLVED: "resolved",
    Status.CLOSED: "closed",
}
CANCELLED = "cancelled"
TMF_STATUSES = (*STATUS.values(), CANCELLED)

# `urgent` is our only measure of severity: an urgent report is critical, any other minor.
CRITICAL, MINOR = "critical", "minor"
SEVERITIES = {CRITICAL: True, "major": False, MINOR: False}

# Characteristic names (troubleTicketCharacteristic) and the ticket fields they carry.
A_NUMBER, B_NUMBER, FAULT_TIME = "aNumber", "bNumber", "faultOccurredAt"
SERVICE_START_DUE, SERVICE_START_BREACHED = "serviceStartDue", "serviceStartBreached"
REPORT_CHARACTERISTICS = {A_NUMBER: "a_number", B_NUMBER: "b_number", FAULT_TIME: "fault_occurred_at"}
TICKET_TYPES = tuple(Category.values)

# An uploaded file's attachment id is its number ("12"); a link to a file kept elsewhere has
# this prefix ("ref-12"): the two are different tables, and their ids must never meet.
REFERENCE_PREFIX = "ref-"


def tmf_status(status: str, close_reason: str | None) -> str:
    if status == Status.CLOSED and close_reason == CloseReason.WITHDRAWN:
        return CANCELLED
    return STATUS[Status(status)]


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def ticket_href(ticket_id: int | str) -> str:
    return absolute(reverse("tmf621-ticket", args=[ticket_id]))


@overload
def iso(moment: datetime.datetime) -> str: ...
@overload
def iso(moment: datetime.datetime | None) -> str | None: ...
def iso(moment: datetime.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def tickets_for(user) -> QuerySet[Ticket]:
    """The reader's tickets (tickets.selectors: another customer's are not there) with what a
    TroubleTicket shows, in a fixed number of queries however many tickets there are."""
    messages = Message.objects.select_related("author").order_by("created_at", "id")
    attachments = Attachment.objects.order_by("created_at", "id")
    if not user.is_staff:
        messages = messages.filter(internal=False)
        attachments = attachments.exclude(message__internal=True)
    return (
        selectors.tickets_for(user)
        .select_related("contract__customer", "contract__terms", "reported_by")
        .prefetch_related(
            Prefetch(
                "events", TicketEvent.objects.filter(field="status").order_by("at", "id"), to_attr="status_events"
            ),
            Prefetch("messages", messages, to_attr="visible_messages"),
            Prefetch("attachments", attachments, to_attr="visible_attachments"),
            Prefetch(
                "attachment_references",
                AttachmentReference.objects.order_by("created_at", "id"),
                to_attr="references",
            ),
        )
    )


def trouble_ticket(ticket: Ticket, reader, *, now: datetime.datetime | None = None) -> dict:
    """The TroubleTicket (TroubleTicket_RES) as `reader` may see it: customers never see
    internal notes or staff members' user names. `ticket` comes from `tickets_for`."""
    now = now or timezone.now()
    # The to_attr prefetches of tickets_for (attributes the model does not declare).
    changes = getattr(ticket, "status_events")
    return {
        "@type": "TroubleTicket",
        "@baseType": "TroubleTicket",
        "id": str(ticket.pk),
        "href": ticket_href(ticket.pk),
        "externalIdentifier": [
            {
                "@type": "ExternalIdentifier",
                "id": ticket.number,
                "owner": "servicedesk",
                "externalIdentifierType": "ticketNumber",
            }
        ],
        "description": ticket.description,
        "ticketType": ticket.category,
        "severity": CRITICAL if ticket.urgent else MINOR,
        "priority": "high" if ticket.urgent else "medium",
        "status": tmf_status(ticket.status, ticket.close_reason),
        "statusChangeDate": iso(changes[-1].at if changes else ticket.received_at),
        "statusChangeHistory": _history(ticket, changes),
        "creationDate": iso(ticket.received_at),
        "lastUpdate": iso(ticket.updated_at),
        **({"resolutionDate": iso(ticket.resolved_at)} if ticket.resolved_at else {}),
        "channel": {"@type": "ChannelRef", "id": ticket.channel, "name": ticket.get_channel_display()},
        "troubleTicketCharacteristic": _characteristics(ticket, now),
        "relatedParty": _parties(ticket, reader),
        "relatedEntity": [
            {
                "@type": "RelatedEntity",
                "role": "contract",
                "entity": {
                    "@type": "EntityRef",
                    "@referredType": "Contract",
                    "id": str(ticket.contract_id),
                    "name": str(ticket.contract),
                    "href": absolute(reverse("contract-detail", args=[ticket.contract_id])),
                },
            }
        ],
        "note": [_note(message, reader) for message in getattr(ticket, "visible_messages")],
        "attachment": _attachments(ticket),
    }


def _history(ticket: Ticket, changes: list[TicketEvent]) -> list[dict]:
    last = len(changes) - 1
    return [
        {
            "@type": "StatusChange",
            # Only the last change can be a withdrawal: a withdrawn ticket takes no further action.
            # A status change always names its new status.
            "status": tmf_status(change.new_value or "", ticket.close_reason if index == last else None),
            "statusChangeDate": iso(change.at),
            **(
                {"statusChangeReason": history.note_text(change.note, ticket.terms.timezone, ticket.terms)}
                if change.note
                else {}
            ),
        }
        for index, change in enumerate(changes)
    ]


def _string(name: str, value: str) -> dict:
    return {"@type": "StringCharacteristic", "name": name, "valueType": "string", "value": value}


def _characteristics(ticket: Ticket, now: datetime.datetime) -> list[dict]:
    """A- and B-number and fault time (D §16.9), and the service-start deadline (D §16.8), which
    is not the `expectedResolutionDate`: service starting is not the fault being resolved."""
    found = [_string(A_NUMBER, ticket.a_number)] if ticket.a_number else []
    found += [_string(B_NUMBER, ticket.b_number)] if ticket.b_number else []
    if ticket.fault_occurred_at:
        found.append(_string(FAULT_TIME, iso(ticket.fault_occurred_at)))
    if ticket.service_start_due:
        found.append(_string(SERVICE_START_DUE, iso(ticket.service_start_due)))
        found.append(
            {
                "@type": "BooleanCharacteristic",
                "name": SERVICE_START_BREACHED,
                "valueType": "boolean",
                "value": ticket.is_service_start_breached(now),
            }
        )
    return found


def _parties(ticket: Ticket, reader) -> list[dict]:
    parties = [
        {
            "@type": "RelatedPartyRefOrPartyRoleRef",
            "role": "customer",
            "partyOrPartyRole": {
                "@type": "PartyRef",
                "@referredType": "Organization",
                "id": str(ticket.customer_id),
                "name": ticket.customer.name,
            },
        }
    ]
    reporter = ticket.reported_by
    if reporter is not None and not reporter.is_staff:
        parties.append(
            {
                "@type": "RelatedPartyRefOrPartyRoleRef",
                "role": "contact",
                "partyOrPartyRole": {
                    "@type": "PartyRef",
                    "@referredType": "Individual",
                    "id": str(reporter.pk),
                    "name": reporter.get_full_name() or reporter.get_username(),
                },
            }
        )
    return parties


class _Reader:
    """What `shown_name` reads of a request: its user."""

    def __init__(self, user) -> None:
        self.user = user


def _note(message: Message, reader) -> dict:
    if message.author is not None:
        author = shown_name(message.author, _Reader(reader))
    else:  # the desk's own message, or the customer's e-mail from an address without a user
        author = gettext("Support") if message.from_desk else message.ticket.customer.name
    return {
        "@type": "Note",
        "id": str(message.pk),
        "author": author,
        "date": iso(message.created_at),
        "text": message.body,
    }


def _attachments(ticket: Ticket) -> list[dict]:
    """Uploaded files and links to files kept elsewhere, in the order they were added."""
    found = [
        (attachment.created_at, 0, attachment.pk, _attachment(ticket, attachment))
        for attachment in getattr(ticket, "visible_attachments")
    ]
    found += [
        (reference.created_at, 1, reference.pk, _reference(reference)) for reference in getattr(ticket, "references")
    ]
    return [item for *_order, item in sorted(found, key=lambda entry: entry[:3])]


def _reference(reference: AttachmentReference) -> dict:
    """An AttachmentRef whose `url` is the file's own address elsewhere (we serve no copy, so
    there is no `href`)."""
    return {
        "@type": "AttachmentRef",
        "@referredType": "Attachment",
        "id": REFERENCE_PREFIX + str(reference.pk),
        "name": reference.name,
        **({"description": reference.description} if reference.description else {}),
        "url": reference.url,
    }


def _attachment(ticket: Ticket, attachment: Attachment) -> dict:
    return {
        "@type": "AttachmentRef",
        "@referredType": "Attachment",
        "id": str(attachment.pk),
        "name": attachment.filename,
        "description": attachment.content_type,
        "url": absolute(reverse("attachment", args=[ticket.number, attachment.pk])),
    }


def select_fields(resource: dict, fields: list[str] | None) -> dict:
    """TMF's `fields`: the named first-level attributes, with `@type`, `id` and `href` always
    (the resource's required ones)."""
    if not fields:
        return resource
    keep = {"@type", "id", "href", *fields}
    return {key: value for key, value in resource.items() if key in keep}
