"""Contract terms as data, customers and their contracts.

Every number of a contract lives on a `ServiceTerms` version: a provider loads the Dstny terms,
the Telia terms or its own, and a change of terms (D §28) makes a new version, so anything that
was computed under the old terms can still name the version it used.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contracts import validation
from contracts.business_time import BusinessCalendar
from contracts.fees import FeeRow, fee_on
from core.db import Prepared


class SupportDays(models.TextChoices):
    HOLIDAY_FREE_WEEKDAYS = "holiday_free_weekdays", _("Holiday-free weekdays")
    WEEKDAYS = "weekdays", _("Weekdays (Monday–Friday)")
    ALL_DAYS = "all_days", _("Every day")


class AvailabilityPeriod(models.TextChoices):
    FIXED_30_DAYS = "fixed_30_days", _("Fixed 30 days (720 hours)")
    CALENDAR_MONTH = "calendar_month", _("Calendar month")


class InvoicePeriod(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")


class Language(models.TextChoices):
    SWEDISH = "sv", _("Swedish")
    ENGLISH = "en", _("English")


def taken_effect(on: datetime.date) -> Q:
    """Versions whose effective date has come by `on` (none: from the start); the same rule as
    `ServiceTerms.taken_effect`, for queries."""
    return Q(effective_from__isnull=True) | Q(effective_from__lte=on)


class ServiceTermsQuerySet(models.QuerySet):
    def in_force(self, on: datetime.date | None = None) -> ServiceTermsQuerySet:
        """One version per slug: the newest that has taken effect (D §28). A customer's own
        version can be older (a notice that came late): `Contract.terms_in_force`."""
        on = on or timezone.localdate()
        # Chosen among this queryset's own rows, as any further filter narrows them.
        newest = self.order_by().filter(taken_effect(on), slug=OuterRef("slug")).order_by("-version").values("pk")[:1]
        return self.filter(pk=Subquery(newest)).order_by("slug")

    def version_in_force(self, slug: str, on: datetime.date | None = None) -> ServiceTerms | None:
        """The version of one slug in force on a day (`in_force`)."""
        return self.in_force(on).filter(slug=slug).first()


class ServiceTerms(models.Model):
    """One version of a contract template's terms. Clause numbers refer to CONTRACT.md."""

    slug = models.SlugField(_("slug"), max_length=60)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=200)
    source = models.TextField(_("source"), blank=True, help_text=_("The contract document these terms come from."))
    effective_from = models.DateField(
        _("effective from"),
        null=True,
        blank=True,
        help_text=_("First day this version applies, after the terms' notice of a change. Empty: always."),
    )
    ticket_prefix = models.CharField(
        _("ticket number prefix"),
        max_length=8,
        validators=[validation.validate_ticket_prefix],
        help_text=_("Ticket numbers read PREFIX-YEAR-NUMBER, e.g. DST-2026-000042."),
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")

    # The calendar of business time (D §16.3, §16.8; T §2.4, §5.2.1).
    timezone = models.CharField(_("time zone"), max_length=64)
    holiday_country = models.CharField(_("holiday country"), max_length=2, blank=True, null=True)
    holiday_subdivision = models.CharField(_("holiday subdivision"), max_length=10, blank=True, null=True)
    holiday_categories = models.JSONField(
        _("holiday categories"),
        default=list,
        blank=True,
        help_text=_(
            "Empty: the country's real days off (Sweden: public holidays and Midsommarafton, "
            'Julafton, Nyårsafton). Or categories of the holidays package, e.g. ["public"].'
        ),
    )
    support_days = models.CharField(_("support days"), max_length=32, choices=SupportDays.choices)
    support_opens = models.PositiveSmallIntegerField(_("support opens"), help_text=_("Minutes after local midnight."))
    support_closes = models.PositiveSmallIntegerField(
        _("support closes"), help_text=_("Minutes after local midnight; 1440 is 24:00.")
    )

    # Tickets (D §16.7–16.9, T §3.1).
    service_start_hours = models.PositiveIntegerField(_("service start (business hours)"), null=True, blank=True)
    customer_reply_hours = models.PositiveIntegerField(_("customer reply time (hours)"), null=True, blank=True)
    a_number_countries = models.JSONField(_("A-number countries"), default=list)
    a_number_types = models.JSONField(
        _("A-number types"),
        default=list,
        blank=True,
        help_text=_(
            'Kinds of number the service covers, e.g. ["fixed_line", "mobile"] (Telia: Swedish '
            "fixed and mobile numbers only). Empty: any subscriber number."
        ),
    )

    # Availability and discounts (D §10, §11).
    availability_target = models.DecimalField(
        _("availability target (%)"), max_digits=7, decimal_places=4, null=True, blank=True
    )
    availability_period = models.CharField(
        _("availability period"),
        max_length=32,
        choices=AvailabilityPeriod.choices,
        null=True,
        blank=True,
    )
    discount_ladder = models.JSONField(_("discount ladder"), default=list, blank=True)
    maintenance_windows = models.JSONField(
        _("maintenance windows"),
        null=True,
        blank=True,
        help_text=_(
            'Windows for system work without notice, e.g. {"weekdays": [6, 7], "start": "00:00", '
            '"end": "24:00"} (ISO weekdays, local time).'
        ),
    )
    planned_work_notice_days = models.PositiveIntegerField(
        _("planned work notice (calendar days)"), null=True, blank=True
    )
    planned_work_notice_working_days = models.PositiveIntegerField(
        _("planned work notice (working days)"), null=True, blank=True
    )
    # Outages drafted by monitoring (sla.monitoring).
    alert_reopen_minutes = models.PositiveIntegerField(
        _("alert reopens its outage within (minutes)"),
        default=15,
        help_text=_("An alert that fires again this soon after it was resolved reopens the same outage."),
    )
    status_shows_unconfirmed = models.BooleanField(
        _("status page shows unconfirmed outages"),
        default=True,
        help_text=_("An outage drafted by monitoring shows at once as under investigation, before staff confirm it."),
    )

    # Delivery guarantee (D §8.2, §8.4, §9.1–9.2).
    delivery_deadline_days = models.PositiveIntegerField(_("delivery deadline (days)"), null=True, blank=True)
    normal_delivery_weeks = models.PositiveIntegerField(_("normal delivery time (weeks)"), null=True, blank=True)
    late_delivery_discount_percent = models.DecimalField(
        _("late delivery discount (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    delivery_cancellation_days = models.PositiveIntegerField(
        _("cancellation right after (days)"), null=True, blank=True
    )
    delivery_defect_report_days = models.PositiveIntegerField(
        _("delivery defects reported within (days)"), null=True, blank=True
    )

    status_page_url = models.URLField(
        _("operational status page"),
        blank=True,
        help_text=_(
            "Where the supplier keeps its running operational status. Empty: the desk's own status page for these terms."
        ),
    )
    language = models.CharField(
        _("language"),
        max_length=5,
        choices=Language.choices,
        default=Language.SWEDISH,
        help_text=_(
            "The language the terms are written in: their status page speaks it unless the visitor chooses another."
        ),
    )

    # Claims and liability (D §19.2–19.3, §20.1).
    claim_window_months = models.PositiveIntegerField(_("claim window (months)"), null=True, blank=True)
    discount_requires_claim = models.BooleanField(
        _("discounts must be claimed"),
        default=False,
        help_text=_(
            "The right to a price discount lapses unless claimed in writing within the claim "
            "window. Off: discounts are given without a claim."
        ),
    )
    liability_cap_percent = models.DecimalField(
        _("liability cap (percent of annual fees)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    liability_cap_basis_months = models.PositiveIntegerField(
        _("liability cap basis (months of fees)"), null=True, blank=True
    )

    # Invoicing and notices (D §7.5, §15, §22.2, §23.1, §25.2, §28; T §7.2).
    invoice_period = models.CharField(
        _("invoice period"), max_length=16, choices=InvoicePeriod.choices, null=True, blank=True
    )
    invoiced_in_advance = models.BooleanField(_("invoiced in advance"), null=True, blank=True)
    invoice_due_days = models.PositiveIntegerField(_("invoice due (days)"), null=True, blank=True)
    invoice_objection_days = models.PositiveIntegerField(_("invoice objections within (days)"), null=True, blank=True)
    licence_change_notice_months = models.PositiveIntegerField(
        _("licence change notice (months)"), null=True, blank=True
    )
    price_change_notice_days = models.PositiveIntegerField(_("price change notice (days)"), null=True, blank=True)
    terms_change_notice_months = models.PositiveIntegerField(_("terms change notice (months)"), null=True, blank=True)
    change_termination_window_days = models.PositiveIntegerField(
        _("termination after a change within (days)"), null=True, blank=True
    )
    force_majeure_termination_months = models.PositiveIntegerField(
        _("force majeure termination after (months)"), null=True, blank=True
    )
    termination_notice_months = models.PositiveIntegerField(_("termination notice (months)"), null=True, blank=True)
    notice_receipt_days_letter = models.PositiveIntegerField(
        _("a letter counts as received after (days)"), null=True, blank=True
    )
    notice_receipt_days_email = models.PositiveIntegerField(
        _("an e-mail counts as received after (days)"), null=True, blank=True
    )
    notice_receipt_days_phone = models.PositiveIntegerField(
        _("a phone call counts as received after (days)"), null=True, blank=True
    )

    clauses = models.JSONField(
        _("clause references"),
        default=dict,
        blank=True,
        help_text=_(
            'Where these terms say what the desk tells people, as the contract numbers it, e.g. {"fault_details": '
            '"D §16.9"}. A matter the terms are silent on has no entry, and nothing is cited for it.'
        ),
    )

    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = ServiceTermsQuerySet.as_manager()

    class Meta:
        verbose_name = _("service terms")
        verbose_name_plural = _("service terms")
        ordering = ["slug", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="terms_slug_version_unique"),
            models.CheckConstraint(
                condition=Q(support_opens__lt=models.F("support_closes")) & Q(support_closes__lte=1440),
                name="terms_support_hours_in_order",
            ),
            models.CheckConstraint(
                condition=Q(planned_work_notice_days__isnull=True) | Q(planned_work_notice_working_days__isnull=True),
                name="terms_one_planned_work_notice",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    def clean(self) -> None:
        validation.validate_terms(self)

    def taken_effect(self, on: datetime.date) -> bool:
        """Whether this version's effective date has come by `on` (the query form: `taken_effect`)."""
        return self.effective_from is None or self.effective_from <= on

    @cached_property
    def calendar(self) -> BusinessCalendar:
        return calendar_for(self)

    @property
    def status_page_address(self) -> str:
        """Where the running operational status is kept (D §10.2): the supplier's own page when
        the terms name one, else the desk's public page for these terms."""
        return self.status_page_url or reverse("status-page", kwargs={"slug": self.slug})

    @property
    def support_opens_hhmm(self) -> str:
        return validation.minutes_to_hhmm(self.support_opens)

    @property
    def support_closes_hhmm(self) -> str:
        return validation.minutes_to_hhmm(self.support_closes)


_calendars: dict[tuple, BusinessCalendar] = {}


def calendar_for(terms: ServiceTerms) -> BusinessCalendar:
    """The business calendar of a terms version, shared between versions with the same calendar."""
    key = (
        terms.timezone,
        terms.support_days,
        terms.support_opens,
        terms.support_closes,
        terms.holiday_country,
        terms.holiday_subdivision,
        tuple(terms.holiday_categories or ()),
    )
    calendar = _calendars.get(key)
    if calendar is None:
        calendar = _calendars[key] = BusinessCalendar(
            timezone=terms.timezone,
            support_days=terms.support_days,
            opens_minute=terms.support_opens,
            closes_minute=terms.support_closes,
            holiday_country=terms.holiday_country,
            holiday_subdivision=terms.holiday_subdivision,
            holiday_categories=tuple(terms.holiday_categories or ()),
        )
    return calendar


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200)
    org_number = models.CharField(
        _("organisation number"),
        max_length=20,
        validators=[validation.validate_org_number],
        help_text=_("Swedish organisationsnummer (556677-8899) or Finnish business ID (1234567-8)."),
    )
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default=Language.SWEDISH)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["org_number"], name="customer_org_number_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.org_number = validation.normalise_org_number(self.org_number)
        super().save(*args, **kwargs)


class ContactPerson(models.Model):
    """D §14: each customer names a contact person; regional ones are allowed (D §14.4)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("customer")
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(
        _("phone"),
        # Room for the number as people write it (spaces, dashes); stored in E.164, at most 16.
        max_length=40,
        blank=True,
        validators=[validation.validate_phone],
        help_text=_("With its country code; stored in E.164, e.g. +46812345678."),
    )
    region = models.CharField(
        _("region"), max_length=100, blank=True, help_text=_("Empty for the main contact person.")
    )
    is_primary = models.BooleanField(_("main contact person"), default=False)

    class Meta:
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        ordering = ["-is_primary", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(is_primary=True),
                name="contact_one_primary_per_customer",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.phone = validation.normalise_phone(self.phone)
        super().save(*args, **kwargs)


class CustomerMembership(models.Model):
    """Makes a user a customer user; a user belongs to at most one customer."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="customer_membership",
        verbose_name=_("user"),
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("customer")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer user")
        verbose_name_plural = _("customer users")
        ordering = ["customer_id", "user_id"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.customer}"


class ContractStatus(models.TextChoices):
    AWAITING_DELIVERY = "awaiting_delivery", _("Awaiting delivery")
    ACTIVE = "active", _("Active")
    TERMINATED = "terminated", _("Terminated")


class DelayCause(models.TextChoices):
    """D §9.3: the delivery guarantee holds only when the delay is solely the supplier's."""

    SUPPLIER = "supplier", _("Solely the supplier")
    OTHER_OPERATOR = "other_operator", _("Another operator than the supplier")
    CUSTOMER = "customer", _("The customer (equipment, changed dates, its own undertakings)")
    NO_ACCESS = "no_access", _("No access to the premises")
    WRONG_DATA = "wrong_data", _("Wrong data in the contract or customer information, not corrected in time")
    MISSING_INFORMATION = "missing_information", _("Incomplete information or decisions from the customer")
    FORCE_MAJEURE = "force_majeure", _("Force majeure")  # D §22


# What makes a terms version itself rather than a clause of it.
TERMS_IDENTITY_FIELDS = {"slug", "version", "id", "pk", "created_at"}


def terms_editable_fields() -> list[str]:
    """The clauses a new version of terms may change."""
    return [f.name for f in ServiceTerms._meta.concrete_fields if f.name not in TERMS_IDENTITY_FIELDS]


class ContractQuerySet(models.QuerySet):
    def active(self, on: datetime.date | None = None) -> ContractQuerySet:
        """Contracts delivered on or before `on` and not yet ended."""
        on = on or timezone.localdate()
        return self.filter(delivered_on__lte=on).filter(Q(terminated_on__isnull=True) | Q(terminated_on__gt=on))

    def visible_to(self, user) -> ContractQuerySet:
        if not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self
        return self.of_member(user.pk)

    def of_member(self, user_id: int) -> ContractQuerySet:
        """The contracts of the customers a (customer) user belongs to. (A subquery: PostgreSQL
        plans it in two thirds of the time of the join through the customers.)"""
        return self.filter(customer_id__in=CustomerMembership.objects.filter(user_id=user_id).values("customer_id"))

    def with_terms(self) -> ContractQuerySet:
        """With each contract's terms and whether a later version of them exists: a contract on
        the newest version answers `terms_in_force` without reading the versions again (a fault
        report asks twice)."""
        later = ServiceTerms.objects.filter(slug=OuterRef("terms__slug"), version__gt=OuterRef("terms__version"))
        return self.select_related("terms").annotate(terms_superseded=Exists(later))


class Contract(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("customer")
    )
    terms = models.ForeignKey(
        ServiceTerms,
        on_delete=models.PROTECT,
        related_name="contracts",
        verbose_name=_("terms"),
        help_text=_("The terms version the contract was signed on."),
    )
    signed_on = models.DateField(_("signed on"))
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    terminated_on = models.DateField(_("terminated on"), null=True, blank=True)
    one_time_fee = models.DecimalField(
        _("one-time fee"),
        max_digits=12,
        decimal_places=2,
        default=0,
        help_text=_("Invoiced when the contract is signed."),
    )
    invoiced_from = models.DateField(
        _("monthly fees invoiced from"),
        null=True,
        blank=True,
        help_text=_("Empty: from the delivery date. Earlier when the supplier invoices before delivery."),
    )
    delivery_delay_cause = models.CharField(
        _("cause of a delivery delay"),
        max_length=32,
        choices=DelayCause.choices,
        blank=True,
        help_text=_("The delivery guarantee applies only when a delay is solely the supplier's."),
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    account_managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="managed_contracts",
        limit_choices_to={"is_staff": True},
        verbose_name=_("account managers"),
        help_text=_("Staff members told of every new report on this contract, as each one's own settings allow."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-signed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(delivered_on__isnull=True) | Q(delivered_on__gte=models.F("signed_on")),
                name="contract_delivered_after_signing",
            ),
            models.CheckConstraint(
                condition=Q(terminated_on__isnull=True) | Q(terminated_on__gte=models.F("signed_on")),
                name="contract_terminated_after_signing",
            ),
            models.CheckConstraint(condition=Q(one_time_fee__gte=0), name="contract_one_time_fee_not_negative"),
        ]
        indexes = [models.Index(fields=["customer", "signed_on"], name="contract_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer} – {self.terms.name} #{self.pk}"

    def status_on(self, on: datetime.date) -> ContractStatus:
        if self.terminated_on is not None and self.terminated_on <= on:
            return ContractStatus.TERMINATED
        if self.delivered_on is not None and self.delivered_on <= on:
            return ContractStatus.ACTIVE
        return ContractStatus.AWAITING_DELIVERY

    @property
    def status(self) -> ContractStatus:
        return self.status_on(timezone.localdate())

    def terms_in_force(self, on: datetime.date) -> ServiceTerms:
        """The version of this contract's terms that applies on a date (D §28): the newest in
        force then that reached this customer in time. `TermsBook.attach` answers it for a list
        of contracts from memory."""
        if getattr(self, "terms_superseded", None) is False and self.terms.taken_effect(on):
            # Read `with_terms`: no later version exists, so TermsBook would answer this one.
            return self.terms
        book = getattr(self, "terms_book", None) or TermsBook([self])
        return book.version_for(self, on)

    @property
    def fee_rows(self) -> list[FeeRow]:
        """The fee history as (in force from, fee); prefetch `fees` for lists."""
        return [(fee.effective_from, fee.monthly_fee) for fee in self.fees.all()]

    def fee_on(self, day: datetime.date) -> Decimal:
        """The monthly fee in force on a day; before the first change, the fee agreed at signing."""
        return fee_on(self.fee_rows, day)

    @property
    def monthly_fee(self) -> Decimal:
        """The monthly fee in force today."""
        return self.fee_on(timezone.localdate())

    @property
    def invoicing_starts_on(self) -> datetime.date | None:
        """Monthly fees run from delivery unless the supplier invoiced earlier (D §8.6, §15.2)."""
        return self.invoiced_from or self.delivered_on


# A fault report's first question, built and compiled once per process (core.db.Prepared): the
# ORM spent 1.5 ms of Python on the contract with the 60 columns of its terms.
_MEMBERS_CONTRACT = Prepared(
    Contract, lambda user_id, pk: Contract.objects.of_member(user_id).with_terms().filter(pk=pk), -1, -2
)
_ANY_CONTRACT = Prepared(Contract, lambda pk: Contract.objects.with_terms().filter(pk=pk), -1)
_MEMBERS_CONTRACTS = Prepared(
    Contract, lambda user_id: Contract.objects.of_member(user_id).with_terms().order_by("id"), -1
)


def visible_with_terms(user, pk: int) -> Contract | None:
    """`Contract.objects.visible_to(user).with_terms().filter(pk=pk).first()`."""
    if not user.is_authenticated:
        return None
    if user.is_staff:
        return _ANY_CONTRACT.first(pk)
    return _MEMBERS_CONTRACT.first(user.pk, pk)


def all_visible_with_terms(user) -> list[Contract]:
    """`list(Contract.objects.visible_to(user).with_terms().order_by("id"))`: a customer's report form."""
    if not user.is_authenticated or user.is_staff:
        return list(Contract.objects.visible_to(user).with_terms().order_by("id"))
    return _MEMBERS_CONTRACTS.all(user.pk)


class TermsBook:
    """Every version of some contracts' terms and their customers' notices, to answer which
    version applies to a contract on a day without a query per contract.

    A version a customer was sent notice of applies to it from the notice's `applies_from`: the
    version's date, or later when the notice went out too late for the terms' notice period
    (D §28, §25.2); a notice not yet sent (or never deliverable) keeps the customer on the
    version before. A version the customer got no notice of (none was due) applies from its date.
    """

    def __init__(self, contracts):
        contracts = list(contracts)
        slugs = {c.terms.slug for c in contracts}
        self.versions: dict[str, list[ServiceTerms]] = {}
        for terms in ServiceTerms.objects.filter(slug__in=slugs).order_by("slug", "-version"):
            self.versions.setdefault(terms.slug, []).append(terms)
        self.notices: dict[tuple[int, int], datetime.date | None] = {
            (customer_id, terms_id): applies_from
            for customer_id, terms_id, applies_from in Notice.objects.filter(
                kind=NoticeKind.TERMS_CHANGE,
                terms__slug__in=slugs,
                customer_id__in={c.customer_id for c in contracts},
            ).values_list("customer_id", "terms_id", "applies_from")
        }

    @classmethod
    def attach(cls, contracts) -> TermsBook:
        contracts = list(contracts)
        book = cls(contracts)
        for contract in contracts:
            contract.terms_book = book
        return book

    def version_for(self, contract: Contract, on: datetime.date) -> ServiceTerms:
        for terms in self.versions.get(contract.terms.slug, ()):
            if not terms.taken_effect(on):
                continue
            if terms.version > contract.terms.version and (contract.customer_id, terms.pk) in self.notices:
                applies_from = self.notices[(contract.customer_id, terms.pk)]
                if applies_from is None or applies_from > on:
                    continue
            return terms
        return contract.terms


class ContractFee(models.Model):
    """The monthly fee for the Service over time (D §15.14). The first row, from the signing
    date, is the fee agreed; each change adds a row and never rewrites one."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="fees", verbose_name=_("contract"))
    effective_from = models.DateField(_("in force from"))
    monthly_fee = models.DecimalField(_("monthly fee"), max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("monthly fee")
        verbose_name_plural = _("monthly fees")
        ordering = ["contract_id", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "effective_from"], name="contract_fee_date_unique"),
            models.CheckConstraint(condition=Q(monthly_fee__gte=0), name="contractfee_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.monthly_fee} ({self.effective_from:%Y-%m-%d})"


class NoticeKind(models.TextChoices):
    TERMS_CHANGE = "terms_change", _("Change of terms")
    FEE_CHANGE = "fee_change", _("Change of the monthly fee")


class NoticeChannel(models.TextChoices):
    """D §25.2: a notice counts as received 5 days after a letter, 3 after an e-mail, at once by phone."""

    LETTER = "letter", _("Letter")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")


class Notice(models.Model):
    """A notice given to a customer under its contracts: written when decided, e-mailed by the
    workers (once), and dated when sent; the customer's right to terminate runs from its receipt."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notices", verbose_name=_("customer"))
    kind = models.CharField(_("kind"), max_length=16, choices=NoticeKind.choices)
    terms = models.ForeignKey(
        ServiceTerms,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notices",
        verbose_name=_("new terms version"),
    )
    fee = models.ForeignKey(
        ContractFee, on_delete=models.CASCADE, null=True, blank=True, related_name="notices", verbose_name=_("new fee")
    )
    effective_on = models.DateField(_("takes effect on"))
    channel = models.CharField(_("sent by"), max_length=8, choices=NoticeChannel.choices, default=NoticeChannel.EMAIL)
    created_at = models.DateTimeField(_("decided"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    received_on = models.DateField(_("counts as received on"), null=True, blank=True)
    termination_until = models.DateField(_("may terminate until"), null=True, blank=True)
    applies_from = models.DateField(
        _("applies to the customer from"),
        null=True,
        blank=True,
        help_text=_("The change's date, or later when the notice reached the customer too late for the notice period."),
    )
    recipients = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="A worker is sending it since.")
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="After a refusal: not before this.")
    last_error = models.TextField(blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "terms"], name="notice_terms_once_per_customer"),
            models.UniqueConstraint(fields=["customer", "fee"], name="notice_fee_once_per_customer"),
            models.CheckConstraint(
                condition=Q(kind="terms_change", terms__isnull=False, fee__isnull=True)
                | Q(kind="fee_change", fee__isnull=False, terms__isnull=True),
                name="notice_names_what_changed",
            ),
        ]
        indexes = [
            models.Index(
                "created_at", name="notice_pending_idx", condition=Q(sent_at__isnull=True, failed_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.customer}"

    @property
    def terms_before(self) -> ServiceTerms:
        """The terms in force when the notice goes out: their notice and termination periods apply."""
        if self.terms is not None:
            terms = self.terms
        else:
            assert self.fee is not None  # notice_names_what_changed: new terms or a new fee
            terms = self.fee.contract.terms
        return (
            ServiceTerms.objects.version_in_force(terms.slug, self.effective_on - datetime.timedelta(days=1)) or terms
        )
