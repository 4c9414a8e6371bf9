from celery import shared_task

from contracts import notices


@shared_task(acks_late=True)
def send_pending_notices() -> int:
    """Notices to customers (D §28, §15.14) not yet sent; beat runs it every minute as well."""
    return notices.send_pending()
