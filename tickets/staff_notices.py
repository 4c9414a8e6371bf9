"""Telling staff what concerns them: a new report on a contract they manage (its account
managers) and a customer's reply on a ticket assigned to them. Each staff member switches each
event on or off, by e-mail and as a notice on the desk (StaffPreferences).

Both are decided in the transaction that stores the report or the reply: a StaffNotice row for
each staff member who wants the notice, and a Notification row for each who wants the mail, sent
after commit like every other mail (tickets.notifications: a broker that is down delays it, the
sweep sends it). Who is told is settled when it happens (the account managers, the assignee then);
whether they still want the mail, and are still active staff, is read again when it goes out.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from contracts.models import Contract
from core.db import any_row
from tickets import notifications
from tickets.models import Notification, StaffEvent, StaffNotice, StaffPreferences, Ticket

MAIL_KIND = {event: kind for kind, event in notifications.PERSONAL_KINDS.items()}


def new_report(ticket: Ticket, *, registered_by=None) -> None:
    """Each account manager of the ticket's contract, except the staff member who registered the
    report (a phone report, a kept e-mail opened from the inbox): they know of it already."""
    if not any_row(Contract.account_managers.through, '"contract_id" = %s', [ticket.contract_id]):
        return  # most contracts have none, and every report asks
    managers = ticket.contract.account_managers.filter(is_staff=True, is_active=True)
    if getattr(registered_by, "pk", None) is not None:
        managers = managers.exclude(pk=registered_by.pk)
    _tell(ticket, StaffEvent.NEW_REPORT, managers)


def customer_replied(ticket: Ticket, message: str) -> None:
    """The ticket's assignee; with nobody assigned, the team sees the reply in the queue."""
    if ticket.assignee_id is None:
        return
    assignee = get_user_model().objects.filter(pk=ticket.assignee_id, is_staff=True, is_active=True)
    _tell(ticket, StaffEvent.CUSTOMER_REPLY, assignee, message=message)


def _tell(ticket: Ticket, event: StaffEvent, users: QuerySet, message: str = "") -> None:
    staff = list(users.select_related("staff_preferences"))
    now = timezone.now()
    StaffNotice.objects.bulk_create(
        StaffNotice(user=user, ticket=ticket, kind=event, created_at=now)
        for user in staff
        if StaffPreferences.of(user).wants(event, "notice")
    )
    notifications.post_many(
        Notification(ticket=ticket, kind=MAIL_KIND[event], recipient_user=user, message=message, created_at=now)
        for user in staff
        if user.email and StaffPreferences.of(user).wants(event, "email")
    )


# Reading and marking a staff member's notices: only ever their own.


def notices_for(user) -> QuerySet:
    return StaffNotice.objects.filter(user=user).select_related("ticket__customer", "ticket__terms")


def unread_count(user) -> int:
    return StaffNotice.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(user, ticket: Ticket) -> int:
    """Opening the ticket reads what the staff member was told about it."""
    return StaffNotice.objects.filter(user=user, ticket=ticket, read_at__isnull=True).update(read_at=timezone.now())


def mark_all_read(user) -> int:
    return StaffNotice.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
