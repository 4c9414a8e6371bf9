"""Celery tasks: each takes an id or nothing and may run twice or on two workers at once
without delivering anything twice (tmf621.delivery claims the event's row)."""

from celery import shared_task

from tmf621 import delivery


@shared_task(acks_late=True)
def deliver_event(event_id: str) -> bool:
    """The first attempt, right after the commit; retries are the sweep's."""
    return delivery.deliver(event_id)


@shared_task(acks_late=True)
def deliver_due_events() -> int:
    """Retries and what the broker never took; and old delivered events go (their payloads copy
    personal data)."""
    delivery.forget_delivered()
    return delivery.deliver_due()
