"""Fault reports and support requests (D §16), their messages, history and time log."""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

import idna
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contracts.models import Contract, Customer, Language, ServiceTerms
from tickets.canned import PLACEHOLDERS, unknown_placeholders
from tickets.states import OPEN_STATUSES, Status, allowed_actions


class Category(models.TextChoices):
    FAULT = "fault", _("Fault report")
    SUPPORT = "support", _("Support or change request")  # D §16.1
    DELIVERY_DEFECT = "delivery_defect", _("Defect in the delivery")  # D §8.4


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    API = "api", _("API")


class CloseReason(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    NO_CUSTOMER_FEEDBACK = "no_customer_feedback", _("No answer from the customer")  # D §16.7
    NOT_A_FAULT = "not_a_fault", _("Not a fault")
    DUPLICATE = "duplicate", _("Duplicate")
    WITHDRAWN = "withdrawn", _("Withdrawn by the customer")


class Classification(models.TextChoices):
    FAULT = "fault", _("Fault (the supplier's)")
    NOT_FAULT = "not_fault", _("Not a fault")


class NotFaultReason(models.TextChoices):
    # D §16.6, §16.10
    MINOR = "minor", _("Minor issue: calls can be routed to another device")
    THIRD_PARTY = "third_party", _("Third party or outside the supplier's control")
    CUSTOMER_EQUIPMENT = "customer_equipment", _("The customer's equipment, configuration, network or firewall")
    OTHER_SUPPLIER = "other_supplier", _("Another supplier, e.g. internet access")
    THIRD_PARTY_PURCHASE = "third_party_purchase", _("Bought from a third party, e.g. a locked phone")
    DATA_DESTROYED_BY_OTHER = "data_destroyed_by_other", _("Data destroyed by others")
    OPERATOR_SERVICE = "operator_service", _("Operator fault outside the operator service")


class TicketNumberSequence(models.Model):
    """The last number given per prefix and year; its row is locked while a number is taken."""

    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="ticket_sequence_unique")]


OPEN_CODES = [status.value for status in OPEN_STATUSES]  # as migrations write them
# Waits for staff: a new report, or one in progress whose customer wrote last.
NEEDS_STAFF = Q(status="new") | Q(status="in_progress", customer_answered=True)


def queue_order() -> tuple:
    """The staff queue: tickets whose service has yet to start by a deadline, nearest deadline
    first (so breached ones lead); then urgent reports; then the rest; each group in order of
    arrival. No clock is read, so an index holds the order."""
    waiting = Q(service_started_at__isnull=True, service_start_due__isnull=False, status__in=OPEN_CODES)
    group = models.Case(
        models.When(waiting, then=models.Value(0)),
        models.When(urgent=True, then=models.Value(1)),
        default=models.Value(2),
    )
    at = models.Case(models.When(waiting, then=models.F("service_start_due")), default=models.F("received_at"))
    return group, at, models.F("id")


class TicketQuerySet(models.QuerySet):
    def visible_to(self, user) -> TicketQuerySet:
        if not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self
        return self.filter(customer__memberships__user=user)

    def open(self) -> TicketQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def breached(self, now: datetime.datetime) -> TicketQuerySet:
        return self.filter(
            Q(service_started_at__isnull=False, service_started_at__gt=models.F("service_start_due"))
            | Q(service_started_at__isnull=True, service_start_due__lt=now)
        )


class Ticket(models.Model):
    number = models.CharField(_("ticket number"), max_length=32, unique=True)
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("contract"))
    # The contract's customer, kept on the ticket so every customer-scoped query is one index.
    # Indexed by ticket_customer_idx, which leads with it, as assignee by ticket_assignee_idx: a
    # second index of their own only made every write of a ticket slower (the closing sweep's).
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("customer"), db_index=False
    )
    terms = models.ForeignKey(
        ServiceTerms,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("terms version"),
        help_text=_("The terms version the deadlines were computed under."),
    )
    category = models.CharField(_("category"), max_length=16, choices=Category.choices, default=Category.FAULT)
    urgent = models.BooleanField(_("urgent"), default=False)
    a_number = models.CharField(_("A-number"), max_length=20, blank=True, help_text=_("The number that was called."))
    b_number = models.CharField(_("B-number"), max_length=20, blank=True, help_text=_("The calling number."))
    fault_occurred_at = models.DateTimeField(_("fault occurred at"), null=True, blank=True)
    description = models.TextField(_("description"))
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)

    received_at = models.DateTimeField(_("received at"))
    effective_received_at = models.DateTimeField(_("counts as received at"))
    service_start_due = models.DateTimeField(_("service start due"), null=True, blank=True)
    service_started_at = models.DateTimeField(_("service started at"), null=True, blank=True)
    service_start_warn_at = models.DateTimeField(
        _("staff warned from"),
        null=True,
        blank=True,
        help_text=_("When the business time left before the service-start deadline reaches the escalation margin."),
    )
    escalation_warned_at = models.DateTimeField(_("staff warned"), null=True, blank=True)
    escalation_breached_at = models.DateTimeField(_("staff told of breach"), null=True, blank=True)

    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.NEW)
    close_reason = models.CharField(
        _("close reason"), max_length=24, choices=CloseReason.choices, null=True, blank=True
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
        help_text=_("The same customer's ticket this one repeats, when it was closed as a duplicate."),
    )
    customer_reply_due = models.DateTimeField(_("customer reply due"), null=True, blank=True)
    reply_reminder_at = models.DateTimeField(_("customer reminded from"), null=True, blank=True)
    reply_reminder_sent_at = models.DateTimeField(_("customer reminded"), null=True, blank=True)
    classification = models.CharField(
        _("classification"), max_length=16, choices=Classification.choices, null=True, blank=True
    )
    not_fault_reason = models.CharField(
        _("reason it is not a fault"),
        max_length=32,
        choices=NotFaultReason.choices,
        null=True,
        blank=True,
    )
    customer_answered = models.BooleanField(
        _("customer answered"),
        default=False,
        db_default=False,
        help_text=_("The customer wrote last: staff have a reply to read."),
    )
    details_missing = models.BooleanField(
        _("report details missing"),
        default=False,
        help_text=_("A report by e-mail without A-number, B-number or fault time: asked for."),
    )
    caused_by_customer_change = models.BooleanField(_("caused by an unannounced customer change"), default=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
        db_index=False,  # ticket_assignee_idx
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reported_tickets",
        verbose_name=_("reported by"),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    unanswered_due = models.DateTimeField(
        _("closed unanswered after"),
        null=True,
        blank=True,
        help_text=_("The reply deadline that passed when the ticket was closed without an answer."),
    )
    anonymised_at = models.DateTimeField(
        _("anonymised at"),
        null=True,
        blank=True,
        help_text=_("When retention removed the attachments and phone numbers of this closed ticket."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(category="fault")
                | Q(details_missing=True)
                | (~Q(a_number="") & ~Q(b_number="") & Q(fault_occurred_at__isnull=False)),
                name="ticket_fault_report_has_numbers_and_time",  # D §16.9
            ),
            models.CheckConstraint(
                condition=Q(status="closed", close_reason__isnull=False)
                | (~Q(status="closed") & Q(close_reason__isnull=True)),
                name="ticket_closed_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status="waiting_for_customer") | Q(customer_reply_due__isnull=True),
                name="ticket_reply_due_only_while_waiting",
            ),
            models.CheckConstraint(
                condition=Q(classification="not_fault", not_fault_reason__isnull=False)
                | (~Q(classification="not_fault") & Q(not_fault_reason__isnull=True))
                | Q(classification__isnull=True, not_fault_reason__isnull=True),
                name="ticket_not_fault_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(effective_received_at__gte=models.F("received_at")),
                name="ticket_effective_receipt_not_before_arrival",
            ),
        ]
        indexes = [
            # What waits for staff (the queue's tab title): new reports and answered tickets.
            models.Index("id", name="ticket_needs_staff_idx", condition=NEEDS_STAFF),
            # The staff queue's order (queue_order()), read from the index for open tickets.
            models.Index(*queue_order(), name="ticket_queue_order_idx", condition=Q(status__in=OPEN_CODES)),
            # The reply-deadline sweep reads only the tickets waiting for the customer.
            models.Index(
                "customer_reply_due",
                name="ticket_waiting_idx",
                condition=Q(status="waiting_for_customer"),
            ),
            # The reminder and escalation sweeps read only what they still have to do.
            models.Index(
                "reply_reminder_at",
                name="ticket_reminder_idx",
                condition=Q(status="waiting_for_customer", reply_reminder_sent_at__isnull=True),
            ),
            models.Index(
                "service_start_warn_at",
                name="ticket_warn_idx",
                condition=Q(
                    status__in=["new", "in_progress", "waiting_for_customer"],
                    service_started_at__isnull=True,
                    escalation_warned_at__isnull=True,
                ),
            ),
            models.Index(
                "service_start_due",
                name="ticket_breach_idx",
                condition=Q(
                    status__in=["new", "in_progress", "waiting_for_customer"],
                    service_started_at__isnull=True,
                    escalation_breached_at__isnull=True,
                ),
            ),
            models.Index(fields=["customer", "-received_at"], name="ticket_customer_idx"),
            models.Index(fields=["-received_at", "-id"], name="ticket_received_idx"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_idx"),
            models.Index(fields=["a_number"], name="ticket_a_number_idx"),
            models.Index(fields=["b_number"], name="ticket_b_number_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def is_service_start_breached(self, now: datetime.datetime) -> bool:
        """Whether service started late, or has not started and its deadline has passed by `now`."""
        if self.service_start_due is None:
            return False
        if self.service_started_at is not None:
            return self.service_started_at > self.service_start_due
        return now > self.service_start_due

    @property
    def service_start_breached(self) -> bool:
        return self.is_service_start_breached(timezone.now())

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def actions(self) -> list[str]:
        """What staff may do with the ticket now (tickets.states)."""
        return allowed_actions(self.status)

    @property
    def customer_actions(self) -> list[str]:
        """What the customer may do with the ticket now (tickets.states)."""
        return allowed_actions(self.status, staff=False)


class Message(models.Model):
    # Indexed by message_ticket_idx, which leads with it.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    internal = models.BooleanField(_("internal note"), default=False, help_text=_("Seen by staff only."))
    body = models.TextField(_("message"))
    from_desk = models.BooleanField(
        _("automatic message"),
        default=False,
        db_default=False,
        help_text=_("Written by the desk itself (the close after an unanswered question), not by a person."),
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_idx")]

    def __str__(self) -> str:
        return f"{self.ticket.number} #{self.pk}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments")
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/")
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename


class AttachmentReference(models.Model):
    """A file kept elsewhere (the customer's file share, an OSS's store), named by its address.
    The address is only ever shown as a link: we never fetch it, so no reference can make the
    desk request anything (tickets.references checks it when it is added)."""

    # The history entry of an addition names this field: the TMF621 attribute's name.
    HISTORY_FIELD = "attachment"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachment_references")
    url = models.CharField(_("address"), max_length=2000)
    name = models.CharField(_("name"), max_length=255)
    mime_type = models.CharField(_("media type"), max_length=255, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    description = models.CharField(_("description"), max_length=1000, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("link to a file")
        verbose_name_plural = _("links to files")
        ordering = ["created_at", "id"]
        constraints = [
            # A link people click: never javascript:, data: or a file on their own machine.
            models.CheckConstraint(
                condition=Q(url__startswith="http://") | Q(url__startswith="https://"),
                name="attachment_reference_http_url",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="attachment_reference_has_name"),
        ]
        indexes = [models.Index(fields=["ticket", "created_at"], name="attachment_ref_ticket_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def host(self) -> str:
        return shown_host(self.url)


def shown_host(url: str) -> str:
    """Where a link goes, as people are to read it before they click: the host (with the port
    when the address names one), a name in another script in the ASCII form browsers look up
    (xn--…, as UTS #46 maps it: faß.de is xn--fa-hia.de, not fass.de), so a look-alike of a
    known name does not pass for it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        host = host if host.isascii() else idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except idna.IDNAError:
        pass
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


class TicketEvent(models.Model):
    """Append-only history: every status and field change, who made it and when."""

    # Indexed by event_ticket_idx, which leads with it.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events", db_index=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)
    field = models.CharField(_("field"), max_length=40)
    old_value = models.TextField(_("from"), blank=True, null=True)
    new_value = models.TextField(_("to"), blank=True, null=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("history entry")
        verbose_name_plural = _("history")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ticket", "at"], name="event_ticket_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.field}: {self.old_value} → {self.new_value}"


class TimeEntry(models.Model):
    """Work logged on a ticket. Work on a ticket that is not a Fault is billable (D §15.3, §16.5)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="time_entries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    worked_on = models.DateField(_("date"))
    minutes = models.PositiveIntegerField(_("minutes"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("logged"), auto_now_add=True)

    class Meta:
        verbose_name = _("time entry")
        verbose_name_plural = _("time log")
        ordering = ["worked_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(minutes__gt=0), name="time_entry_positive"),
        ]
        indexes = [models.Index(fields=["worked_on", "ticket"], name="time_entry_month_idx")]


class Notification(models.Model):
    """An e-mail decided on, kept until it is sent: a broker that is down delays it, never
    loses it (a beat task sends what is still pending)."""

    class Kind(models.TextChoices):
        ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement")
        INFO_REQUEST = "info_request", _("Request for information")
        REPLY = "reply", _("Reply")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")
        REMINDER = "reminder", _("Reminder to answer")
        ESCALATION_NEAR = "escalation_near", _("Service start near its deadline")
        ESCALATION_BREACHED = "escalation_breached", _("Service start deadline breached")
        REOPENED = "reopened", _("Opened again: the answer was in time")
        URGENT_REPORT = "urgent_report", _("Urgent report, to the team")
        NEW_REPORT_STAFF = "new_report_staff", _("New report, to an account manager of the contract")
        CUSTOMER_REPLY_STAFF = "customer_reply_staff", _("The customer's reply, to the ticket's assignee")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # A mail to one staff member about their contract or ticket; their switches are read again
    # when it goes out (tickets.staff_notices).
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recipients = models.JSONField(default=list)
    message = models.TextField(blank=True, help_text="The text written with the action, if any.")
    message_id = models.CharField(max_length=255, blank=True, help_text="The Message-ID header it was sent with.")
    # Written when the mail is sent, from the ticket as it is then (D §16.7: current information).
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    # A worker's claim while it talks to the mail server, held without a row lock.
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                "created_at",
                name="notification_pending_idx",
                condition=Q(sent_at__isnull=True, failed_at__isnull=True),
            )
        ]


class InboundEmail(models.Model):
    """Every e-mail received, kept as it came: nothing a customer sent is lost, and the same
    Message-ID is taken once."""

    class Outcome(models.TextChoices):
        NEW_TICKET = "new_ticket", _("Opened a ticket")
        REPLY = "reply", _("Added to a ticket")
        QUARANTINED = "quarantined", _("Kept for staff: unknown sender")
        UNMATCHED = "unmatched", _("Kept for staff: could not be placed")
        IGNORED = "ignored", _("Ignored: automatic mail")
        FAILED = "failed", _("Kept for staff: could not be read")
        AMBIGUOUS = "ambiguous", _("Kept for staff: more than one customer or contract could be meant")
        UNVERIFIED = "unverified", _("Kept for staff: the sender's address did not pass authentication")
        DISMISSED = "dismissed", _("Set aside by staff")

    message_id = models.CharField(_("Message-ID"), max_length=255)
    content_hash = models.CharField(
        _("content hash"),
        max_length=64,
        blank=True,
        help_text=_(
            "SHA-256 of the mail without the headers servers add on the way: the same mail delivered twice is one."
        ),
    )
    received_at = models.DateTimeField(_("received"), help_text=_("When it reached our mail server."))
    sender = models.CharField(_("sender"), max_length=320, blank=True)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    raw = models.BinaryField(_("message as received"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    authentication = models.CharField(
        _("sender authentication"),
        max_length=8,
        blank=True,
        help_text=_(
            "Our mail server's verdict on the sender's address (DMARC, else SPF/DKIM): pass, fail, none, or missing."
        ),
    )
    candidates = models.JSONField(
        _("could be meant"),
        default=dict,
        blank=True,
        help_text=_("The customers or contracts the mail could belong to, when it was not clear which."),
    )
    answered_at = models.DateTimeField(_("sender answered"), null=True, blank=True)
    ticket = models.ForeignKey(Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_emails")
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        verbose_name = _("received e-mail")
        verbose_name_plural = _("received e-mails")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["message_id", "content_hash"], name="inbound_message_once"),
        ]
        indexes = [
            models.Index(
                "received_at",
                name="inbound_for_staff_idx",
                condition=Q(outcome__in=["quarantined", "unmatched", "failed", "ambiguous", "unverified"]),
            ),
            models.Index("message_id", name="inbound_message_id_idx"),
            models.Index("sender", "answered_at", name="inbound_answered_idx", condition=Q(answered_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.sender}: {self.subject}"


class CannedReply(models.Model):
    """A reply staff use again and again, in one language, with placeholders such as
    {ticket.number} filled from the ticket (tickets.canned)."""

    title = models.CharField(_("title"), max_length=120)
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default=Language.SWEDISH)
    body = models.TextField(_("text"))
    active = models.BooleanField(_("in use"), default=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["title", "language"]
        constraints = [models.UniqueConstraint("title", "language", name="canned_reply_once_per_language")]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"

    def clean(self) -> None:
        unknown = unknown_placeholders(self.body)
        if unknown:
            raise ValidationError(
                {
                    "body": _("Unknown placeholders: %(unknown)s. Use %(known)s.")
                    % {"unknown": ", ".join(unknown), "known": ", ".join("{" + name + "}" for name in PLACEHOLDERS)}
                }
            )


class SavedView(models.Model):
    """A staff member's own filter of the queue, kept under a name ("Breached today")."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(_("filter"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name"]
        constraints = [models.UniqueConstraint("user", "name", name="saved_view_name_once_per_user")]

    def __str__(self) -> str:
        return self.name


class StaffEvent(models.TextChoices):
    """What a staff member can be told of, each by e-mail and on the desk (StaffPreferences)."""

    NEW_REPORT = "new_report", _("New report on a contract you manage")
    CUSTOMER_REPLY = "customer_reply", _("The customer answered on your ticket")


class StaffPreferences(models.Model):
    """A staff member's switches: each event by e-mail and as a notice on the desk, on or off on
    their own. Without a row every switch is on and mail comes in the desk's language."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_preferences")
    email_new_report = models.BooleanField(
        _("E-mail me about a new report on my contracts"),
        default=True,
        help_text=_(
            "My contracts: those you are an account manager of (set in the administration). "
            "Not for a report you register yourself."
        ),
    )
    notice_new_report = models.BooleanField(
        _("Show a notice on the desk for a new report on my contracts"), default=True
    )
    email_customer_reply = models.BooleanField(
        _("E-mail me when a customer answers on my tickets"),
        default=True,
        help_text=_("My tickets: those assigned to you."),
    )
    notice_customer_reply = models.BooleanField(
        _("Show a notice on the desk when a customer answers on my tickets"), default=True
    )
    language = models.CharField(
        _("language of the e-mails"), max_length=5, choices=Language.choices, default=settings.LANGUAGE_CODE
    )

    class Meta:
        verbose_name = _("staff member's settings")
        verbose_name_plural = _("staff members' settings")

    def __str__(self) -> str:
        return str(self.user)

    @classmethod
    def of(cls, user) -> StaffPreferences:
        """The staff member's switches (select_related "staff_preferences" for lists)."""
        try:
            return user.staff_preferences
        except cls.DoesNotExist:
            return cls(user=user)

    def wants(self, event: str, by: str) -> bool:
        """Whether the staff member wants `event` (StaffEvent) by "email" or as a "notice"."""
        return getattr(self, f"{by}_{event}")


class StaffNotice(models.Model):
    """A word on the desk for one staff member about a ticket, kept unread until they open the
    ticket or mark it read."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_notices")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="staff_notices")
    kind = models.CharField(_("what happened"), max_length=16, choices=StaffEvent.choices)
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("desk notice")
        verbose_name_plural = _("desk notices")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="staff_notice_user_idx"),
            # The header's count and opening a ticket read only the unread ones.
            models.Index("user", "ticket", name="staff_notice_unread_idx", condition=Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.ticket_id} {self.kind}"


class TicketWatcher(models.Model):
    """A colleague of the customer who also receives the ticket's e-mails: one of the customer's
    users or one of its contact persons, added by a customer user (tickets.services.watcher_add)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="watchers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="watching",
        verbose_name=_("user"),
    )
    contact = models.ForeignKey(
        "contracts.ContactPerson",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="watching",
        verbose_name=_("contact person"),
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    added_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("colleague receiving e-mails")
        verbose_name_plural = _("colleagues receiving e-mails")
        ordering = ["added_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, contact__isnull=True) | Q(user__isnull=True, contact__isnull=False),
                name="ticket_watcher_user_or_contact",
            ),
            models.UniqueConstraint(
                fields=["ticket", "user"], condition=Q(user__isnull=False), name="ticket_watcher_user_once"
            ),
            models.UniqueConstraint(
                fields=["ticket", "contact"], condition=Q(contact__isnull=False), name="ticket_watcher_contact_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.name}"

    @property
    def name(self) -> str:
        if self.user is not None:
            return self.user.get_full_name() or self.user.get_username()
        assert self.contact is not None  # ticket_watcher_user_or_contact
        return self.contact.name

    @property
    def email(self) -> str:
        if self.user is not None:
            return self.user.email
        assert self.contact is not None  # ticket_watcher_user_or_contact
        return self.contact.email


class Satisfaction(models.Model):
    """The customer's answer to "How did we do?" once a ticket is resolved: good or bad, as
    Zendesk's CSAT asks it, with an optional comment. One per ticket; a later answer replaces it."""

    class Score(models.TextChoices):
        GOOD = "good", _("Good")
        BAD = "bad", _("Bad")

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="satisfaction")
    score = models.CharField(_("score"), max_length=4, choices=Score.choices)
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered"), default=timezone.now)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
        help_text=_("Empty when the answer came through the link in the e-mail."),
    )

    class Meta:
        verbose_name = _("satisfaction answer")
        verbose_name_plural = _("satisfaction answers")
        ordering = ["-answered_at", "-id"]
        indexes = [models.Index(fields=["answered_at"], name="satisfaction_answered_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.score}"
