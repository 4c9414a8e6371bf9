"""Contract terms as data, customers and their contracts.

Every number of a contract lives on a `ServiceTerms` version: a provider loads the Dstny terms,
the Telia terms or its own, and a change of terms (D §28) makes a new version, so anything that
was computed under the old terms can still name the version it used.
"""

from __future__ import annotations

import datetime
from functools import cached_property

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contracts import validation
from contracts.business_time import BusinessCalendar


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


class ServiceTermsQuerySet(models.QuerySet):
    def in_force(self, on: datetime.date | None = None) -> ServiceTermsQuerySet:
        """One version per slug: the newest whose effective date has come (D §28).

        Terms tables hold a handful of rows, so the choice is made in Python, the same on every
        database.
        """
        on = on or timezone.localdate()
        newest: dict[str, tuple[int, int]] = {}
        rows = self.filter(Q(effective_from__isnull=True) | Q(effective_from__lte=on)).values_list(
            "slug", "version", "pk"
        )
        for slug, version, pk in rows:
            if slug not in newest or version > newest[slug][0]:
                newest[slug] = (version, pk)
        return self.filter(pk__in=[pk for _version, pk in newest.values()]).order_by("slug")

    def version_in_force(self, slug: str, on: datetime.date | None = None) -> ServiceTerms | None:
        on = on or timezone.localdate()
        return (
            self.filter(slug=slug)
            .filter(Q(effective_from__isnull=True) | Q(effective_from__lte=on))
            .order_by("-version")
            .first()
        )


class ServiceTerms(models.Model):
    """One version of a contract template's terms. Clause numbers refer to CONTRACT.md."""

    slug = models.SlugField(_("slug"), max_length=60)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=200)
    source = models.TextField(
        _("source"), blank=True, help_text=_("The contract document these terms come from.")
    )
    effective_from = models.DateField(
        _("effective from"),
        null=True,
        blank=True,
        help_text=_("First day this version applies (D §28: one month's notice). Empty: always."),
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
    holiday_subdivision = models.CharField(
        _("holiday subdivision"), max_length=10, blank=True, null=True
    )
    holiday_categories = models.JSONField(
        _("holiday categories"),
        default=validation.default_holiday_categories,
        help_text=_('Categories of the holidays package, e.g. ["public", "de_facto"] for Sweden.'),
    )
    support_days = models.CharField(
        _("support days"), max_length=32, choices=SupportDays.choices
    )
    support_opens = models.PositiveSmallIntegerField(
        _("support opens"), help_text=_("Minutes after local midnight.")
    )
    support_closes = models.PositiveSmallIntegerField(
        _("support closes"), help_text=_("Minutes after local midnight; 1440 is 24:00.")
    )

    # Tickets (D §16.7–16.9, T §3.1).
    service_start_hours = models.PositiveIntegerField(
        _("service start (business hours)"), null=True, blank=True
    )
    customer_reply_hours = models.PositiveIntegerField(
        _("customer reply time (hours)"), null=True, blank=True
    )
    a_number_countries = models.JSONField(_("A-number countries"), default=list)

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

    # Delivery guarantee (D §8.2, §8.4, §9.1–9.2).
    delivery_deadline_days = models.PositiveIntegerField(
        _("delivery deadline (days)"), null=True, blank=True
    )
    normal_delivery_weeks = models.PositiveIntegerField(
        _("normal delivery time (weeks)"), null=True, blank=True
    )
    late_delivery_discount_percent = models.DecimalField(
        _("late delivery discount (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    delivery_cancellation_days = models.PositiveIntegerField(
        _("cancellation right after (days)"), null=True, blank=True
    )
    delivery_defect_report_days = models.PositiveIntegerField(
        _("delivery defects reported within (days)"), null=True, blank=True
    )

    # Claims and liability (D §19.2–19.3, §20.1).
    claim_window_months = models.PositiveIntegerField(
        _("claim window (months)"), null=True, blank=True
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
    invoice_objection_days = models.PositiveIntegerField(
        _("invoice objections within (days)"), null=True, blank=True
    )
    licence_change_notice_months = models.PositiveIntegerField(
        _("licence change notice (months)"), null=True, blank=True
    )
    price_change_notice_days = models.PositiveIntegerField(
        _("price change notice (days)"), null=True, blank=True
    )
    terms_change_notice_months = models.PositiveIntegerField(
        _("terms change notice (months)"), null=True, blank=True
    )
    change_termination_window_days = models.PositiveIntegerField(
        _("termination after a change within (days)"), null=True, blank=True
    )
    force_majeure_termination_months = models.PositiveIntegerField(
        _("force majeure termination after (months)"), null=True, blank=True
    )
    termination_notice_months = models.PositiveIntegerField(
        _("termination notice (months)"), null=True, blank=True
    )
    notice_receipt_days_letter = models.PositiveIntegerField(
        _("a letter counts as received after (days)"), null=True, blank=True
    )
    notice_receipt_days_email = models.PositiveIntegerField(
        _("an e-mail counts as received after (days)"), null=True, blank=True
    )
    notice_receipt_days_phone = models.PositiveIntegerField(
        _("a phone call counts as received after (days)"), null=True, blank=True
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
                condition=Q(support_opens__lt=models.F("support_closes"))
                & Q(support_closes__lte=1440),
                name="terms_support_hours_in_order",
            ),
            models.CheckConstraint(
                condition=Q(planned_work_notice_days__isnull=True)
                | Q(planned_work_notice_working_days__isnull=True),
                name="terms_one_planned_work_notice",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    def clean(self) -> None:
        validation.validate_terms(self)

    @cached_property
    def calendar(self) -> BusinessCalendar:
        return calendar_for(self)

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


class Language(models.TextChoices):
    SWEDISH = "sv", _("Swedish")
    ENGLISH = "en", _("English")


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200)
    org_number = models.CharField(
        _("organisation number"),
        max_length=20,
        validators=[validation.validate_org_number],
        help_text=_("Swedish organisationsnummer (556677-8899) or Finnish business ID (1234567-8)."),
    )
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.SWEDISH
    )
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
    phone = models.CharField(_("phone (E.164)"), max_length=20, blank=True)
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


class ContractQuerySet(models.QuerySet):
    def active(self, on: datetime.date | None = None) -> ContractQuerySet:
        """Contracts delivered on or before `on` and not yet ended."""
        on = on or timezone.localdate()
        return self.filter(delivered_on__lte=on).filter(
            Q(terminated_on__isnull=True) | Q(terminated_on__gt=on)
        )

    def visible_to(self, user) -> ContractQuerySet:
        if not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self
        return self.filter(customer__memberships__user=user)


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
    monthly_fee = models.DecimalField(_("monthly fee"), max_digits=12, decimal_places=2)
    signed_on = models.DateField(_("signed on"))
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    terminated_on = models.DateField(_("terminated on"), null=True, blank=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

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
                condition=Q(terminated_on__isnull=True)
                | Q(terminated_on__gte=models.F("signed_on")),
                name="contract_terminated_after_signing",
            ),
            models.CheckConstraint(
                condition=Q(monthly_fee__gte=0), name="contract_fee_not_negative"
            ),
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
        """The version of this contract's terms that applies on a date (D §28)."""
        return ServiceTerms.objects.version_in_force(self.terms.slug, on) or self.terms
