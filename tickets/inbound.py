"""Fault reports and replies by e-mail (D §16.7–16.8): one pipeline for every way mail comes in.

Every message is stored as it came (`InboundEmail`), once per Message-ID. Automatic mail
(auto-replies, bounces, lists) never opens a ticket or gets an answer, so no mail loop can start.
A mail that names a ticket (its number in the subject, or our Message-ID in In-Reply-To or
References) is added to it as the customer's reply; other mail from a known sender opens a
fault report; mail from an unknown sender is kept for staff and the sender gets a polite answer.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import email.utils
import hashlib
import logging
import re
import zoneinfo
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail import EmailMessage
from django.core.exceptions import ValidationError
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.models import ContactPerson, Contract, CustomerMembership
from tickets import attachments, services
from tickets.models import Channel, InboundEmail, Message, Notification, Ticket

logger = logging.getLogger(__name__)
Outcome = InboundEmail.Outcome
MESSAGE_ID_MAX = InboundEmail._meta.get_field("message_id").max_length
KEPT_FOR_STAFF = (Outcome.QUARANTINED, Outcome.UNMATCHED, Outcome.FAILED)
TICKET_NUMBER = re.compile(r"\[?\b([A-Z]{2,8}-\d{4}-\d{6})\b\]?")
FIELD_PATTERNS = {
    "a_number": re.compile(r"^\s*(?:A-?nummer|A-?number)\s*[:=]\s*(.+?)\s*$", re.I | re.M),
    "b_number": re.compile(r"^\s*(?:B-?nummer|B-?number)\s*[:=]\s*(.+?)\s*$", re.I | re.M),
    "time": re.compile(r"^\s*(?:Tidpunkt|Tid|Time|Date and time|Datum och tid)\s*[:=]\s*(.+?)\s*$", re.I | re.M),
}
TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d kl. %H:%M", "%Y-%m-%d kl %H:%M", "%Y-%m-%dT%H:%M", "%d.%m.%Y %H:%M", "%d/%m/%Y %H:%M")


class _Text(HTMLParser):
    """HTML-only mail (Outlook) as plain text: tags dropped, blocks on lines of their own."""

    BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "table", "blockquote"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


@dataclass
class ParsedMail:
    message_id: str
    sender: str
    subject: str
    body: str
    automatic: bool
    references: list[str]
    files: list[SimpleUploadedFile] = field(default_factory=list)


def is_automatic(message) -> bool:
    """RFC 3834 and the usual headers of out-of-office replies, bounces and list mail."""
    auto = (message.get("Auto-Submitted") or "no").strip().lower()
    precedence = (message.get("Precedence") or "").strip().lower()
    return_path = (message.get("Return-Path") or "").strip()
    return (
        auto != "no"
        or precedence in {"bulk", "list", "junk", "auto_reply"}
        or any(message.get(h) for h in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "List-Id", "List-Unsubscribe"))
        or return_path == "<>"
        or (message.get_content_type() == "multipart/report")
    )


def text_of(part) -> str:
    """A text part's content in its declared charset when that reads cleanly, else UTF-8, else
    Windows-1252: Swedish mail still comes labelled us-ascii or with a misspelt charset."""
    payload = part.get_payload(decode=True) or b""
    for charset in (part.get_content_charset() or "us-ascii", "utf-8", "windows-1252"):
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")


def check_each(files: list) -> tuple[list, list[str]]:
    """The attachments that pass the upload rules, and why each other one did not. One refused
    file does not cost the customer the report or the other files."""
    accepted, refused = [], []
    for upload in files:
        try:
            accepted += attachments.check_uploads([upload])
        except ValidationError as error:
            refused += error.messages
    return accepted, refused


def parse(raw: bytes) -> ParsedMail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    message_id = (message.get("Message-ID") or "").strip()
    if not message_id:
        # Mail without an id still deserves to be taken once: its content names it.
        message_id = "<sha256-" + hashlib.sha256(raw).hexdigest() + "@no-message-id>"
    elif len(message_id) > MESSAGE_ID_MAX:
        message_id = "<sha256-" + hashlib.sha256(message_id.encode()).hexdigest() + "@long-message-id>"
    sender = email.utils.parseaddr(str(message.get("From") or ""))[1].lower()[:320]
    subject = str(message.get("Subject") or "").replace("\x00", "").strip()
    plain = message.get_body(preferencelist=("plain",))
    if plain is not None:
        body = text_of(plain)
    else:
        html = message.get_body(preferencelist=("html",))
        body = html_to_text(text_of(html)) if html is not None else ""
    references = re.findall(r"<[^>]+>", f"{message.get('In-Reply-To') or ''} {message.get('References') or ''}")
    files = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True) or b""
        files.append(SimpleUploadedFile(part.get_filename() or "attachment", payload, part.get_content_type()))
    # No database text column takes NUL characters; they carry nothing a reader could see.
    body = body.replace("\x00", "").strip()
    return ParsedMail(message_id, sender, subject, body, is_automatic(message), references, files)


def read_fields(body: str, zone) -> dict:
    """A-number, B-number and the fault's time when the customer wrote them (D §16.9)."""
    found = {}
    for key in ("a_number", "b_number"):
        match = FIELD_PATTERNS[key].search(body)
        if match:
            found[key] = match[1]
    match = FIELD_PATTERNS["time"].search(body)
    if match:
        for fmt in TIME_FORMATS:
            try:
                found["fault_occurred_at"] = datetime.datetime.strptime(match[1], fmt).replace(tzinfo=zone)
                break
            except ValueError:
                continue
    return found


def sender_of(address: str):
    """(customer, user) for a customer user's or contact person's address, else (None, None)."""
    membership = CustomerMembership.objects.select_related("customer", "user").filter(user__email__iexact=address).first()
    if membership is not None:
        return membership.customer, membership.user
    contact = ContactPerson.objects.select_related("customer").filter(email__iexact=address).first()
    return (contact.customer, None) if contact is not None else (None, None)


def ticket_named(parsed: ParsedMail) -> Ticket | None:
    if parsed.references:
        notification = (
            Notification.objects.filter(message_id__in=parsed.references).select_related("ticket").first()
        )
        if notification is not None:
            return notification.ticket
    match = TICKET_NUMBER.search(parsed.subject)
    if match:
        return Ticket.objects.filter(number=match[1]).first()
    return None


def receive(raw: bytes, *, received_at: datetime.datetime | None = None) -> InboundEmail:
    """Take one RFC 822 message. Returns its stored record (the earlier one for a repeat)."""
    received_at = received_at or timezone.now()
    try:
        parsed = parse(raw)
    except Exception as error:  # noqa: BLE001 - a mail we cannot read is kept for staff
        logger.exception("Unreadable e-mail kept for staff")
        digest = hashlib.sha256(raw).hexdigest()
        record, _created = InboundEmail.objects.get_or_create(
            message_id=f"<sha256-{digest}@unreadable>",
            defaults={"received_at": received_at, "raw": raw, "outcome": Outcome.FAILED, "note": str(error)[:500]},
        )
        return record
    existing = InboundEmail.objects.filter(message_id=parsed.message_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            record = InboundEmail.objects.create(
                message_id=parsed.message_id, received_at=received_at, sender=parsed.sender,
                subject=parsed.subject[:500], raw=raw, outcome=Outcome.UNMATCHED,
            )
            _place(record, parsed, received_at)
            record.save()
    except (OperationalError, InterfaceError):
        raise  # the database is away: nothing was stored, the caller keeps the mail and retries
    except Exception as error:  # noqa: BLE001 - whatever went wrong, the mail is kept
        existing = InboundEmail.objects.filter(message_id=parsed.message_id).first()
        if existing is not None and isinstance(error, IntegrityError):
            return existing  # another worker took the same mail a moment earlier
        logger.exception("E-mail %s could not be placed; kept for staff", parsed.message_id)
        record, _created = InboundEmail.objects.get_or_create(
            message_id=parsed.message_id,
            defaults={
                "received_at": received_at, "sender": parsed.sender, "subject": parsed.subject[:500],
                "raw": raw, "outcome": Outcome.FAILED, "note": f"could not be placed: {error}"[:500],
            },
        )
    return record


def _place(record: InboundEmail, parsed: ParsedMail, received_at: datetime.datetime) -> None:
    if parsed.automatic:
        record.outcome, record.note = Outcome.IGNORED, "automatic mail: no ticket, no answer"
        return
    customer, user = sender_of(parsed.sender)
    ticket = ticket_named(parsed)
    if ticket is not None:
        if customer is None or ticket.customer_id != customer.pk:
            record.outcome, record.note = Outcome.UNMATCHED, "names a ticket of another customer or comes from an unknown sender"
            return
        _reply(record, ticket, parsed, user)
        return
    if customer is None:
        record.outcome, record.note = Outcome.QUARANTINED, "unknown sender"
        transaction.on_commit(lambda: _answer_unknown(parsed))
        return
    contract = Contract.objects.filter(customer=customer).active().select_related("terms").order_by("signed_on", "pk").first()
    if contract is None:
        record.outcome, record.note = Outcome.UNMATCHED, "the customer has no active contract"
        return
    _open_ticket(record, parsed, contract=contract, reported_by=user, received_at=received_at)


def _open_ticket(record: InboundEmail, parsed: ParsedMail, *, contract: Contract, reported_by,
                 received_at: datetime.datetime) -> Ticket:
    """A fault report from a mail: A-number, B-number and time read from its text (a missing one
    is marked and asked for, D §16.9), with the attachments that pass the upload rules."""
    fields = read_fields(parsed.body, zoneinfo.ZoneInfo(contract.terms.timezone))
    description = "\n\n".join(part for part in (parsed.subject, parsed.body) if part) or _("(empty e-mail)")
    ticket = services.ticket_create(
        contract=contract, reported_by=reported_by, channel=Channel.EMAIL, received_at=received_at,
        description=description, a_number=fields.get("a_number", ""), b_number=fields.get("b_number", ""),
        fault_occurred_at=fields.get("fault_occurred_at"), accept_missing_details=True,
    )
    checked, refused = check_each(parsed.files)
    attachments.store(ticket, checked, actor=reported_by)
    record.outcome, record.ticket = Outcome.NEW_TICKET, ticket
    _note_refused(record, ticket, refused)
    return ticket


def _note_refused(record: InboundEmail, ticket: Ticket, refused: list[str]) -> None:
    """Tell staff on the ticket which attachments were not taken; the whole mail stays
    downloadable from the inbox."""
    if not refused:
        return
    record.note = ("attachments not taken: " + " ".join(refused))[:500]
    Message.objects.create(
        ticket=ticket, author=None, internal=True, channel=Channel.EMAIL,
        body=_("Attachments of the e-mail that were not taken: %(reasons)s The e-mail as received, "
               "with every attachment, is kept: %(link)s")
        % {"reasons": " ".join(refused), "link": settings.SITE_URL + reverse("desk-inbox-raw", args=[record.pk])},
    )


def _reply(record: InboundEmail, ticket: Ticket, parsed: ParsedMail, user) -> None:
    checked, refused = check_each(parsed.files)
    try:
        ticket, message = services.ticket_reply(
            ticket=ticket, actor=user, message=parsed.body or parsed.subject, channel=Channel.EMAIL
        )
    except services.TransitionNotAllowed:
        record.outcome, record.ticket = Outcome.UNMATCHED, ticket
        record.note = "a reply to a closed ticket: kept for staff"
        return
    attachments.store(ticket, checked, actor=user, message=message)
    record.outcome, record.ticket = Outcome.REPLY, ticket
    _note_refused(record, ticket, refused)


def _answer_unknown(parsed: ParsedMail) -> None:
    if not parsed.sender:
        return
    try:
        EmailMessage(
            subject=_("We could not register your e-mail") + (f": {parsed.subject}" if parsed.subject else ""),
            body=_(
                "Hello,\n\nWe received your e-mail but do not recognise the address %(sender)s as one of our "
                "customers' contacts, so no ticket was opened. Our support staff will look at it. If you are "
                "a customer, please write from the address registered with us or use the customer portal.\n"
            ) % {"sender": parsed.sender},
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[parsed.sender],
            headers={"Auto-Submitted": "auto-replied", "In-Reply-To": parsed.message_id},
        ).send()
    except Exception:  # noqa: BLE001 - the mail is kept for staff either way
        logger.warning("Could not answer unknown sender %s", parsed.sender)


@transaction.atomic
def open_for(record: InboundEmail, *, contract: Contract, actor) -> Ticket:
    """Staff turn a kept mail into a ticket for a customer they chose: the mail's own arrival
    time starts the clock."""
    record = InboundEmail.objects.select_for_update().get(pk=record.pk)
    if record.outcome == Outcome.NEW_TICKET:
        raise services.TransitionNotAllowed(_("This e-mail has opened a ticket already."))
    record.handled_by, record.note = actor, f"opened by {actor.get_username()}"
    ticket = _open_ticket(record, parse(bytes(record.raw)), contract=contract, reported_by=None,
                          received_at=record.received_at)
    record.save()
    return ticket


@transaction.atomic
def dismiss(record: InboundEmail, *, actor) -> InboundEmail:
    """Staff set aside a kept mail that is no report (spam, a thank-you): it stays stored."""
    record = InboundEmail.objects.select_for_update().get(pk=record.pk)
    if record.outcome not in KEPT_FOR_STAFF:
        raise services.TransitionNotAllowed(_("This e-mail is not waiting for staff."))
    record.outcome, record.handled_by = Outcome.DISMISSED, actor
    record.note = f"dismissed by {actor.get_username()}"
    record.save()
    return record
