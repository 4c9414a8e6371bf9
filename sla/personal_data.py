"""One person's data, found by their e-mail address (GDPR Art. 15 and 17).

`export` writes everything the desk holds about them into a zip: `data.json` (their users,
contact-person rows, the tickets they reported with messages, files, links and history, their
messages elsewhere, the e-mails received from them, the e-mails sent to them, satisfaction
answers, claims they filed, the tickets they receive mail of, audit rows about them) and
`files/` (the attachments and the e-mails as received). `erase` removes the same at once, with
the masking retention applies to long-closed tickets (tickets.retention), and keeps what the
desk's figures need: ticket numbers, times, categories, classifications, history and time logs,
so availability, claims and billing still add up. Staff users are not handled here: their
accounts are the operator's own. Both are written to the audit log.
"""

from __future__ import annotations

import datetime
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework.authtoken.models import Token

from audit import services as audit
from audit.models import Action, AuditEvent
from contracts.models import ContactPerson, Notice
from core.models import IdempotentRequest
from sla.models import Claim, OutageUpdateMail
from tickets import retention
from tickets.api.serializers import shown_name
from tickets.models import (
    InboundEmail,
    Message,
    Notification,
    Satisfaction,
    Ticket,
    TicketWatcher,
)
from tickets.retention import MASK, scrub
from tickets.states import NOT_CLOSED

User = get_user_model()
# Shorter texts are not masked on their own: "Bo" would take every "bo" written anywhere.
SHORTEST_KNOWN = 3


class Refused(Exception):
    """The address is not one this handles, said in words for the operator."""


@dataclass
class Person:
    email: str
    users: list = field(default_factory=list)
    contacts: list[ContactPerson] = field(default_factory=list)

    @property
    def user_ids(self) -> list[int]:
        return [user.pk for user in self.users]

    def known(self) -> tuple[str, ...]:
        """What names them in a text: names, user names, addresses, phone numbers; longest first,
        so that a full name goes before its parts."""
        texts = {self.email}
        for user in self.users:
            texts |= {user.get_full_name(), user.first_name, user.last_name, user.get_username(), user.email}
        for contact in self.contacts:
            texts |= {contact.name, *contact.name.split(), contact.email, contact.phone}
        kept = {text.strip() for text in texts if len(text.strip()) >= SHORTEST_KNOWN}
        return tuple(sorted(kept, key=lambda text: (-len(text), text)))

    def addressed(self, recipients) -> bool:
        return self.email.lower() in {str(address).lower() for address in recipients or []}


def find(email: str) -> Person:
    """The person with this address: their users and contact-person rows. A staff user's address,
    or one the desk has never seen, is refused."""
    email = email.strip()
    if "@" not in email:
        raise Refused(f"{email!r} is not an e-mail address.")
    users = list(User.objects.filter(email__iexact=email).order_by("pk"))
    staff = [user.get_username() for user in users if user.is_staff or user.is_superuser]
    if staff:
        raise Refused(
            f"{email} belongs to the staff user {', '.join(staff)}: staff accounts are the operator's own and are "
            "not exported or erased here. Remove the staff rights first if this person is now only a customer."
        )
    contacts = list(ContactPerson.objects.filter(email__iexact=email).select_related("customer").order_by("pk"))
    if not users and not contacts and not InboundEmail.objects.filter(sender__iexact=email).exists():
        raise Refused(f"Nobody has the address {email}: no user, contact person or e-mail received from it.")
    return Person(email=email, users=users, contacts=contacts)


# What is held about them --------------------------------------------------------------------


def reported(person: Person):
    """The tickets they reported: as a user, or by an e-mail from their address."""
    by_mail = InboundEmail.objects.filter(sender__iexact=person.email, outcome=InboundEmail.Outcome.NEW_TICKET)
    return Ticket.objects.filter(Q(reported_by__in=person.user_ids) | Q(pk__in=by_mail.values("ticket_id"))).order_by(
        "received_at", "pk"
    )


def emails_received(person: Person):
    return InboundEmail.objects.filter(sender__iexact=person.email).order_by("received_at", "pk")


def _addressed_to(person: Person, rows):
    """Mail rows whose recipients name the address (read as text first, then exactly)."""
    return [row for row in rows.filter(recipients__icontains=person.email) if person.addressed(row.recipients)]


def notifications(person: Person, tickets) -> list[Notification]:
    """The desk's e-mails about their tickets, and every other one sent to them."""
    ticket_ids = {ticket.pk for ticket in tickets}
    rows = Notification.objects.filter(
        Q(ticket__in=ticket_ids) | Q(recipient_user__in=person.user_ids) | Q(recipients__icontains=person.email)
    ).select_related("ticket")
    return [
        row
        for row in rows.order_by("created_at", "pk")
        if row.ticket_id in ticket_ids or row.recipient_user_id in person.user_ids or person.addressed(row.recipients)
    ]


def satisfaction_answers(person: Person, tickets):
    return (
        Satisfaction.objects.filter(Q(ticket__in=tickets) | Q(answered_by__in=person.user_ids))
        .select_related("ticket")
        .order_by("answered_at", "pk")
    )


def watching(person: Person):
    return (
        TicketWatcher.objects.filter(Q(user__in=person.user_ids) | Q(contact__in=person.contacts))
        .select_related("ticket")
        .order_by("added_at", "pk")
    )


def audit_rows(person: Person):
    """Rows where they acted, were acted on, or their user name was tried."""
    names = [user.get_username() for user in person.users]
    return (
        AuditEvent.objects.filter(
            Q(actor__in=person.user_ids) | Q(subject_user__in=person.user_ids) | Q(actor_name__in=names)
        )
        .select_related("actor")
        .order_by("at", "pk")
    )


# Export (Art. 15) -----------------------------------------------------------------------------


def export(person: Person, output: Path, *, now: datetime.datetime | None = None) -> dict[str, int]:
    """Write the zip; what it holds, counted."""
    now = now or timezone.now()
    tickets = list(reported(person).select_related("customer", "contract__terms"))
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        data: dict[str, Any] = {
            "email": person.email,
            "exported_at": now,
            "users": [_user(user) for user in person.users],
            "contact_persons": [_contact(contact) for contact in person.contacts],
            "tickets_reported": [_ticket(ticket, archive) for ticket in tickets],
            "messages_on_other_tickets": [
                _message(message)
                for message in Message.objects.filter(author__in=person.user_ids)
                .exclude(ticket__in=tickets)
                .select_related("ticket", "author")
                .order_by("created_at", "pk")
            ],
            "emails_received": [_email(record, archive) for record in emails_received(person).select_related("ticket")],
            "emails_sent": _emails_sent(person, tickets),
            "satisfaction_answers": [_satisfaction(answer) for answer in satisfaction_answers(person, tickets)],
            "claims_filed": [_claim(claim) for claim in _claims(person)],
            "tickets_receiving_mail_of": [
                {"ticket": watcher.ticket.number, "added_at": watcher.added_at} for watcher in watching(person)
            ],
            "audit_log": [_audit(event) for event in audit_rows(person)],
        }
        archive.writestr("data.json", json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
    for subject in person.users or [None]:
        audit.record(
            Action.PERSONAL_DATA_EXPORTED,
            subject_user=subject,
            subject_name="" if subject else person.email,
            what="manage.py personal_data export",
            detail={"email": person.email, "file": output.name},
        )
    return {
        "tickets": len(data["tickets_reported"]),
        "files": sum(len(t["attachments"]) for t in data["tickets_reported"]) + len(data["emails_received"]),
        "emails": len(data["emails_received"]) + len(data["emails_sent"]),
        "audit rows": len(data["audit_log"]),
    }


def _user(user) -> dict:
    membership = getattr(user, "customer_membership", None)
    token = Token.objects.filter(user=user).first()
    return {
        "user_name": user.get_username(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "active": user.is_active,
        "joined": user.date_joined,
        "last_sign_in": user.last_login,
        "customer": membership.customer.name if membership else None,
        "api_token_created": token.created if token else None,  # the token itself is a credential
    }


def _contact(contact: ContactPerson) -> dict:
    return {
        "customer": contact.customer.name,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "region": contact.region,
        "main_contact_person": contact.is_primary,
    }


def _ticket(ticket: Ticket, archive: zipfile.ZipFile) -> dict:
    return {
        "number": ticket.number,
        "customer": ticket.customer.name,
        "category": ticket.category,
        "status": ticket.status,
        "close_reason": ticket.close_reason,
        "channel": ticket.channel,
        "urgent": ticket.urgent,
        "a_number": ticket.a_number,
        "b_number": ticket.b_number,
        "fault_occurred_at": ticket.fault_occurred_at,
        "received_at": ticket.received_at,
        "closed_at": ticket.closed_at,
        "description": ticket.description,
        "messages": [_message(message) for message in ticket.messages.select_related("ticket", "author")],
        "attachments": [
            _file(archive, f"files/tickets/{ticket.number}/{attachment.pk}-{_safe(attachment.filename)}", attachment)
            for attachment in ticket.attachments.all()
        ],
        "links_to_files": [
            {"name": link.name, "url": link.url, "added_at": link.created_at}
            for link in ticket.attachment_references.all()
        ],
        "history": [
            {"at": event.at, "field": event.field, "from": event.old_value, "to": event.new_value}
            for event in ticket.events.all()
        ],
    }


def _message(message: Message) -> dict:
    return {
        "ticket": message.ticket.number,
        "sent_at": message.created_at,
        "by": shown_name(message.author, None),  # staff as customers see them
        "internal_note": message.internal,
        "channel": message.channel,
        "text": message.body,
    }


def _file(archive: zipfile.ZipFile, name: str, attachment) -> dict:
    entry = {"name": attachment.filename, "type": attachment.content_type, "size": attachment.size}
    try:
        with attachment.file.open("rb") as stored:
            archive.writestr(name, stored.read())
    except OSError:
        entry["missing"] = True  # the row outlived its file
    else:
        entry["file"] = name
    return entry


def _safe(name: str) -> str:
    """A file name that stays inside its folder of the zip."""
    return re.sub(r"[^\w.\- ]", "_", Path(name).name)[:100] or "file"


def _email(record: InboundEmail, archive: zipfile.ZipFile) -> dict:
    entry: dict[str, Any] = {
        "received_at": record.received_at,
        "subject": record.subject,
        "outcome": record.outcome,
        "ticket": record.ticket.number if record.ticket else None,
    }
    if record.raw:
        name = f"files/emails/{record.pk}.eml"
        archive.writestr(name, bytes(record.raw))
        entry["file"] = name
    return entry


def _emails_sent(person: Person, tickets: list[Ticket]) -> list[dict]:
    """The desk's e-mails about their tickets or to them; whether each went to them, not to whom
    else (other people's addresses are theirs)."""
    sent: list[dict] = []
    rows: list = [*notifications(person, tickets), *_addressed_to(person, Notice.objects.order_by("created_at", "pk"))]
    rows += _addressed_to(person, OutageUpdateMail.objects.order_by("created_at", "pk"))
    for row in rows:
        ticket = getattr(row, "ticket", None)
        sent.append(
            {
                "kind": getattr(row, "kind", "outage_update"),
                "ticket": ticket.number if ticket else None,
                "sent_to_them": person.addressed(row.recipients),
                "subject": row.subject,
                "text": row.body or getattr(row, "message", ""),
                "sent_at": row.sent_at,
            }
        )
    return sent


def _satisfaction(answer: Satisfaction) -> dict:
    return {
        "ticket": answer.ticket.number,
        "score": answer.score,
        "comment": answer.comment,
        "answered_at": answer.answered_at,
    }


def _claims(person: Person):
    return Claim.objects.filter(filed_by__in=person.user_ids).prefetch_related("tickets").order_by("filed_at", "pk")


def _claim(claim: Claim) -> dict:
    return {
        "kind": claim.kind,
        "month": claim.month,
        "amount": claim.amount,
        "description": claim.description,
        "tickets": [ticket.number for ticket in claim.tickets.all()],
        "filed_at": claim.filed_at,
        "status": claim.status,
    }


def _audit(event: AuditEvent) -> dict:
    return {
        "at": event.at,
        "action": event.action,
        "by": shown_name(event.actor, None) if event.actor else event.actor_name,
        "address": event.ip,
        "ticket": event.ticket_number,
        "whose": event.subject_name,
        "what": event.what,
    }


# Erasure (Art. 17) ----------------------------------------------------------------------------


def not_closed(person: Person) -> list[str]:
    """The numbers of their tickets still being worked: erasing their numbers and files would
    leave staff without what they need to finish them."""
    return list(reported(person).filter(status__in=NOT_CLOSED).values_list("number", flat=True))


def erase(person: Person, *, now: datetime.datetime | None = None) -> dict[str, int]:
    """Erase their data in one transaction; what was done, counted."""
    now = now or timezone.now()
    open_numbers = not_closed(person)
    if open_numbers:
        raise Refused(
            f"{person.email} reported tickets that are not closed yet: {', '.join(open_numbers)}. "
            "Close them first: their numbers and files are still needed to finish them."
        )
    known = person.known()
    done = retention.RetentionResult()
    # The files go when the transaction commits (tickets.retention.anonymise).
    with transaction.atomic():
        tickets = list(reported(person).select_related("contract__terms").select_for_update(of=("self",)))
        if tickets:
            retention.anonymise(tickets, now=now, result=done, known=known, erasure=True)
        counts = {
            "tickets": len(tickets),
            "attachments": done.attachments,
            "messages": _mask_messages(person, tickets, known),
            "e-mails": _mask_emails(person, known, now),
            "e-mails sent": _mask_mail_sent(person, tickets, known),
            "satisfaction answers": _mask_satisfaction(person, tickets, known),
            "claims": _mask_claims(person, known),
            "contact persons": ContactPerson.objects.filter(pk__in=[c.pk for c in person.contacts]).update(
                name=MASK, email="", phone=""
            ),
        }
        TicketWatcher.objects.filter(Q(user__in=person.user_ids) | Q(contact__in=person.contacts)).delete()
        IdempotentRequest.objects.filter(user__in=person.user_ids).delete()
        for token in Token.objects.filter(user__in=person.user_ids):
            token.delete()
        names = {user.pk: user.get_username() for user in person.users}
        for user in person.users:
            _close_account(user)
        counts["users"] = len(person.users)
        for subject in person.users or [None]:
            audit.record(
                Action.PERSONAL_DATA_ERASED,
                subject_user=subject,
                subject_name=names[subject.pk] if subject else person.email,
                what="manage.py personal_data erase",
                detail={"email": person.email, **counts},
            )
    return counts


def _mask_messages(person: Person, tickets: list[Ticket], known) -> int:
    """What they wrote on colleagues' tickets: their names and addresses (the ticket is not theirs,
    so the numbers in it stay)."""
    changed = []
    for message in Message.objects.filter(author__in=person.user_ids).exclude(ticket__in=tickets):
        masked = scrub(message.body, (), known)
        if masked != message.body:
            message.body = masked
            changed.append(message)
    Message.objects.bulk_update(changed, ["body"], batch_size=retention.BATCH)
    return len(changed)


def _mask_emails(person: Person, known, now: datetime.datetime) -> int:
    """Every e-mail received from them: the message itself goes, subject and sender are masked."""
    records = list(emails_received(person))
    for record in records:
        record.raw, record.sender = b"", MASK
        record.subject = scrub(record.subject, retention.FALLBACK_REGIONS, known)[:500]
        record.note = f"removed by personal_data erase {now:%Y-%m-%d}"
    InboundEmail.objects.bulk_update(records, ["raw", "sender", "subject", "note"], batch_size=retention.BATCH)
    return len(records)


def _without_them(person: Person, recipients) -> list:
    return [MASK if person.addressed([address]) else address for address in recipients or []]


def _mask_mail_sent(person: Person, tickets: list[Ticket], known) -> int:
    """The desk's e-mails to them: their address among the recipients, their names in the text."""
    kinds: list[tuple[type[Notification] | type[Notice] | type[OutageUpdateMail], list, tuple[str, ...]]] = [
        (Notification, notifications(person, tickets), ("message", "subject", "body")),
        (Notice, _addressed_to(person, Notice.objects.all()), ("subject", "body")),
        (OutageUpdateMail, _addressed_to(person, OutageUpdateMail.objects.all()), ("subject", "body")),
    ]
    for model, rows, texts in kinds:
        for row in rows:
            row.recipients = _without_them(person, row.recipients)
            for name in texts:
                setattr(row, name, scrub(getattr(row, name), (), known))
        model._default_manager.bulk_update(rows, ["recipients", *texts], batch_size=retention.BATCH)
    return sum(len(rows) for _model, rows, _texts in kinds)


def _mask_satisfaction(person: Person, tickets: list[Ticket], known) -> int:
    answers = list(satisfaction_answers(person, tickets))
    for answer in answers:
        answer.comment = scrub(answer.comment, retention.FALLBACK_REGIONS, known)
    Satisfaction.objects.bulk_update(answers, ["comment"])
    return len(answers)


def _mask_claims(person: Person, known) -> int:
    """Claims they filed keep their amounts and tickets (the customer's, D §20); their text
    loses their names and numbers."""
    claims = list(Claim.objects.filter(filed_by__in=person.user_ids))
    for claim in claims:
        claim.description = scrub(claim.description, retention.FALLBACK_REGIONS, known)
    Claim.objects.bulk_update(claims, ["description"])
    return len(claims)


def _close_account(user) -> None:
    """They can no longer sign in, and nothing of the account names them."""
    user.username = f"erased-{user.pk}"
    user.first_name = user.last_name = user.email = ""
    user.set_unusable_password()
    user.is_active = False
    user.save()
