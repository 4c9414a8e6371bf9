import datetime

from celery import shared_task
from django.utils import timezone

from tickets import notifications
from tickets.models import Notification

# A notification younger than this is still on its way through the broker.
SWEEP_GRACE = datetime.timedelta(minutes=2)


@shared_task(
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=notifications.MAX_ATTEMPTS - 1,
    acks_late=True,
)
def send_notification(notification_id: int) -> bool:
    return notifications.send(notification_id)


@shared_task(acks_late=True)
def send_pending_notifications() -> int:
    """Send what the broker never delivered (it was down when the change was committed)."""
    cutoff = timezone.now() - SWEEP_GRACE
    pending = Notification.objects.filter(
        sent_at__isnull=True, failed_at__isnull=True, created_at__lt=cutoff
    ).values_list("pk", flat=True)[:500]
    sent = 0
    for notification_id in pending:
        try:
            sent += notifications.send(notification_id)
        except Exception:  # noqa: BLE001 - recorded on the row; the next sweep tries again
            continue
    return sent
