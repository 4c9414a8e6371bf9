"""Celery tasks of the core package."""

from celery import shared_task

from core import idempotency


@shared_task(acks_late=True)
def forget_idempotency_keys() -> int:
    return idempotency.forget_old()
