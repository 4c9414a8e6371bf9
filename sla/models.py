"""Outages and what they cost (D §10–11)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contracts.clauses import cited, cited_common
from contracts.models import Contract, Customer, NoticeChannel, ServiceTerms


class OutageKind(models.TextChoices):
    UNPLANNED = "unplanned", _("Unplanned")
    PLANNED = "planned", _("Planned system work")


class Responsibility(models.TextChoices):
    SUPPLIER = "supplier", _("The supplier's Fault")
    CUSTOMER_CHANGE = "customer_change", _("An unannounced change by the customer")  # D §17.1
    CUSTOMER = "customer", _("The customer")
    THIRD_PARTY = "third_party", _("A third party")
    FORCE_MAJEURE = "force_majeure", _("Force majeure")


def service_wide_of(slugs) -> Q:
    """The service-wide outages of these services (terms slugs), and those not yet placed."""
    return Q(service_wide=True) & (Q(service__in=list(slugs)) | Q(service=""))


class OutageSource(models.TextChoices):
    STAFF = "staff", _("Registered by staff")
    ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager")
    GENERIC = "generic", _("Monitoring webhook")


class Outage(models.Model):
    contracts = models.ManyToManyField(
        Contract,
        blank=True,
        related_name="outages",
        verbose_name=_("contracts"),
        help_text=_("None: every contract active at the time."),
    )
    service_wide = models.BooleanField(_("every active contract"), default=False)
    # The service an outage belongs to: the slug of its terms (every version of them). A
    # service-wide outage concerns every active contract of that service and no other; one that
    # names contracts has their service. Empty only on service-wide outages registered before
    # outages had a service, which the migration could not place: they still count against
    # every service until staff choose theirs.
    service = models.SlugField(_("service"), max_length=60, blank=True, db_index=True)
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=OutageKind.choices)
    # Empty only while an outage drafted by monitoring waits for staff to confirm it.
    responsibility = models.CharField(_("responsibility"), max_length=24, choices=Responsibility.choices, blank=True)
    # Monitoring drafts outages: they count in no figure until staff confirm them by choosing
    # their responsibility, or discard them as a false alarm (kept, with the reason).
    source = models.CharField(_("source"), max_length=16, choices=OutageSource.choices, default=OutageSource.STAFF)
    external_id = models.CharField(_("monitoring's id"), max_length=200, blank=True)
    confirmed = models.BooleanField(_("confirmed"), default=True)
    discarded_at = models.DateTimeField(_("discarded"), null=True, blank=True)
    discard_reason = models.TextField(_("why it was discarded"), blank=True)
    discarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    announced_at = models.DateTimeField(_("announced"), null=True, blank=True)
    announced_via = models.CharField(
        _("announced by"),
        max_length=8,
        choices=NoticeChannel.choices,
        blank=True,
        help_text=_(
            "The notice counts from when the customer has it: the terms say how many days after a letter or an e-mail."
        ),
    )
    description = models.TextField(_("description"), blank=True)
    tickets = models.ManyToManyField("tickets.Ticket", blank=True, related_name="outages", verbose_name=_("tickets"))
    short_notice_terms = models.JSONField(
        _("terms whose notice was not met"),
        default=list,
        blank=True,
        help_text=_("Planned work outside the maintenance windows without due notice."),  # D §11.3, T §5.1
    )
    # D §10.4: staff confirmed the supplier's responsibility although these linked tickets were
    # classified as not a fault (or as caused by the customer's change, D §17.1).
    confirmed_ticket_ids = models.JSONField(default=list, blank=True)
    confirmation_note = models.TextField(_("why it is the supplier's all the same"), blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("outage")
        verbose_name_plural = _("outages")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="outage_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(confirmed=False) | ~Q(responsibility=""),
                name="outage_confirmed_has_responsibility",
            ),
            models.CheckConstraint(
                condition=Q(discarded_at__isnull=True) | Q(confirmed=False),
                name="outage_discarded_is_unconfirmed",
            ),
            models.CheckConstraint(
                condition=Q(announced_at__isnull=True, announced_via="")
                | Q(announced_at__isnull=False) & ~Q(announced_via=""),
                name="outage_announcement_has_channel",
            ),
        ]
        indexes = [
            models.Index(fields=["started_at"], name="outage_started_idx"),
            models.Index(fields=["ended_at"], name="outage_ended_idx"),
            models.Index("started_at", name="outage_service_wide_idx", condition=Q(service_wide=True)),
            models.Index(
                fields=["source", "external_id", "-started_at"],
                name="outage_external_idx",
                condition=~Q(external_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def unplaced(self) -> bool:
        """A service-wide outage whose service nobody has chosen yet (see `service`)."""
        return self.service_wide and not self.service

    def concerns_service(self, slug: str) -> bool:
        """Whether a service-wide outage hits the contracts of the service `slug`."""
        return self.service_wide and self.service in (slug, "")

    @property
    def pending(self) -> bool:
        """Drafted by monitoring, neither confirmed nor discarded yet."""
        return not self.confirmed and self.discarded_at is None

    @property
    def counts(self) -> bool:
        """Only the supplier's Faults count towards availability and discounts (D §10.4, §17.1)."""
        return self.responsibility == Responsibility.SUPPLIER


class UpdateState(models.TextChoices):
    INVESTIGATING = "investigating", _("Investigating")
    IDENTIFIED = "identified", _("Cause identified")
    MONITORING = "monitoring", _("Fixed, monitoring")
    RESOLVED = "resolved", _("Resolved")


class OutageUpdate(models.Model):
    """What staff tell everyone about an outage, word for word on the status page (D §10.2): the
    outage's own description stays internal, so only these texts are public."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="updates", verbose_name=_("outage"))
    posted_at = models.DateTimeField(_("posted"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField(_("text"))
    state = models.CharField(_("state"), max_length=16, choices=UpdateState.choices, blank=True)
    notify_customers = models.BooleanField(_("e-mailed to the affected customers"), default=False)

    class Meta:
        verbose_name = _("outage update")
        verbose_name_plural = _("outage updates")
        ordering = ["posted_at", "id"]
        indexes = [models.Index(fields=["outage", "posted_at"], name="outage_update_posted_idx")]

    def __str__(self) -> str:
        return f"{self.outage_id} {self.posted_at:%Y-%m-%d %H:%M}"

    def mail_summary(self) -> dict:
        """How its e-mails went, for the outage page: counts sent and waiting, and the rows that
        failed (prefetch `mails__customer`)."""
        rows = list(self.mails.all())
        failed = [row for row in rows if row.failed_at is not None]
        sent = sum(row.sent_at is not None for row in rows)
        return {"sent": sent, "waiting": len(rows) - sent - len(failed), "failed": failed}


class OutageUpdateMail(models.Model):
    """One customer's e-mail of an update: written with the update, sent by the workers once."""

    update = models.ForeignKey(OutageUpdate, on_delete=models.CASCADE, related_name="mails")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="A worker is sending it since.")
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["update", "customer"], name="outage_update_mail_once")]
        indexes = [
            models.Index(
                "created_at",
                name="outage_update_mail_unsent_idx",
                condition=Q(sent_at__isnull=True, failed_at__isnull=True),
            )
        ]


class MonthlyReport(models.Model):
    """A month of a contract as computed, with the terms version used: a sent report is never
    rewritten silently; a later change marks it stale and its recomputation is audited."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="monthly_reports")
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    terms = models.ForeignKey("contracts.ServiceTerms", on_delete=models.PROTECT, related_name="+")
    period_minutes = models.PositiveIntegerField()
    unavailable_seconds = models.PositiveBigIntegerField()
    availability_percent = models.DecimalField(max_digits=9, decimal_places=4)
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2)
    monthly_fee = models.DecimalField(max_digits=12, decimal_places=2)
    discount_amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    outages = models.JSONField(default=dict)
    # When the customer could see the discount arise (D §20.1): the end of the outage time that
    # took the month under the first threshold.
    discount_arose_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField()
    stale = models.BooleanField(default=False)
    # Why and by whom it became stale: the recomputation's revision records both.
    stale_since = models.DateTimeField(null=True, blank=True)
    stale_reason = models.CharField(max_length=500, blank=True)
    stale_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        ordering = ["-month", "contract_id"]
        constraints = [models.UniqueConstraint(fields=["contract", "month"], name="report_contract_month_unique")]
        indexes = [models.Index("month", name="report_stale_idx", condition=Q(stale=True))]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.month:%Y-%m}"


class ReportRevision(models.Model):
    """Append-only: what a recomputation changed, and why."""

    report = models.ForeignKey(MonthlyReport, on_delete=models.CASCADE, related_name="revisions")
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    reason = models.CharField(max_length=500)
    before = models.JSONField()
    after = models.JSONField()

    class Meta:
        ordering = ["at", "id"]


class ClaimStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class ClaimKind(models.TextChoices):
    DISCOUNT = "discount", _("Price discount for low availability")
    DELIVERY = "delivery", _("Deduction for late delivery")
    DAMAGES = "damages", _("Damages")


# The matter of the terms' clause table (contracts.clauses) each kind of claim rests on.
CLAIM_CLAUSES = {ClaimKind.DISCOUNT: "discount", ClaimKind.DELIVERY: "delivery_deduction", ClaimKind.DAMAGES: "damages"}


def claim_kind_choices(terms: list[ServiceTerms]) -> list[tuple[str, str]]:
    """The kinds of claim, each citing the clause these terms share for it (none when they differ)."""
    return [(kind.value, f"{kind.label}{cited_common(terms, CLAIM_CLAUSES[kind])}") for kind in ClaimKind]


class OutsideCap(models.TextChoices):
    """D §19.4: where the damages cap does not apply."""

    INTENT = "intent", _("Intent or gross negligence")
    PERSONAL_INJURY = "personal_injury", _("Personal injury")
    MANDATORY_LAW = "mandatory_law", _("Liability under mandatory law")
    THIRD_PARTY_MISUSE = "third_party_misuse", _("A third party's claim caused by the customer's misuse or breach")


class Claim(models.Model):
    """A claim for a discount, a deduction or damages (D §20): in writing, within the claim
    window from when the circumstance was or should have been discovered, citing ticket numbers."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="claims")
    kind = models.CharField(_("kind"), max_length=16, choices=ClaimKind.choices, default=ClaimKind.DISCOUNT)
    month = models.DateField(_("month"), null=True, blank=True, help_text=_("The month claimed for (its first day)."))
    outage = models.ForeignKey(
        Outage, on_delete=models.PROTECT, null=True, blank=True, related_name="claims", verbose_name=_("outage")
    )
    amount = models.DecimalField(_("amount claimed"), max_digits=12, decimal_places=2)
    discovered_on = models.DateField(_("discovered on"))
    window_from = models.DateField(
        _("claim window counted from"),
        help_text=_("The earliest of the stated discovery, the cited tickets' reports and the outage's end."),
    )
    description = models.TextField(_("description"))
    tickets = models.ManyToManyField("tickets.Ticket", related_name="claims", verbose_name=_("tickets"))
    filed_at = models.DateTimeField(_("filed"))
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    status = models.CharField(_("status"), max_length=16, choices=ClaimStatus.choices, default=ClaimStatus.SUBMITTED)
    granted_amount = models.DecimalField(_("amount granted"), max_digits=12, decimal_places=2, null=True, blank=True)
    outside_cap = models.CharField(
        _("outside the damages cap"),
        max_length=24,
        choices=OutsideCap.choices,
        blank=True,
        help_text=_("Why the cap does not apply."),  # D §19.4
    )
    decision_note = models.TextField(_("decision"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        ordering = ["-filed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="claim_amount_positive"),
            models.CheckConstraint(
                condition=Q(month__isnull=False) | Q(outage__isnull=False) | Q(kind="delivery"),
                name="claim_names_month_or_outage",
            ),
            models.CheckConstraint(
                condition=Q(status="accepted", granted_amount__isnull=False)
                | (~Q(status="accepted") & Q(granted_amount__isnull=True)),
                name="claim_accepted_has_amount",
            ),
        ]

    @property
    def currency(self) -> str:
        return self.contract.terms.currency

    @property
    def kind_shown(self) -> str:
        """The kind of claim, citing the clause of the contract's terms it rests on."""
        return f"{self.get_kind_display()}{cited(self.contract.terms, CLAIM_CLAUSES[ClaimKind(self.kind)])}"


class Alert(models.Model):
    """One alert of the operator's monitoring, by its source's fingerprint: the outage it drafted
    (the latest, when it fired again later), or none while no route places it. Its row is the
    lock that makes repeated and concurrent notifications of one alert one outage."""

    source = models.CharField(_("source"), max_length=16, choices=OutageSource.choices)
    fingerprint = models.CharField(_("fingerprint"), max_length=200)
    status = models.CharField(_("status"), max_length=8)  # firing or resolved
    labels = models.JSONField(_("labels"), default=dict)
    annotations = models.JSONField(_("annotations"), default=dict)
    starts_at = models.DateTimeField(_("started"))
    ends_at = models.DateTimeField(_("ended"), null=True, blank=True)
    outage = models.ForeignKey(
        Outage, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts", verbose_name=_("outage")
    )
    notifications = models.PositiveIntegerField(_("notifications"), default=0)
    first_received_at = models.DateTimeField(_("first received"))
    last_received_at = models.DateTimeField(_("last received"))

    class Meta:
        verbose_name = _("monitoring alert")
        verbose_name_plural = _("monitoring alerts")
        ordering = ["-last_received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["source", "fingerprint"], name="alert_source_fingerprint")]
        indexes = [
            models.Index(fields=["-last_received_at"], name="alert_unrouted_idx", condition=Q(outage__isnull=True))
        ]
        permissions = [("report_alerts", _("Can report monitoring alerts"))]

    def __str__(self) -> str:
        return f"{self.source} {self.fingerprint}"

    @property
    def summary(self) -> str:
        return self.annotations.get("summary") or self.labels.get("alertname") or self.fingerprint


class AlertRoute(models.Model):
    """A staff rule for alerts whose labels the operator does not control: labels that match
    (each one given, exactly) place the alert in a service, optionally on some contracts. Rules
    are tried in order after the labels `service`, `contract` and `customer`."""

    position = models.PositiveIntegerField(_("position"), default=0)
    name = models.CharField(_("name"), max_length=100)
    matchers = models.JSONField(
        _("labels to match"),
        default=dict,
        help_text=_('Each label and the value it must have, e.g. {"job": "sbc", "cluster": "sto-2"}.'),
    )
    service = models.SlugField(_("service"), max_length=60, help_text=_("The slug of the service's terms."))
    contracts = models.ManyToManyField(
        Contract,
        blank=True,
        related_name="+",
        verbose_name=_("contracts"),
        help_text=_("None: every active contract of the service."),
    )

    class Meta:
        verbose_name = _("alert route")
        verbose_name_plural = _("alert routes")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    def matches(self, labels: dict) -> bool:
        return bool(self.matchers) and all(labels.get(name) == value for name, value in self.matchers.items())
