"""Customer e-mail about a ticket (D §16.7: answer with current information and the ticket number).

A notification is a row written in the same transaction as the change it reports; after commit
a Celery task sends it. When the broker is down the row waits, and the beat sweep
(`tickets.tasks.send_pending_notifications`) sends it later: decided once, sent once.
"""

from __future__ import annotations

import logging
import zoneinfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from tickets.models import Notification, Ticket

logger = logging.getLogger(__name__)
Kind = Notification.Kind
MAX_ATTEMPTS = 5


def recipients_for(ticket: Ticket) -> list[str]:
    """The reporter when a customer user reported it, and the customer's main contact person."""
    addresses = []
    reporter = ticket.reported_by
    if reporter is not None and not reporter.is_staff and reporter.email:
        addresses.append(reporter.email)
    for contact in ticket.customer.contacts.all():
        if contact.is_primary and contact.email and contact.email not in addresses:
            addresses.append(contact.email)
    return addresses


def render(ticket: Ticket, kind: str, message: str = "") -> tuple[str, str]:
    zone = zoneinfo.ZoneInfo(ticket.terms.timezone)
    with translation.override(ticket.customer.language), timezone.override(zone):
        context = {"ticket": ticket, "kind": kind, "message": message, "zone": ticket.terms.timezone}
        subject = render_to_string("tickets/email/subject.txt", context).strip()
        body = render_to_string("tickets/email/body.txt", context).strip() + "\n"
    return subject, body


def queue(ticket: Ticket, kind: str, message: str = "") -> Notification:
    subject, body = render(ticket, kind, message)
    notification = Notification.objects.create(
        ticket=ticket,
        kind=kind,
        recipients=recipients_for(ticket),
        subject=subject,
        body=body,
    )
    transaction.on_commit(lambda: dispatch(notification.pk))
    return notification


def dispatch(notification_id: int) -> None:
    """Hand the notification to a worker; if the broker does not answer, the sweep sends it."""
    from tickets.tasks import send_notification

    try:
        send_notification.delay(notification_id)
    except Exception:  # noqa: BLE001 - any broker failure leaves the row for the sweep
        logger.warning("Broker unavailable: notification %s waits for the sweep", notification_id)


def send(notification_id: int) -> bool:
    """Send one notification once. Returns True when this call sent it; raises the mail
    server's error (after recording it) so that the task retries."""
    failure: Exception | None = None
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, sent_at__isnull=True, failed_at__isnull=True)
            .first()
        )
        if notification is None:
            return False  # sent, given up, or another worker has it now
        now = timezone.now()
        if not notification.recipients:
            notification.failed_at = now
            notification.last_error = "The customer has no e-mail address."
            notification.save(update_fields=["failed_at", "last_error"])
            return False
        notification.attempts += 1
        try:
            EmailMultiAlternatives(
                subject=notification.subject,
                body=notification.body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=notification.recipients,
                headers={"Auto-Submitted": "auto-generated"},
            ).send()
        except Exception as error:  # noqa: BLE001 - recorded, retried, then shown to staff
            failure = error
            notification.last_error = f"{type(error).__name__}: {error}"
            if notification.attempts >= MAX_ATTEMPTS:
                notification.failed_at = now
        else:
            notification.sent_at = now
        notification.save(update_fields=["attempts", "last_error", "failed_at", "sent_at"])
    if failure is not None:
        raise failure
    return True
