"""E-mail about a ticket: to the customer (D §16.7: current information and the ticket number)
and to staff (escalations; to one staff member, a new report on their contract or a customer's
reply on their ticket, tickets.staff_notices).

A notification is a row written in the same transaction as the change it reports; after commit
a Celery task sends it. When the broker is down the row waits, and the beat sweep
(`tickets.tasks.send_pending_notifications`) sends it later: decided once, sent once, and in the
order the ticket's mails were written. Recipients,
subject and body are worked out when the mail goes out, from the ticket as it is then; a mail to
one staff member goes out only if they still want it then.
"""

from __future__ import annotations

import datetime
import logging
import zoneinfo
from collections.abc import Iterable

from django.conf import settings
from django.core.mail.message import make_msgid
from django.db import transaction
from django.db.models import Expression, F, Q, QuerySet, Value
from django.template.loader import render_to_string
from django.utils import timezone, translation

from config.broker import hand_over
from core.db import insert_select
from core.mail import claim, error_text, given_up, send_automatic
from tickets import satisfaction
from tickets.models import Notification, StaffEvent, StaffPreferences, Ticket

logger = logging.getLogger(__name__)
Kind = Notification.Kind
STAFF_KINDS = {Kind.ESCALATION_NEAR, Kind.ESCALATION_BREACHED, Kind.URGENT_REPORT}
# Mail to one staff member (Notification.recipient_user), and the switch it answers to.
PERSONAL_KINDS: dict[str, StaffEvent] = {
    Kind.NEW_REPORT_STAFF: StaffEvent.NEW_REPORT,
    Kind.CUSTOMER_REPLY_STAFF: StaffEvent.CUSTOMER_REPLY,
}


def recipients_for(ticket: Ticket, kind: str, user=None) -> list[str]:
    """Customers: the reporter when a customer user reported it, the customer's main contact
    person, and the colleagues added to the ticket. Staff: the assignee, or the team's address when nobody is assigned. One staff member:
    `user`, while they are active staff and their switch for this mail is on."""
    if kind in PERSONAL_KINDS:
        wanted = (
            user is not None
            and user.is_active
            and user.is_staff
            and user.email
            and StaffPreferences.of(user).wants(PERSONAL_KINDS[kind], "email")
        )
        return [user.email] if wanted else []
    if kind in STAFF_KINDS:
        if ticket.assignee is not None and ticket.assignee.email:
            return [ticket.assignee.email]
        return [settings.SUPPORT_TEAM_EMAIL] if settings.SUPPORT_TEAM_EMAIL else []
    addresses = []
    reporter = ticket.reported_by
    if reporter is not None and not reporter.is_staff and reporter.email:
        addresses.append(reporter.email)
    for contact in ticket.customer.contacts.all():
        if contact.is_primary and contact.email and contact.email not in addresses:
            addresses.append(contact.email)
    for address in _watcher_addresses(ticket):
        if address.lower() not in {known.lower() for known in addresses}:
            addresses.append(address)
    return addresses


def _watcher_addresses(ticket: Ticket) -> list[str]:
    """The colleagues added to the ticket (tickets.services.watcher_add), read again when the
    mail goes out: a user who has since left the customer, or been deactivated, gets nothing."""
    watchers = ticket.watchers.filter(
        Q(contact__customer_id=ticket.customer_id)
        | Q(user__customer_membership__customer_id=ticket.customer_id, user__is_active=True)
    ).select_related("user", "contact")
    return [watcher.email for watcher in watchers if watcher.email]


def render(notification: Notification) -> tuple[str, str]:
    ticket = notification.ticket
    zone = zoneinfo.ZoneInfo(ticket.terms.timezone)
    with translation.override(_language(notification)), timezone.override(zone):
        context = {
            "ticket": ticket,
            "kind": notification.kind,
            "for_staff": notification.kind in STAFF_KINDS or notification.kind in PERSONAL_KINDS,
            "at": notification.created_at,
            "message": notification.message,
            "zone": ticket.terms.timezone,
            "site_url": settings.SITE_URL,
        }
        if notification.kind == Kind.RESOLVED:
            context["satisfaction_links"] = {score: satisfaction.link(ticket, score) for score in ("good", "bad")}
        subject = render_to_string("tickets/email/subject.txt", context).strip()
        body = render_to_string("tickets/email/body.txt", context).strip() + "\n"
    return subject, body


def _language(notification: Notification) -> str:
    """The customer's language; the staff member's own for a mail to them; else the desk's."""
    if notification.kind in PERSONAL_KINDS:  # sent only while the staff member is there
        return StaffPreferences.of(notification.recipient_user).language
    if notification.kind in STAFF_KINDS:
        return settings.LANGUAGE_CODE
    return notification.ticket.customer.language


def build_for(ticket_id: int, kind: str, message: str = "") -> Notification:
    """A notification decided in a batch; its recipients are looked up when it is sent."""
    return Notification(ticket_id=ticket_id, kind=kind, message=message)


def post(ticket: Ticket, kind: str, message: str = "") -> Notification:
    """A notification for the customer: its row is written now, in the caller's transaction,
    and handed to the workers once that commits (the ticket queue is something else: the
    desk's list of tickets)."""
    notification = Notification.objects.create(ticket=ticket, kind=kind, message=message)
    transaction.on_commit(lambda: dispatch([notification.pk]))
    return notification


def post_many(notifications: Iterable[Notification]) -> list[Notification]:
    """Rows built with `build`, written at once and handed to one task after commit."""
    created = Notification.objects.bulk_create(list(notifications))
    ids = [n.pk for n in created]
    if ids:
        transaction.on_commit(lambda: dispatch(ids))
    return created


def post_from(rows: QuerySet, kind: str, message: Expression | F) -> list[int]:
    """`post_many` for a batch the database already holds: one notification of `kind` for each
    of `rows` (which have a `ticket_id`), its `message` an expression over them, written in one
    statement and handed to one task after commit."""
    ids = insert_select(rows, Notification, ticket=F("ticket_id"), kind=Value(kind), message=message)
    if ids:
        transaction.on_commit(lambda: dispatch(ids))
    return ids


def dispatch(notification_ids: list[int]) -> None:
    """Hand notifications to a worker; if the broker does not take them, the sweep sends them."""
    if len(notification_ids) == 1:
        only = notification_ids[0]
        hand_over("tickets.tasks.send_notification", only, waiting=f"notification {only}")
    else:
        hand_over("tickets.tasks.send_notifications", notification_ids, waiting=f"notifications {notification_ids}")


ROW = ("pk", "ticket_id", "kind", "created_at")


def _same_reader(kind: str) -> Q:
    """The mails read side by side with one of `kind`: the customer's, or the staff's."""
    staff = Q(kind__in=[*STAFF_KINDS, *PERSONAL_KINDS])
    return staff if kind in STAFF_KINDS or kind in PERSONAL_KINDS else ~staff


def _unsent_beside(row: dict) -> QuerySet[Notification]:
    """The ticket's other unsent, not given up mails to the same reader as `row`."""
    return Notification.objects.filter(
        _same_reader(row["kind"]), ticket_id=row["ticket_id"], sent_at__isnull=True, failed_at__isnull=True
    ).exclude(pk=row["pk"])


def _written_before(row: dict) -> Q:
    return Q(created_at__lt=row["created_at"]) | Q(created_at=row["created_at"], pk__lt=row["pk"])


def send(notification_id: int, *, now: datetime.datetime | None = None) -> bool:
    """Send one notification once. Returns True when this call sent it; raises the mail
    server's error (after recording it) so that the task retries.

    A ticket's mails leave in the order they were written (a closing mail never before the
    acknowledgement the broker lost): one waits while an earlier one to the same reader is
    unsent, and goes out right after it; a given-up one holds nothing back, and the sweep sends
    whatever a worker killed between the two left."""
    now = now or timezone.now()
    row = _row(notification_id)
    if row is None or _unsent_beside(row).filter(_written_before(row)).exists():
        return False  # gone, or waits for an earlier mail: sent after it
    try:
        return _send(notification_id, now)
    finally:
        _send_following(row, now)


def _row(notification_id: int) -> dict | None:
    return Notification.objects.filter(pk=notification_id).values(*ROW).first()


def _send_following(row: dict, now: datetime.datetime) -> None:
    """The ticket's next mails to the same reader, each once the one before it is done."""
    while Notification.objects.filter(Q(sent_at__isnull=False) | Q(failed_at__isnull=False), pk=row["pk"]).exists():
        following = _unsent_beside(row).exclude(_written_before(row)).order_by("created_at", "pk")
        after: dict | None = following.values(*ROW).first()
        if after is None:
            return
        row = after
        try:
            _send(row["pk"], now)
        except Exception:  # noqa: BLE001 - recorded on the row; the sweep tries it again
            logger.warning("Notification %s refused; the sweep tries it again", row["pk"], exc_info=True)


def _send(notification_id: int, now: datetime.datetime) -> bool:
    """The row is claimed with a conditional update, committed before the mail server is spoken
    to, so a slow server holds no row lock; a claim older than MAIL_CLAIM_LEASE_SECONDS is taken as
    abandoned (a worker killed mid-send) and the mail is sent again."""
    if not claim(Notification, notification_id, now):
        return False  # sent, given up, or another worker has it now
    notification = Notification.objects.select_related(
        "ticket__terms",
        "ticket__customer",
        "ticket__assignee",
        "ticket__reported_by",
        "recipient_user__staff_preferences",
    ).get(pk=notification_id)
    notification.recipients = recipients_for(notification.ticket, notification.kind, notification.recipient_user)
    if not notification.recipients:
        _record(
            notification,
            failed_at=now,
            last_error=(
                "Not sent: the staff member has no e-mail address, is no longer active staff, or turned these e-mails off."
                if notification.kind in PERSONAL_KINDS
                else "No e-mail address to send to."
            ),
        )
        return False
    notification.subject, notification.body = render(notification)
    # A reply quotes this id in In-Reply-To/References, and lands on the ticket.
    notification.message_id = notification.message_id or make_msgid("ticket", settings.EMAIL_MESSAGE_ID_DOMAIN)
    try:
        send_automatic(
            subject=notification.subject,
            body=notification.body,
            to=notification.recipients,
            headers={"Message-ID": notification.message_id},
        )
    except Exception as error:  # recorded and raised again: retried, then shown to staff
        _record(notification, failed_at=given_up(now, notification.attempts), last_error=error_text(error))
        raise
    _record(notification, sent_at=now, last_error="")
    return True


def _record(notification: Notification, **outcome) -> None:
    """What became of a claimed notification; its claim ends with it."""
    fields = {
        "recipients": notification.recipients,
        "message_id": notification.message_id,
        "subject": notification.subject,
        "body": notification.body,
        "claimed_at": None,
        **outcome,
    }
    Notification.objects.filter(pk=notification.pk).update(**fields)
    for name, value in fields.items():
        setattr(notification, name, value)
