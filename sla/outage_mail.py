"""E-mails of outage updates to the customers with an affected contract (D §10.2): a row per
update and customer, written in the transaction that posts the update, sent by the workers once.

As with notices (contracts/notices.py), a worker claims a row with a conditional update and
commits before it talks to the mail server, so a slow server never holds a row lock; a claim
older than `MAIL_CLAIM_LEASE_SECONDS` is taken as abandoned (a worker killed mid-send) and sent again.
"""

from __future__ import annotations

import datetime
import logging
import zoneinfo

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from config.broker import hand_over
from contracts.models import Contract, ServiceTerms
from contracts.notices import customer_addresses
from core.mail import claim, refused, retry_due, send_automatic, unaddressed
from sla.models import OutageUpdate, OutageUpdateMail

logger = logging.getLogger(__name__)


def post(update: OutageUpdate, customer_ids: list[int]) -> list[int]:
    """One row per customer, handed to the workers once the update is committed."""
    rows = OutageUpdateMail.objects.bulk_create(
        [OutageUpdateMail(update=update, customer_id=customer_id) for customer_id in sorted(set(customer_ids))]
    )
    ids = [row.pk for row in rows]
    if ids:
        transaction.on_commit(lambda: dispatch(ids))
    return ids


def dispatch(mail_ids: list[int]) -> None:
    hand_over("sla.tasks.send_outage_update_mails", mail_ids, waiting=f"outage update e-mails {mail_ids}")


def pending(now: datetime.datetime):
    return OutageUpdateMail.objects.filter(retry_due(now), sent_at__isnull=True, failed_at__isnull=True).order_by(
        "created_at", "pk"
    )


def send_pending(now: datetime.datetime | None = None) -> int:
    now = now or timezone.now()
    return sum(send(pk, now=now) for pk in pending(now).values_list("pk", flat=True)[:1000])


def terms_for(mail: OutageUpdateMail) -> ServiceTerms | None:
    """The terms of the customer's contract the outage hits (its first one): their time zone
    dates the e-mail and their status page is linked."""
    contracts = Contract.objects.filter(customer_id=mail.customer_id).select_related("terms").order_by("pk")
    outage = mail.update.outage
    if not outage.service_wide:
        contracts = contracts.filter(outages=outage.pk)
    elif outage.service:
        contracts = contracts.filter(terms__slug=outage.service)
    contract = contracts.first()
    return contract.terms if contract else None


def render(mail: OutageUpdateMail, terms: ServiceTerms | None) -> tuple[str, str]:
    zone = zoneinfo.ZoneInfo(terms.timezone if terms else settings.TIME_ZONE)
    with translation.override(mail.customer.language), timezone.override(zone):
        address = terms.status_page_address if terms else ""
        context = {
            "update": mail.update,
            "outage": mail.update.outage,
            "customer": mail.customer,
            "zone": zone.key,
            "status_page": address if address.startswith("http") else settings.SITE_URL.rstrip("/") + address,
        }
        subject = render_to_string("sla/email/outage_update_subject.txt", context).strip()
        body = render_to_string("sla/email/outage_update_body.txt", context).strip() + "\n"
    return subject, body


def send(mail_id: int, *, now: datetime.datetime | None = None) -> bool:
    """Send one customer's e-mail of an update once. Returns True when this call sent it."""
    now = now or timezone.now()
    if not claim(OutageUpdateMail, mail_id, now):
        return False  # sent, given up, or another worker has it now
    mail = OutageUpdateMail.objects.select_related("customer", "update__outage").get(pk=mail_id)
    recipients = customer_addresses(mail.customer)
    if not recipients:
        OutageUpdateMail.objects.filter(pk=mail_id).update(**unaddressed(now))
        return False
    subject, body = render(mail, terms_for(mail))
    try:
        send_automatic(subject=subject, body=body, to=recipients)
    except Exception as error:  # noqa: BLE001 - recorded, retried by the sweep, then given up
        OutageUpdateMail.objects.filter(pk=mail_id).update(**refused(error, now, mail.attempts), recipients=recipients)
        logger.warning("Outage update e-mail %s not sent: %s", mail_id, error)
        return False
    OutageUpdateMail.objects.filter(pk=mail_id).update(
        sent_at=now,
        recipients=recipients,
        subject=subject,
        body=body,
        last_error="",
        claimed_at=None,
    )
    return True
