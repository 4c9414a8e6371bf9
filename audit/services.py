"""Writing the audit log: one INSERT an event, nothing read, so that a page that records its
viewing costs one query more and no more."""

from __future__ import annotations

import datetime
import ipaddress
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from audit.models import Action, AuditEvent
from core.web import client_ip

# The request being answered, for the signal receivers: a user's rights changed in the admin, a
# token created on a page. None in a worker or manage.py (audit.middleware sets it).
current_request: ContextVar[HttpRequest | None] = ContextVar("audit_current_request", default=None)

NAME_LENGTH = AuditEvent._meta.get_field("actor_name").max_length or 150
WHAT_LENGTH = AuditEvent._meta.get_field("what").max_length or 500


def record(
    action: Action | str,
    *,
    request: HttpRequest | None = None,
    actor=None,
    actor_name: str = "",
    customer=None,
    customer_id: int | None = None,
    ticket_number: str = "",
    subject_user=None,
    subject_name: str = "",
    what: str = "",
    detail: dict | None = None,
) -> AuditEvent:
    """Write one event. Who and from where come from `request` when it is given (its signed-in
    user, unless `actor` names another, and its visitor's address); `actor_name` alone is the
    user name tried where nobody signed in. Pass ids already loaded (`customer_id`): nothing is
    read."""
    if actor is None and not actor_name and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    if actor is not None:
        actor_name = actor.get_username()
    if subject_user is not None and not subject_name:
        subject_name = subject_user.get_username()
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_name=actor_name[:NAME_LENGTH],
        ip=_address(request),
        customer=customer,
        customer_id=customer.pk if customer is not None else customer_id,
        ticket_number=ticket_number,
        subject_user=subject_user,
        subject_name=subject_name[:NAME_LENGTH],
        what=what[:WHAT_LENGTH],
        detail=detail or {},
    )


def record_view(
    request: HttpRequest, *, customer_id: int | None = None, ticket_number: str = "", detail: dict | None = None
) -> None:
    """Staff opened a page or file with customers' data: its address is what they viewed."""
    record(
        Action.VIEWED,
        request=request,
        customer_id=customer_id,
        ticket_number=ticket_number,
        what=request.get_full_path(),
        detail=detail,
    )


def _address(request: HttpRequest | None) -> str | None:
    """The visitor's address, when it is one (a proxy may pass on anything)."""
    if request is None:
        return None
    text = client_ip(request) or ""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def cutoff(now: datetime.datetime, days: int) -> datetime.datetime:
    return now - datetime.timedelta(days=days)


def expire(*, now: datetime.datetime | None = None, days: int | None = None) -> int:
    """Remove the events older than AUDIT_RETENTION_DAYS (run nightly with tickets' retention)."""
    days = days if days is not None else settings.AUDIT_RETENTION_DAYS
    if days < 1:
        raise ValueError("the audit log's retention period must be at least one day")
    return AuditEvent.objects.expire(cutoff(now or timezone.now(), days))
