from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from contracts import notices, services
from contracts.models import ContactPerson, Contract, ContractFee, Customer, CustomerMembership, Notice, ServiceTerms
from contracts.validation import hhmm_to_minutes, minutes_to_hhmm
from core import signin
from core.months import add_months


class ClockTimeFormField(forms.CharField):
    def prepare_value(self, value):
        return minutes_to_hhmm(value) if isinstance(value, int) else value

    def to_python(self, value):
        value = super().to_python(value)
        try:
            return hhmm_to_minutes(value)
        except ValueError as error:
            raise ValidationError(str(error)) from None


class ServiceTermsForm(forms.ModelForm):
    status_page_url = forms.URLField(
        label=_("operational status page"),
        required=False,
        assume_scheme="https",
        help_text=_(
            "Where the supplier keeps its running operational status. Empty: the desk's own status page for these terms."
        ),
    )
    support_opens = ClockTimeFormField(label=_("support opens"), help_text="HH:MM")
    support_closes = ClockTimeFormField(label=_("support closes"), help_text=_("HH:MM; 24:00 is the end of the day"))

    class Meta:
        model = ServiceTerms
        fields = "__all__"

    def _post_clean(self):
        super()._post_clean()  # type: ignore[misc]  # ModelForm's, which the stubs leave out
        if self.instance.pk is None or self.errors:
            return
        # A change of terms in use becomes a new version: the same checks, in the same words, as
        # the API's (D §28).
        original = ServiceTerms.objects.get(pk=self.instance.pk)
        if services.edited_in_place(original, timezone.localdate()):
            return
        changes = self.revision_changes()
        effective_from = changes.pop("effective_from", None)
        try:
            services.terms_revision_plan(
                terms=original, changes=changes, effective_from=effective_from, today=timezone.localdate()
            )
        except ValidationError as error:
            self._update_errors(error)  # type: ignore[attr-defined]  # ModelForm's, which the stubs leave out

    def revision_changes(self) -> dict:
        editable = set(services.terms_editable_fields())
        return {name: self.cleaned_data[name] for name in self.changed_data if name in editable}


@admin.register(ServiceTerms)
class ServiceTermsAdmin(admin.ModelAdmin):
    form = ServiceTermsForm
    list_display = [
        "slug",
        "version",
        "name",
        "effective_from",
        "timezone",
        "support_days",
        "service_start_hours",
        "availability_target",
        "contract_count",
    ]
    list_filter = ["support_days", "holiday_country", "availability_period"]
    search_fields = ["slug", "name"]
    readonly_fields = ["version", "created_at", "days_off", "status_page"]
    ordering = ["slug", "-version"]

    @admin.display(description=_("days off in the next twelve months"))
    def days_off(self, obj) -> str:
        """The calendar the terms give, as a check that the country's real days off are in it."""
        if obj is None or obj.pk is None:
            return "–"
        today = timezone.localdate()
        days = obj.calendar.days_off(today, add_months(today, 12), language=get_language())
        return format_html_join(mark_safe("<br>"), "{} {}", ((d.isoformat(), name) for d, name in days)) or "–"

    @admin.display(description=_("status page"))
    def status_page(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "–"
        return format_html('<a href="{}">{}</a>', obj.status_page_address, obj.status_page_address)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_contracts=Count("contracts"))

    @admin.display(description=_("contracts"), ordering="n_contracts")
    def contract_count(self, obj) -> int:
        return obj.n_contracts

    def get_readonly_fields(self, request, obj=None):
        # The slug names the template; a revision keeps it.
        return [*self.readonly_fields, "slug"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.save()
            return
        changes = form.revision_changes()
        effective_from = changes.pop("effective_from", None)
        original = ServiceTerms.objects.get(pk=obj.pk)
        revised = services.terms_revise(
            terms=original, changes=changes, effective_from=effective_from, actor=request.user
        )
        if revised.pk != original.pk:
            assert revised.effective_from is not None  # terms_revision_plan dates every new version
            messages.info(
                request,
                _(
                    "These terms are in use, so the change was saved as version %(v)d, in force from %(date)s; "
                    "every customer with a contract on them gets the notice."
                )
                % {"v": revised.version, "date": revised.effective_from.isoformat()},
            )
        obj.pk = revised.pk
        obj.version = revised.version

    def has_delete_permission(self, request, obj=None):
        if obj is not None and services.terms_in_use(obj):
            return False
        return super().has_delete_permission(request, obj)


class ContactPersonInline(admin.TabularInline):
    model = ContactPerson
    extra = 0


class CustomerMembershipInline(admin.TabularInline):
    model = CustomerMembership
    extra = 0
    autocomplete_fields = ["user"]


class NoticeInline(admin.TabularInline):
    """Notices of changed terms and fees (D §28, §15.14), as sent: they are written by the services."""

    model = Notice
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "kind",
        "terms",
        "fee",
        "effective_on",
        "sent_at",
        "received_on",
        "termination_until",
        "recipients",
        "failed_at",
        "last_error",
    )

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "org_number", "language", "contract_count", "created_at"]
    list_filter = ["language"]
    search_fields = ["name", "org_number", "contacts__name", "contacts__email"]
    inlines = [ContactPersonInline, CustomerMembershipInline, NoticeInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_contracts=Count("contracts", distinct=True))

    @admin.display(description=_("contracts"), ordering="n_contracts")
    def contract_count(self, obj) -> int:
        return obj.n_contracts


@admin.register(CustomerMembership)
class CustomerMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "customer", "created_at"]
    search_fields = ["user__username", "user__email", "customer__name"]
    list_select_related = ["user", "customer"]
    autocomplete_fields = ["user", "customer"]
    actions = ["send_sign_in_link"]

    @admin.action(description=_("E-mail a link to choose a password"))
    def send_sign_in_link(self, request, queryset):
        sent, without = 0, []
        for membership in queryset.select_related("user", "customer"):
            if not membership.user.email:
                without.append(membership.user.get_username())
                continue
            signin.send_first_sign_in_link(membership.user, membership.customer.language)
            sent += 1
        if sent:
            self.message_user(
                request,
                ngettext("A link was e-mailed to %(count)d user.", "Links were e-mailed to %(count)d users.", sent)
                % {"count": sent},
            )
        if without:
            self.message_user(
                request,
                _("No e-mail address, so no link: %(users)s.") % {"users": ", ".join(without)},
                level=messages.WARNING,
            )


class ContractStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("awaiting_delivery", _("Awaiting delivery")),
            ("active", _("Active")),
            ("terminated", _("Terminated")),
        ]

    def queryset(self, request, queryset):
        from django.db.models import Q
        from django.utils import timezone

        today = timezone.localdate()
        ended = Q(terminated_on__isnull=False, terminated_on__lte=today)
        if self.value() == "active":
            return queryset.active(today)
        if self.value() == "terminated":
            return queryset.filter(ended)
        if self.value() == "awaiting_delivery":
            return queryset.exclude(ended).filter(Q(delivered_on__isnull=True) | Q(delivered_on__gt=today))
        return queryset


class ContractForm(forms.ModelForm):
    """A contract's dates and delivery record; its fee is the fee history's (D §15.14): the fee
    agreed when it is added, and a new fee from a date when it is changed."""

    monthly_fee = forms.DecimalField(
        label=_("monthly fee"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("Adding: the fee agreed. Changing: a new fee, from the date below."),
    )
    fee_from = forms.DateField(label=_("new fee from"), required=False)

    class Meta:
        model = Contract
        fields = ["customer", "terms", *services.CONTRACT_FIELDS, "account_managers"]

    def clean(self):
        data = super().clean()
        assert data is not None  # a ModelForm's clean() gives its cleaned_data
        fee, since = data.get("monthly_fee"), data.get("fee_from")
        if self.instance.pk is None:
            if fee is None:
                self.add_error("monthly_fee", _("Give the monthly fee agreed."))
        elif fee is not None or since is not None:
            if fee is None or since is None:
                self.add_error("fee_from" if fee is not None else "monthly_fee", _("Give the new fee and its date."))
            else:
                # Checked against the contract as this form leaves it (a new end date, say).
                contract = Contract.objects.get(pk=self.instance.pk)
                contract.terminated_on = data.get("terminated_on", contract.terminated_on)
                try:
                    services.check_fee_change(
                        contract=contract, monthly_fee=fee, effective_from=since, today=timezone.localdate()
                    )
                except ValidationError as error:
                    self._update_errors(  # type: ignore[attr-defined]  # ModelForm's, which the stubs leave out
                        ValidationError(
                            {
                                "fee_from" if field == "effective_from" else field: messages
                                for field, messages in error.message_dict.items()
                            }
                        )
                    )
        return data

    def _post_clean(self):
        super()._post_clean()  # type: ignore[misc]  # ModelForm's, which the stubs leave out
        try:
            services.contract_validate(self.instance)
        except ValidationError as error:
            self._update_errors(error)  # type: ignore[attr-defined]  # ModelForm's, which the stubs leave out


class ContractFeeInline(admin.TabularInline):
    model = ContractFee
    extra = 0
    can_delete = False
    fields = readonly_fields = ("effective_from", "monthly_fee", "created_at", "created_by")
    verbose_name_plural = _("fee history")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    form = ContractForm
    list_display = [
        "id",
        "customer",
        "terms",
        "fee_today",
        "signed_on",
        "delivered_on",
        "terminated_on",
        "status_label",
    ]
    list_filter = [ContractStatusFilter, "terms__slug"]
    search_fields = ["customer__name", "customer__org_number", "description"]
    list_select_related = ["customer", "terms"]
    autocomplete_fields = ["customer"]
    date_hierarchy = "signed_on"
    inlines = [ContractFeeInline]
    filter_horizontal = ["account_managers"]

    def get_readonly_fields(self, request, obj=None):
        # A contract stays its customer's, on the terms version it was signed on.
        return ["customer", "terms"] if obj else []

    def has_delete_permission(self, request, obj=None):
        # A contract anything was recorded under (reports, notices, claims, tickets) stays.
        if obj is not None and services.contract_in_use(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("fees")

    @admin.display(description=_("monthly fee"))
    def fee_today(self, obj) -> str:
        return f"{obj.monthly_fee} {obj.terms.currency}"

    @admin.display(description=_("status"))
    def status_label(self, obj) -> str:
        return obj.status.label

    def save_model(self, request, obj, form, change):
        # Through the services, so that stored reports follow and a higher fee is announced.
        data = form.cleaned_data
        if not change:
            # The account managers are many-to-many: the admin saves them after the contract (save_related).
            fields = {name: data[name] for name in ContractForm.Meta.fields if name != "account_managers"}
            created = services.contract_create(monthly_fee=data["monthly_fee"], actor=request.user, **fields)
            obj.pk = created.pk
            return
        changes = {name: data[name] for name in form.changed_data if name in services.CONTRACT_FIELDS}
        if changes:
            services.contract_update(contract=obj, changes=changes, actor=request.user)
        if data.get("monthly_fee") is not None:
            services.contract_fee_change(
                contract=obj, monthly_fee=data["monthly_fee"], effective_from=data["fee_from"], actor=request.user
            )


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    """Notices as the services wrote and sent them; a failed one can be sent again."""

    list_display = [
        "customer",
        "kind",
        "effective_on",
        "sent_at",
        "received_on",
        "applies_from",
        "termination_until",
        "failed_at",
    ]
    list_filter = ["kind", ("failed_at", admin.EmptyFieldListFilter), ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["customer__name"]
    list_select_related = ["customer"]
    actions = ["send_again"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Notice._meta.concrete_fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send the selected notices again"))
    def send_again(self, request, queryset):
        count = notices.send_again(queryset)
        self.message_user(request, _("%(n)d notices will be sent again.") % {"n": count})
