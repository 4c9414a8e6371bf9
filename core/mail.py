"""What every app's e-mail rows share: how a worker claims one, how the mail goes out, and when
a refused one is tried again.

A row (a notification, a notice, an outage update's mail) is claimed with a conditional update
that commits at once, the mail server is spoken to with no transaction open, and the outcome is
recorded after: a slow mail server holds no row lock, and a worker killed mid-send leaves a
claim that lapses after MAIL_CLAIM_LEASE_SECONDS, so the mail is sent again.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Model, Q
from django.utils.html import escape, linebreaks

NO_CUSTOMER_ADDRESS = "No e-mail address to send to: give the customer a main contact person."
# After this many refusals a mail is given up and shown to staff.
MAX_ATTEMPTS = 5


def claim_lease() -> datetime.timedelta:
    """A claim older than this is a worker killed mid-send (MAIL_CLAIM_LEASE_SECONDS)."""
    return datetime.timedelta(seconds=settings.MAIL_CLAIM_LEASE_SECONDS)


def retry_due(now: datetime.datetime) -> Q:
    """Rows never refused, or whose wait after a refusal is over."""
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def claim(model: type[Model], pk: int, now: datetime.datetime) -> bool:
    """Take row `pk` for this worker and count the attempt; False when it is sent, given up,
    claimed by another worker within the lease, or (rows that wait after a refusal) not due."""
    claimable = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - claim_lease())
    if any(field.name == "next_attempt_at" for field in model._meta.get_fields()):
        claimable &= retry_due(now)
    rows = model._default_manager.filter(claimable, pk=pk, sent_at__isnull=True, failed_at__isnull=True)
    return bool(rows.update(claimed_at=now, attempts=F("attempts") + 1))


def next_attempt(now: datetime.datetime, attempts: int) -> datetime.datetime:
    """2, 4, 8, 16 minutes after the attempts so far: a mail server down for half an hour is waited out."""
    return now + datetime.timedelta(minutes=2**attempts)


def error_text(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def given_up(now: datetime.datetime, attempts: int) -> datetime.datetime | None:
    """When a refused mail is given up: now, after its last attempt."""
    return now if attempts >= MAX_ATTEMPTS else None


def refused(error: Exception, now: datetime.datetime, attempts: int) -> dict:
    """What a row records when the mail server refused it: the claim ends, and the row waits
    for its next attempt or is given up."""
    return {
        "claimed_at": None,
        "last_error": error_text(error),
        "failed_at": given_up(now, attempts),
        "next_attempt_at": next_attempt(now, attempts),
    }


def unaddressed(now: datetime.datetime) -> dict:
    """What a row records when its customer has no address to send to: given up at once."""
    return {"claimed_at": None, "failed_at": now, "last_error": NO_CUSTOMER_ADDRESS}


def send_automatic(*, subject: str, body: str, to: list[str], headers: dict[str, str] | None = None) -> None:
    """An e-mail the desk writes by itself (Auto-Submitted, so that auto-responders keep quiet):
    the text as written, and the same text as simple HTML for clients that show only that."""
    mail = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers={"Auto-Submitted": "auto-generated", **(headers or {})},
    )
    mail.attach_alternative(linebreaks(escape(body)), "text/html")
    mail.send()
