"""TMF621 events from what the ticket services already write: every state and field change is a
TicketEvent row, every message a Message row. Receivers of their post_save write one Event per
interested listener in the same transaction (tickets never import this app); after the commit
the payload is built from the ticket as it then is and a worker delivers it (tmf621.delivery).

One service call changes several fields (a start sets the status, the service-start time and
the assignee): it is told as one event, the most specific one, not one per field."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl

from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils.translation import gettext as _

from config.broker import hand_over
from core.db import any_row
from tickets.models import Message, Status, Ticket, TicketEvent
from tickets.signals import changes_written
from tmf621 import mapping
from tmf621.errors import TmfError
from tmf621.models import Event, EventType, Listener

# What a listener's query may filter on, besides eventType.
QUERY_ATTRIBUTES = ("status", "severity", "ticketType")
QUERY_PREFIX = "event.troubleTicket."


def parse_query(query: str) -> dict[str, set[str]]:
    """`eventType=TroubleTicketCreateEvent,TroubleTicketResolvedEvent&event.troubleTicket.severity=critical`
    as {name: accepted values}; anything else is refused by name."""
    wanted: dict[str, set[str]] = {}
    for name, value in parse_qsl(query.replace(" ", ""), keep_blank_values=True):
        values = {item for item in value.split(",") if item}
        if name == "eventType":
            if not values or values - set(EventType.values):
                raise TmfError(400, _("query: eventType takes %(allowed)s.") % {"allowed": ", ".join(EventType.values)})
        elif not (name.startswith(QUERY_PREFIX) and name.removeprefix(QUERY_PREFIX) in QUERY_ATTRIBUTES):
            raise TmfError(
                400,
                _("query filters on eventType and %(names)s, not “%(name)s”.")
                % {"names": ", ".join(QUERY_PREFIX + known for known in QUERY_ATTRIBUTES), "name": name},
            )
        elif not values:
            raise TmfError(400, _("query: give %(name)s a value.") % {"name": name})
        wanted[name] = values
    return wanted


def _wants(listener: Listener, event_type: str) -> bool:
    types = parse_query(listener.query).get("eventType")
    return types is None or event_type in types


def matches(listener: Listener, payload: dict) -> bool:
    ticket = payload["event"]["troubleTicket"]
    return all(
        ticket.get(name.removeprefix(QUERY_PREFIX)) in values
        for name, values in parse_query(listener.query).items()
        if name.startswith(QUERY_PREFIX)
    )


def _listeners(customer_ids: Iterable[int], staff_only: bool = False):
    """Enabled listeners of active users allowed to see tickets of these customers (ids, or a
    queryset of them)."""
    listeners = Listener.objects.filter(disabled_at__isnull=True, owner__is_active=True)
    staff = Q(customer__isnull=True, owner__is_staff=True)
    return listeners.filter(staff if staff_only else staff | Q(customer_id__in=customer_ids))


def _anyone_may_hear(customer_id: int, staff_only: bool) -> bool:
    """Whether an enabled listener is a staff member's or (unless `staff_only`) this customer's:
    a desk usually has none, and every report, change and message asks. `_listeners` then
    decides who hears (active owners, staff)."""
    if staff_only:
        return any_row(Listener, '"disabled_at" IS NULL AND "customer_id" IS NULL')
    return any_row(Listener, '"disabled_at" IS NULL AND ("customer_id" IS NULL OR "customer_id" = %s)', [customer_id])


def record(ticket: Ticket, event_types: list[str], staff_only: bool = False) -> None:
    """One Event per listener and type, unless this transaction already told the listener of a
    change of the ticket (its payload is still to be built) and this is just one more field."""
    if not _anyone_may_hear(ticket.customer_id, staff_only):
        return
    created = []
    for listener in _listeners({ticket.customer_id}, staff_only):
        pending = Event.objects.filter(listener=listener, ticket=ticket, payload__isnull=True)
        for event_type in event_types:
            if not _wants(listener, event_type):
                continue
            if event_type == EventType.ATTRIBUTE_VALUE_CHANGE and pending.exists():
                continue
            created.append(Event.objects.create(listener=listener, ticket=ticket, event_type=event_type).pk)
    if created:
        # robust: the change is committed whatever happens here; the sweep builds and delivers.
        transaction.on_commit(lambda: publish(created), robust=True)


def _types_for(change: TicketEvent) -> list[str]:
    if change.field != "status":
        return [EventType.ATTRIBUTE_VALUE_CHANGE]
    if change.old_value is None:
        return [EventType.CREATE]
    types: list[str] = [EventType.STATUS_CHANGE]
    if change.new_value == Status.WAITING_FOR_CUSTOMER:
        types.append(EventType.INFORMATION_REQUIRED)
    if change.new_value == Status.RESOLVED:
        types.append(EventType.RESOLVED)
    return types


@receiver(post_save, sender=TicketEvent, dispatch_uid="tmf621-ticket-event")
def _ticket_changed(sender, instance: TicketEvent, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        record(instance.ticket, _types_for(instance))


@receiver(changes_written, dispatch_uid="tmf621-batch-changes")
def _tickets_changed(sender, changes: QuerySet[TicketEvent], **kwargs) -> None:
    """A sweep's changes (the close after an unanswered question), written at once, and told as
    `record` tells each one, with a few queries for the whole batch instead of one per change."""
    if not Listener.objects.filter(disabled_at__isnull=True).exists():
        return  # the usual case, known without reading the batch
    tickets = Ticket.objects.filter(pk__in=changes.values("ticket_id"))
    listeners = list(_listeners(tickets.values_list("customer_id", flat=True)))
    if not listeners:
        return
    customers = dict(tickets.values_list("pk", "customer_id"))
    # (listener, ticket) pairs already told of a change whose payload is still to be built.
    pending = set(
        Event.objects.filter(listener__in=listeners, ticket_id__in=customers, payload__isnull=True).values_list(
            "listener_id", "ticket_id"
        )
    )
    events = []
    for change in changes:
        customer_id = customers[change.ticket_id]
        for listener in listeners:
            if listener.customer_id not in (None, customer_id):  # another customer's listener
                continue
            for event_type in _types_for(change):
                if not _wants(listener, event_type):
                    continue
                if event_type == EventType.ATTRIBUTE_VALUE_CHANGE and (listener.pk, change.ticket_id) in pending:
                    continue
                events.append(Event(listener=listener, ticket_id=change.ticket_id, event_type=event_type))
                pending.add((listener.pk, change.ticket_id))
    created = [event.pk for event in Event.objects.bulk_create(events)]
    if created:
        transaction.on_commit(lambda: publish(created), robust=True)


@receiver(post_save, sender=Message, dispatch_uid="tmf621-message")
def _message_written(sender, instance: Message, created: bool, raw: bool = False, **kwargs) -> None:
    """A new note: an attribute change of the ticket (internal notes: staff's listeners only)."""
    if created and not raw:
        record(instance.ticket, [EventType.ATTRIBUTE_VALUE_CHANGE], staff_only=instance.internal)


def build(event: Event) -> bool:
    """The payload, from the ticket as the listener's owner may see it now. False (and the event
    is gone) when the owner may no longer see the ticket or the query filters it out."""
    owner = event.listener.owner
    ticket = mapping.tickets_for(owner).filter(pk=event.ticket_id).first()
    payload = None
    if ticket is not None and owner.is_active:
        payload = _payload(event, mapping.trouble_ticket(ticket, owner))
    if payload is None or not matches(event.listener, payload):
        event.delete()
        return False
    event.payload = payload
    event.save(update_fields=["payload"])
    return True


def _payload(event: Event, trouble_ticket: dict) -> dict:
    body = {"troubleTicket": trouble_ticket}
    if event.event_type == EventType.INFORMATION_REQUIRED:
        # What the customer is asked: the desk's last note, to be answered with a note.
        question = trouble_ticket["note"][-1]["text"] if trouble_ticket["note"] else ""
        body["informationRequired"] = {"op": "add", "path": "/note/-", "value": question}
    return {
        "@type": event.event_type,
        "id": str(event.pk),
        "eventId": str(event.pk),
        "eventType": event.event_type,
        "eventTime": mapping.iso(event.created_at),
        "domain": "troubleTicketManagement",
        "event": body,
    }


def publish(event_ids: list) -> None:
    """After commit: build each payload while the ticket is as the change left it, and hand the
    delivery to a worker (the sweep delivers what the broker does not take)."""
    for event in Event.objects.select_related("listener__owner").filter(pk__in=event_ids, payload__isnull=True):
        if build(event):
            hand_over("tmf621.tasks.deliver_event", str(event.pk), waiting=f"TMF621 event {event.pk}")
