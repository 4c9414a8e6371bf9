from celery import shared_task
from django.utils import timezone

from core.months import previous_month
from sla import outage_mail, reports


@shared_task(acks_late=True)
def store_last_month() -> list[int]:
    """On the 1st: snapshot last month for every contract active in it."""
    last = previous_month(timezone.localdate())
    return list(reports.store_month(last.year, last.month))


@shared_task(acks_late=True)
def recompute_stale_reports() -> int:
    return reports.recompute_stale()


@shared_task(acks_late=True)
def store_month(year: int, month: int) -> list[int]:
    """A month stored and its stale reports recomputed, asked for from the billing page."""
    return list(reports.store_month(year, month))


@shared_task(acks_late=True)
def send_outage_update_mails(mail_ids: list[int]) -> int:
    """The e-mails of one outage update; one that fails is left for the sweep."""
    return sum(outage_mail.send(mail_id) for mail_id in mail_ids)


@shared_task(acks_late=True)
def send_pending_outage_update_mails() -> int:
    """Send what the broker never delivered, and retry what the mail server refused."""
    return outage_mail.send_pending()
