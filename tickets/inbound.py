"""Fault reports and replies by e-mail (D §16.7–16.8): one pipeline for every way mail comes in.

Every message is stored as it came (`InboundEmail`), once per Message-ID and content: the same
mail delivered twice is one, a different mail that reuses an id is another. Automatic mail
(auto-replies, receipts, bounces, lists) never opens a ticket, never counts as an answer and gets
none, so no mail loop can start. A mail is placed automatically only when it is clear whose it
is: one sender address, belonging to one customer, authenticated when our server checks that.
A mail that names one of that customer's tickets (its number in the subject, or the Message-ID of
any mail on it in In-Reply-To or References) is added to it as the customer's reply, counted at
the time it reached our server; other mail opens a fault report on the one contract it can be
for. Anything less clear is kept for staff, saying why; unknown senders get one polite answer a
day at most.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
import zoneinfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail import EmailMessage
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contracts.models import ContactPerson, Contract, Customer, CustomerMembership, TermsBook
from tickets import attachments, mailparse, services
from tickets.mailparse import ParsedMail, parse
from tickets.models import Channel, InboundEmail, Message, Notification, Ticket
from tickets.phone import PhoneNumberError, to_e164

logger = logging.getLogger(__name__)
Outcome = InboundEmail.Outcome
KEPT_FOR_STAFF = (Outcome.QUARANTINED, Outcome.UNMATCHED, Outcome.FAILED, Outcome.AMBIGUOUS, Outcome.UNVERIFIED)
TICKET_NUMBER = re.compile(r"\[?\b([A-Z]{2,8}-\d{4}-\d{6})\b\]?")
FIELD_PATTERNS = {
    "a_number": re.compile(r"^\s*(?:A-?nummer|A-?number)\s*[:=]\s*(.+?)\s*$", re.I | re.M),
    "b_number": re.compile(r"^\s*(?:B-?nummer|B-?number)\s*[:=]\s*(.+?)\s*$", re.I | re.M),
    "time": re.compile(r"^\s*(?:Tidpunkt|Tid|Time|Date and time|Datum och tid)\s*[:=]\s*(.+?)\s*$", re.I | re.M),
}
TIME_FORMATS = (
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d kl. %H:%M",
    "%Y-%m-%d kl %H:%M",
    "%Y-%m-%dT%H:%M",
    "%d.%m.%Y %H:%M",
    "%d/%m/%Y %H:%M",
)
# Addresses that are machines, not people: never answered.
AUTOMATIC_ADDRESS = re.compile(
    r"^(?:no-?reply|do-?not-?reply|donotreply|mailer-daemon|postmaster|bounces?|bounce[-+.].*|.*[-+.]bounces?|"
    r"listserv|majordomo|owner-.*|.*-owner|.*-request|daemon|root)(?:\+[^@]*)?@",
    re.I,
)
# How far back a Received header may put a mail's arrival (a mail held by a server for longer is
# counted from when we got it).
ARRIVAL_TRUSTED = datetime.timedelta(days=14)


def uploads_of(parsed: ParsedMail) -> tuple[list, list[str]]:
    """The mail's files through the upload rules, and every part not stored, with why. One
    refused file does not cost the customer the report or the other files."""
    checked, refused = attachments.upload_problems(
        [SimpleUploadedFile(file.filename, file.payload, file.content_type) for file in parsed.files]
    )
    reasons = {
        "signature": _("%(name)s is the mail's digital signature; it is kept in the mail as received."),
        "encrypted": _("%(name)s is encrypted and cannot be read here; it is kept in the mail as received."),
        "empty": _("%(name)s was empty."),
        "unreadable": _("%(name)s could not be decoded; it is kept in the mail as received."),
        "opaque_signed": _(
            "%(name)s is a signed mail whose text is inside its signature; it is kept in the mail as received."
        ),
    }
    refused += [reasons[item.reason] % {"name": item.filename} for item in parsed.listed]
    return checked, refused


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


def held_verdicts() -> tuple[str, ...]:
    """The authentication verdicts that keep a mail for staff."""
    return ("fail", "missing", "none") if settings.MAIL_HOLD_UNVERIFIED else ("fail", "missing")


def customers_of(address: str) -> dict[int, tuple[Customer, object]]:
    """Every customer an address belongs to, as a customer user's or a contact person's, with
    the user where it is one. A blank address belongs to nobody."""
    found: dict[int, tuple[Customer, object]] = {}
    if not address.strip():
        return found
    for membership in CustomerMembership.objects.select_related("customer", "user").filter(
        user__email__iexact=address, user__is_active=True
    ):
        found.setdefault(membership.customer_id, (membership.customer, membership.user))
    for contact in ContactPerson.objects.select_related("customer").filter(email__iexact=address):
        found.setdefault(contact.customer_id, (contact.customer, None))
    return found


def ticket_named(parsed: ParsedMail, customer: Customer) -> Ticket | None:
    """The customer's ticket a mail answers: one whose mail (ours, or any stored on it, such as a
    colleague's reply-all) it refers to, or whose number its subject carries. Another customer's
    ticket is treated as no ticket at all, so a mail never tells whether such a number exists."""
    if parsed.references:
        ours = Notification.objects.filter(message_id__in=parsed.references, ticket__customer=customer)
        notification = ours.select_related("ticket").order_by("-created_at").first()
        if notification is not None:
            return notification.ticket
        stored = InboundEmail.objects.filter(message_id__in=parsed.references, ticket__customer=customer)
        record = stored.select_related("ticket").order_by("-received_at").first()
        if record is not None:
            return record.ticket
    # A subject may carry several numbers ("Re: [other] and [own]"): the first the customer owns.
    numbers = list(dict.fromkeys(match[1] for match in TICKET_NUMBER.finditer(parsed.subject)))
    if not numbers:
        return None
    owned = {ticket.number: ticket for ticket in Ticket.objects.filter(number__in=numbers, customer=customer)}
    return next((owned[number] for number in numbers if number in owned), None)


def _arrival_of_unreadable(raw: bytes, now: datetime.datetime) -> datetime.datetime:
    try:
        arrived = mailparse.arrived_at(mailparse.raw_headers(raw))
    except Exception:  # noqa: BLE001 - nothing of an unreadable mail is trusted
        return now
    return arrived if arrived is not None and now - ARRIVAL_TRUSTED <= arrived <= now else now


def arrival(parsed: ParsedMail, now: datetime.datetime) -> datetime.datetime:
    """When the mail reached our server (the topmost Received header, for the pipe), never
    later than now and never more than two weeks back."""
    if parsed.arrived_at is not None and now - ARRIVAL_TRUSTED <= parsed.arrived_at <= now:
        return parsed.arrived_at
    return now


def receive(raw: bytes, *, received_at: datetime.datetime | None = None) -> InboundEmail:
    """Take one RFC 822 message. `received_at`: when the mail server got it (IMAP INTERNALDATE);
    else its topmost Received header. Returns its stored record (the earlier one for a repeat).
    Notes and answers are written in the desk's language, whoever called."""
    with translation.override(settings.LANGUAGE_CODE):
        return _receive(raw, received_at)


def _receive(raw: bytes, received_at: datetime.datetime | None) -> InboundEmail:
    now = timezone.now()
    try:
        parsed = parse(raw, authserv_id=settings.MAIL_AUTHSERV_ID)
    except Exception as error:  # logged: a mail we cannot read is kept for staff
        logger.exception("Unreadable e-mail kept for staff")
        digest = hashlib.sha256(raw).hexdigest()
        record, _created = InboundEmail.objects.get_or_create(
            message_id=f"<sha256-{digest}@unreadable>",
            content_hash=digest,
            defaults={
                "received_at": received_at or _arrival_of_unreadable(raw, now),
                "raw": raw,
                "outcome": Outcome.FAILED,
                "note": mailparse.clean(str(error))[:500],
            },
        )
        return record
    received_at = received_at or arrival(parsed, now)
    once = {"message_id": parsed.message_id, "content_hash": parsed.content_hash}
    existing = InboundEmail.objects.filter(**once).first()
    if existing is not None:
        return existing
    fields = {
        "received_at": received_at,
        "sender": parsed.sender,
        "subject": parsed.subject[:500],
        "raw": raw,
        "authentication": mailparse.verdict(parsed) if settings.MAIL_AUTHSERV_ID else "",
    }
    try:
        with attachments.kept_if_committed(), transaction.atomic():
            record = InboundEmail.objects.create(**once, **fields, outcome=Outcome.UNMATCHED)
            _place(record, parsed, received_at)
            record.save()
    except (OperationalError, InterfaceError):
        raise  # the database is away: nothing was stored, the caller keeps the mail and retries
    except Exception as error:  # logged: whatever went wrong, the mail is kept
        existing = InboundEmail.objects.filter(**once).first()
        if existing is not None and isinstance(error, IntegrityError):
            return existing  # another worker took the same mail a moment earlier
        logger.exception("E-mail %s could not be placed; kept for staff", parsed.message_id)
        record, _created = InboundEmail.objects.get_or_create(
            **once,
            defaults={
                **fields,
                "outcome": Outcome.FAILED,
                "note": mailparse.clean(f"could not be placed: {error}")[:500],
            },
        )
    return record


def _place(record: InboundEmail, parsed: ParsedMail, received_at: datetime.datetime) -> None:
    if parsed.automatic:
        record.outcome, record.note = (
            Outcome.IGNORED,
            f"automatic mail ({parsed.automatic}): no ticket, no answer"[:500],
        )
        return
    if record.authentication in held_verdicts():
        record.outcome = Outcome.UNVERIFIED
        record.note = {
            "fail": "the sender's address failed authentication",
            "missing": "our mail server wrote no authentication results",
            "none": "nothing verified the sender's address",
        }[record.authentication]
        return
    if parsed.sender_problem:
        record.outcome, record.note = Outcome.UNMATCHED, parsed.sender_problem[:500]
        return
    owners = customers_of(parsed.sender)
    if not owners:
        record.outcome, record.note = Outcome.QUARANTINED, "unknown sender"
        _answer_unknown(record, parsed)
        return
    if len(owners) > 1:
        record.outcome = Outcome.AMBIGUOUS
        record.candidates = {"customers": sorted(owners)}
        record.note = (
            "the address belongs to several customers: "
            + ", ".join(customer.name for customer, _user in owners.values())
        )[:500]
        return
    customer, user = next(iter(owners.values()))
    ticket = ticket_named(parsed, customer)
    if ticket is not None:
        _reply(record, ticket, parsed, user, received_at)
        return
    contract, candidates = contract_for(customer, parsed, received_at)
    if contract is None and candidates:
        record.outcome = Outcome.AMBIGUOUS
        record.candidates = {"contracts": [c.pk for c in candidates]}
        record.note = (
            "more than one contract could be meant: " + ", ".join(f"#{c.pk} {c.terms.name}" for c in candidates)
        )[:500]
        return
    if contract is None:
        record.outcome, record.note = Outcome.UNMATCHED, "the customer has no active contract"
        return
    _open_ticket(record, parsed, contract=contract, reported_by=user, received_at=received_at)


def contract_for(customer: Customer, parsed: ParsedMail, received_at: datetime.datetime):
    """(the contract, []) when the mail can be for only one of the customer's contracts in service;
    (None, the candidates) when several remain. A support address that belongs to one service
    (SUPPORT_ADDRESS_TERMS) and an A-number only some contracts' terms cover narrow them down."""
    day = received_at.date()
    contracts = list(
        Contract.objects.filter(customer=customer).active(day).select_related("terms").order_by("signed_on", "pk")
    )
    TermsBook.attach(contracts)
    if len(contracts) <= 1:
        return (contracts[0] if contracts else None), []
    slugs = {settings.SUPPORT_ADDRESS_TERMS[a] for a in parsed.recipients if a in settings.SUPPORT_ADDRESS_TERMS}
    by_mailbox = [c for c in contracts if c.terms.slug in slugs]
    if by_mailbox:
        contracts = by_mailbox
    a_number = read_fields(parsed.body, datetime.UTC).get("a_number")
    if a_number and len(contracts) > 1:
        covered = [c for c in contracts if _covers(c, a_number, day)]
        if covered:
            contracts = covered
    return (contracts[0], []) if len(contracts) == 1 else (None, contracts)


def _covers(contract: Contract, a_number: str, day: datetime.date) -> bool:
    terms = contract.terms_in_force(day)
    try:
        to_e164(
            a_number,
            default_region=terms.holiday_country or terms.a_number_countries[0],
            allowed_regions=terms.a_number_countries,
            allowed_types=terms.a_number_types,
        )
    except PhoneNumberError:
        return False
    return True


def _open_ticket(
    record: InboundEmail,
    parsed: ParsedMail,
    *,
    contract: Contract,
    reported_by,
    received_at: datetime.datetime,
    registered_by=None,
) -> Ticket:
    """A fault report from a mail: A-number, B-number and time read from its text (a missing one
    is marked and asked for, D §16.9), with the attachments that pass the upload rules."""
    fields = read_fields(parsed.body, zoneinfo.ZoneInfo(contract.terms.timezone))
    checked, refused = uploads_of(parsed)
    description = "\n\n".join(part for part in (parsed.subject, parsed.body) if part) or _("(empty e-mail)")
    ticket = services.ticket_create(
        contract=contract,
        reported_by=reported_by,
        channel=Channel.EMAIL,
        received_at=received_at,
        description=description,
        a_number=fields.get("a_number", ""),
        b_number=fields.get("b_number", ""),
        fault_occurred_at=fields.get("fault_occurred_at"),
        accept_missing_details=True,
        registered_by=registered_by,
        uploads=checked,
    )
    record.outcome, record.ticket = Outcome.NEW_TICKET, ticket
    _note_refused(record, ticket, refused)
    return ticket


def _note_refused(record: InboundEmail, ticket: Ticket, refused: list[str]) -> None:
    """Tell staff on the ticket which parts of the mail were not taken as files; the whole mail
    stays downloadable from the inbox."""
    if not refused:
        return
    record.note = ("attachments not taken: " + " ".join(refused))[:500]
    Message.objects.create(
        ticket=ticket,
        author=None,
        internal=True,
        channel=Channel.EMAIL,
        body=_(
            "Attachments of the e-mail that were not taken: %(reasons)s The e-mail as received, "
            "with every attachment, is kept: %(link)s"
        )
        % {"reasons": " ".join(refused), "link": settings.SITE_URL + reverse("desk-inbox-raw", args=[record.pk])},
    )


def _reply(record: InboundEmail, ticket: Ticket, parsed: ParsedMail, user, received_at: datetime.datetime) -> None:
    checked, refused = uploads_of(parsed)
    try:
        ticket, message = services.ticket_reply(
            ticket=ticket,
            actor=user,
            message=parsed.body or parsed.subject or _("(empty e-mail)"),
            channel=Channel.EMAIL,
            at=received_at,
            uploads=checked,
        )
    except services.TransitionNotAllowed as error:
        record.outcome, record.ticket = Outcome.UNMATCHED, ticket
        record.note = f"a reply to a closed ticket, kept for staff: {error}"[:500]
        return
    record.outcome, record.ticket = Outcome.REPLY, ticket
    _note_refused(record, ticket, refused)


def answer_subjects() -> set[str]:
    """Our own "could not register" subject in every language of the desk."""
    subjects = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            subjects.add(_("We could not register your e-mail").lower())
    return subjects


def own_addresses() -> set[str]:
    addresses = {
        settings.DEFAULT_FROM_EMAIL,
        settings.SERVER_EMAIL,
        settings.SUPPORT_TEAM_EMAIL,
        settings.IMAP_USER,
        *settings.SUPPORT_ADDRESS_TERMS,
    }
    return {found for address in addresses if address for found in mailparse.addresses_in(address)}


def brake_key(address: str) -> str:
    """One address for the answer brake: `support+1001@x` and `support+1002@x` are one mailbox."""
    local, _at, domain = address.partition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def _should_answer(parsed: ParsedMail, now: datetime.datetime) -> bool:
    """The brake on our one automatic answer: never to a machine, to ourselves, to a mail that is
    itself such an answer, or twice a day to one address (another help desk answers back)."""
    address = parsed.sender
    if not address or AUTOMATIC_ADDRESS.match(address) or address in own_addresses():
        return False
    if get_user_model().objects.filter(email__iexact=address, is_staff=True).exists():
        return False  # our own staff, writing from their own address
    subject = parsed.subject.lower()
    if any(ours in subject for ours in answer_subjects()):
        return False  # our answer, or another desk's answer quoting it
    key = brake_key(address)
    _lock_address(key)
    since = now - datetime.timedelta(hours=settings.UNKNOWN_SENDER_ANSWER_HOURS)
    local, _at, domain = key.partition("@")
    answered = InboundEmail.objects.filter(answered_at__gte=since, sender__iendswith="@" + domain).filter(
        Q(sender__iexact=key) | Q(sender__istartswith=local + "+")
    )
    return not answered.exists()


def _lock_address(key: str) -> None:
    """Two mails from one address taken at once decide one after the other (PostgreSQL holds the
    lock to the end of the transaction), so the brake holds for concurrent deliveries too."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"answer:{key}"])


def _answer_unknown(record: InboundEmail, parsed: ParsedMail) -> None:
    now = timezone.now()
    if not _should_answer(parsed, now):
        return
    record.answered_at = now
    # The answer repeats nothing of the mail: it goes to an address nobody has verified.
    message = EmailMessage(
        subject=_("We could not register your e-mail"),
        body=_(
            "Hello,\n\nWe received your e-mail but do not recognise the address %(sender)s as one of our "
            "customers' contacts, so no ticket was opened. Our support staff will look at it. If you are "
            "a customer, please write from the address registered with us or use the customer portal.\n"
        )
        % {"sender": parsed.sender},
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[parsed.sender],
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": parsed.message_id},
    )
    transaction.on_commit(lambda: _send_answer(message))


def _send_answer(message: EmailMessage) -> None:
    try:
        message.send()
    except Exception:  # noqa: BLE001 - the mail is kept for staff either way
        logger.warning("Could not answer unknown sender %s", message.to)


def open_for(record: InboundEmail, *, contract: Contract, actor) -> Ticket:
    """Staff turn a kept mail into a ticket for a customer they chose: the mail's own arrival
    time starts the clock."""
    with attachments.kept_if_committed(), transaction.atomic():
        return _open_for(record, contract=contract, actor=actor)


def _open_for(record: InboundEmail, *, contract: Contract, actor) -> Ticket:
    record = InboundEmail.objects.select_for_update().get(pk=record.pk)
    if record.outcome == Outcome.NEW_TICKET:
        raise services.TransitionNotAllowed(_("This e-mail has opened a ticket already."))
    record.handled_by, record.note = actor, f"opened by {actor.get_username()}"
    ticket = _open_ticket(
        record,
        parse(bytes(record.raw)),
        contract=contract,
        reported_by=None,
        received_at=record.received_at,
        registered_by=actor,
    )
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
