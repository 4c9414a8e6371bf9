import datetime

from celery import shared_task
from django.utils import timezone

from sla import reports


@shared_task(acks_late=True)
def store_last_month() -> list[int]:
    """On the 1st: snapshot last month for every contract active in it."""
    last = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    return list(reports.store_month(last.year, last.month))


@shared_task(acks_late=True)
def recompute_stale_reports() -> int:
    return reports.recompute_stale()


@shared_task(acks_late=True)
def store_month(year: int, month: int) -> list[int]:
    """A month stored and its stale reports recomputed, asked for from the billing page."""
    return list(reports.store_month(year, month))
