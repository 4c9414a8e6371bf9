"""Celery tasks: each takes ids or nothing, calls a service, and may run twice or on two
workers at once without doing anything twice."""

import datetime

from celery import shared_task
from django.utils import timezone

from audit import services as audit
from core.mail import MAX_ATTEMPTS
from tickets import mailbox, notifications, retention, services
from tickets.models import Notification

# A notification younger than this is still on its way through the broker.
SWEEP_GRACE = datetime.timedelta(minutes=2)


@shared_task(
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=MAX_ATTEMPTS - 1,
    acks_late=True,
)
def send_notification(notification_id: int) -> bool:
    return notifications.send(notification_id)


@shared_task(acks_late=True)
def send_notifications(notification_ids: list[int]) -> int:
    """Many notifications decided in one batch; a failed one is left for the sweep."""
    sent = 0
    for notification_id in notification_ids:
        try:
            sent += notifications.send(notification_id)
        except Exception:  # noqa: BLE001 - recorded on the row; the sweep tries again
            continue
    return sent


@shared_task(acks_late=True)
def send_pending_notifications() -> int:
    """Send what the broker never delivered, and retry what the mail server refused."""
    cutoff = timezone.now() - SWEEP_GRACE
    pending = Notification.objects.filter(
        sent_at__isnull=True, failed_at__isnull=True, created_at__lt=cutoff
    ).values_list("pk", flat=True)[:1000]
    return send_notifications(list(pending))


@shared_task(acks_late=True)
def close_unanswered_tickets() -> int:
    """D §16.7: tickets whose customer did not answer within the reply time are closed."""
    return services.close_unanswered()


@shared_task(acks_late=True)
def remind_waiting_customers() -> int:
    return services.remind_waiting()


@shared_task(acks_late=True)
def escalate_service_starts() -> list[int]:
    return list(services.escalate())


@shared_task(acks_late=True)
def poll_mailbox() -> str:
    """D §16.7: reports by e-mail around the clock, from the IMAP mailbox."""
    return str(mailbox.poll())


@shared_task(acks_late=True)
def apply_retention() -> str:
    """Personal data of tickets closed longer than RETENTION_MONTHS ago, and the audit log's rows
    older than AUDIT_RETENTION_DAYS."""
    done = retention.apply()
    return f"{done}; {audit.expire()} audit events removed"
