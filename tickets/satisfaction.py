"""The satisfaction question of a resolved ticket: the signed links in its e-mail, and the
monthly score per customer that staff read.

A link carries the ticket's id signed with this module's salt and the time it was made; it works
without signing in (one click from the mail) for `LINK_MAX_AGE`, and for that ticket only. The
id inside is readable but useless without the signature."""

from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from django.core import signing
from django.db.models import Count, Q
from django.urls import reverse

from core.months import midnights
from tickets.models import Satisfaction, Ticket

SALT = "tickets.satisfaction"
LINK_MAX_AGE = datetime.timedelta(days=30)


class LinkExpired(Exception):
    """The link was right but is older than LINK_MAX_AGE."""


class LinkInvalid(Exception):
    """The link was changed, made for something else, or its ticket is gone."""


def token_for(ticket: Ticket) -> str:
    return signing.dumps(ticket.pk, salt=SALT)


def link(ticket: Ticket, score: str) -> str:
    """The address in the e-mail, absolute: it is clicked in a mail program."""
    return settings.SITE_URL + reverse("satisfaction", kwargs={"token": token_for(ticket), "score": score})


def ticket_for(token: str) -> Ticket:
    try:
        ticket_id = signing.loads(token, salt=SALT, max_age=LINK_MAX_AGE)
    except signing.SignatureExpired as error:
        raise LinkExpired from error
    except signing.BadSignature as error:
        raise LinkInvalid from error
    if not isinstance(ticket_id, int):
        raise LinkInvalid
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:
        raise LinkInvalid
    return ticket


def answer_of(ticket: Ticket) -> Satisfaction | None:
    try:
        return ticket.satisfaction
    except Satisfaction.DoesNotExist:
        return None


def month_bounds(month: datetime.date, zone: str) -> tuple[datetime.datetime, datetime.datetime]:
    """The month's first and the next month's first instant, at midnight in `zone`."""
    return midnights(month, zoneinfo.ZoneInfo(zone))


def monthly_scores(month: datetime.date, zone: str) -> list[dict]:
    """Per customer, the answers given in the month (in `zone`): how many good and bad, and the
    share of good ones in per cent. One query, whatever the number of
    customers."""
    start, end = month_bounds(month, zone)
    rows = (
        Satisfaction.objects.filter(answered_at__gte=start, answered_at__lt=end)
        .values("ticket__customer_id", "ticket__customer__name")
        .annotate(
            good=Count("id", filter=Q(score=Satisfaction.Score.GOOD)),
            bad=Count("id", filter=Q(score=Satisfaction.Score.BAD)),
        )
        .order_by("ticket__customer__name", "ticket__customer_id")
    )
    return [
        {
            "customer_id": row["ticket__customer_id"],
            "customer": row["ticket__customer__name"],
            "good": row["good"],
            "bad": row["bad"],
            "answers": row["good"] + row["bad"],
            "share": round(100 * row["good"] / (row["good"] + row["bad"]), 1),
        }
        for row in rows
    ]


def comments_in(month: datetime.date, zone: str, limit: int = 200) -> list[Satisfaction]:
    """The month's answers that came with a comment, newest first, with their ticket and customer."""
    start, end = month_bounds(month, zone)
    return list(
        Satisfaction.objects.filter(answered_at__gte=start, answered_at__lt=end)
        .exclude(comment="")
        .select_related("ticket__customer")
        .order_by("-answered_at", "-id")[:limit]
    )
