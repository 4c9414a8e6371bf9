"""Notices to customers (D §25): written in the transaction that decides them, e-mailed by the
workers once, dated when sent. The date counts: the notice is received some days later
(D §25.2), and the customer's right to terminate runs two weeks from then (D §15.14, §28).

A worker claims a notice with a conditional update and commits before it talks to the mail
server, so a slow server never holds a row lock; a claim older than `MAIL_CLAIM_LEASE_SECONDS` is taken as
abandoned (a worker killed mid-send) and the notice is sent again.
"""

from __future__ import annotations

import datetime
import logging
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Field
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _

from config.broker import hand_over
from contracts.models import ContractFee, Notice, NoticeChannel, ServiceTerms, terms_editable_fields
from contracts.validation import minutes_to_hhmm
from core.mail import claim, refused, retry_due, send_automatic, unaddressed
from core.months import add_months

logger = logging.getLogger(__name__)


def dispatch_after_commit() -> None:
    transaction.on_commit(dispatch)


def dispatch() -> None:
    hand_over("contracts.tasks.send_pending_notices", waiting="the pending notices")


def pending(now: datetime.datetime | None = None):
    now = now or timezone.now()
    return Notice.objects.filter(retry_due(now), sent_at__isnull=True, failed_at__isnull=True).order_by(
        "created_at", "pk"
    )


def send_pending() -> int:
    return sum(send(pk) for pk in pending().values_list("pk", flat=True))


def send_again(notices) -> int:
    """Staff send failed notices again (an address was added, the mail server is back)."""
    count = notices.filter(sent_at__isnull=True).update(failed_at=None, attempts=0, next_attempt_at=None, last_error="")
    dispatch_after_commit()
    return count


def applies_from(notice: Notice, terms_before: ServiceTerms, received_on: datetime.date) -> datetime.date:
    """The change applies to this customer once the notice period has run from its receipt: on
    the change's date when the notice went out in time, later when it did not (D §28, §15.14)."""
    if notice.terms_id:
        months = terms_before.terms_change_notice_months
        earliest = add_months(received_on, months) if months is not None else received_on
    else:
        days = terms_before.price_change_notice_days
        earliest = received_on + datetime.timedelta(days=days or 0)
    return max(notice.effective_on, earliest)


def recipients_for(notice: Notice) -> list[str]:
    return customer_addresses(notice.customer)


def customer_addresses(customer) -> list[str]:
    """The customer's main contact person (D §14) and its users, each once."""
    addresses = [c.email for c in customer.contacts.all() if c.is_primary and c.email]
    users = get_user_model().objects.filter(customer_membership__customer=customer, is_active=True)
    for email in users.exclude(email="").order_by("pk").values_list("email", flat=True):
        if email.lower() not in {a.lower() for a in addresses}:
            addresses.append(email)
    return addresses


def changes_of(terms: ServiceTerms) -> list[tuple[str, str, str]]:
    """(what, before, after) for each clause a new terms version changes."""
    previous = ServiceTerms.objects.filter(slug=terms.slug, version__lt=terms.version).order_by("-version").first()
    if previous is None:
        return []
    rows = []
    for name in terms_editable_fields():
        if name == "effective_from":
            continue
        old, new = getattr(previous, name), getattr(terms, name)
        if old != new:
            field = ServiceTerms._meta.get_field(name)
            assert isinstance(field, Field)  # terms_editable_fields: the terms' own columns
            rows.append((str(field.verbose_name), _shown(previous, field, old), _shown(terms, field, new)))
    return rows


def _shown(terms: ServiceTerms, field, value) -> str:
    """A clause's value as a customer reads it, in the active language."""
    if value in (None, "", []):
        return "–"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if field.name in ("support_opens", "support_closes"):
        return minutes_to_hhmm(value)
    if field.name == "discount_ladder":
        return "; ".join(
            _("below %(below)s %%: %(percent)s %%")
            % {"below": _number(step["below"]), "percent": _number(step["percent"])}
            for step in value
        )
    if field.name == "clauses":
        return "; ".join(f"{key}: {ref}" for key, ref in value.items())
    if field.name == "maintenance_windows":
        return "; ".join(
            f"{', '.join(str(WEEKDAYS_ABBR[day - 1]) for day in window['weekdays'])} {window['start']}–{window['end']}"
            for window in value
        )
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, Decimal):
        return _number(value)
    return str(value)


def _number(value) -> str:
    return formats.number_format(Decimal(str(value)).normalize(), use_l10n=True)


def render(
    notice: Notice, received_on: datetime.date, termination_until: datetime.date | None, effective_on: datetime.date
) -> tuple[str, str]:
    if notice.terms is not None:
        terms = notice.terms
    else:
        assert notice.fee is not None  # notice_names_what_changed: new terms or a new fee
        terms = notice.fee.contract.terms
    with translation.override(notice.customer.language), timezone.override(zoneinfo.ZoneInfo(terms.timezone)):
        context = {
            "notice": notice,
            "customer": notice.customer,
            "terms": terms,
            "changes": changes_of(notice.terms) if notice.terms is not None else [],
            "fee": notice.fee,
            "previous_fee": notice.fee.contract.fee_on(notice.fee.effective_from - datetime.timedelta(days=1))
            if notice.fee is not None
            else None,
            "received_on": received_on,
            "termination_until": termination_until,
            "effective_on": effective_on,
            "site_url": settings.SITE_URL,
        }
        subject = render_to_string("contracts/email/notice_subject.txt", context).strip()
        body = render_to_string("contracts/email/notice_body.txt", context).strip() + "\n"
    return subject, body


def send(notice_id: int, *, now: datetime.datetime | None = None) -> bool:
    """Send one notice once. Returns True when this call sent it."""
    now = now or timezone.now()
    if not claim(Notice, notice_id, now):
        return False  # sent, given up, or another worker has it now
    notice = Notice.objects.select_related("customer", "terms", "fee__contract__terms").get(pk=notice_id)
    recipients = recipients_for(notice)
    terms_before = notice.terms_before
    sent_on = timezone.localdate(now, zoneinfo.ZoneInfo(terms_before.timezone))
    received_on = sent_on + datetime.timedelta(days=terms_before.notice_receipt_days_email or 0)
    window = terms_before.change_termination_window_days
    termination_until = received_on + datetime.timedelta(days=window) if window is not None else None
    if not recipients:
        Notice.objects.filter(pk=notice_id).update(**unaddressed(now))
        return False
    applies = applies_from(notice, terms_before, received_on)
    subject, body = render(notice, received_on, termination_until, applies)
    try:
        send_automatic(subject=subject, body=body, to=recipients)
    except Exception as error:  # noqa: BLE001 - recorded, retried by the sweep, then shown to staff
        Notice.objects.filter(pk=notice_id).update(**refused(error, now, notice.attempts), recipients=recipients)
        logger.warning("Notice %s not sent: %s", notice_id, error)
        return False
    with transaction.atomic():
        Notice.objects.filter(pk=notice_id).update(
            sent_at=now,
            received_on=received_on,
            termination_until=termination_until,
            recipients=recipients,
            subject=subject,
            body=body,
            last_error="",
            claimed_at=None,
            channel=NoticeChannel.EMAIL,
            applies_from=applies,
        )
        if notice.fee is not None and applies > notice.fee.effective_from:
            _postpone_fee(notice.fee, applies)
    return True


def _postpone_fee(fee: ContractFee, applies: datetime.date) -> None:
    """A higher fee whose notice went out late takes effect only when the notice period has run."""
    if not fee.contract.fees.filter(effective_from=applies).exists():
        ContractFee.objects.filter(pk=fee.pk).update(effective_from=applies)
