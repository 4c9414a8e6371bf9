from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from contracts.models import ServiceTerms
from sla.models import Alert, AlertRoute, MonthlyReport, Outage, OutageUpdate, ReportRevision


class OutageUpdateInline(admin.TabularInline):
    """The public updates, as posted from the outage page (read only here)."""

    model = OutageUpdate
    extra = 0
    can_delete = False
    readonly_fields = ["posted_at", "author", "state", "text", "notify_customers"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Outage)
class OutageAdmin(admin.ModelAdmin):
    """Read here; outages are registered and changed through the API or the desk, so that a
    change marks its months' reports stale."""

    list_display = [
        "started_at",
        "ended_at",
        "kind",
        "responsibility",
        "service",
        "service_wide",
        "source",
        "confirmed",
        "short_notice_terms",
    ]
    list_filter = ["kind", "responsibility", "service", "service_wide", "source", "confirmed"]
    search_fields = ["description"]
    date_hierarchy = "started_at"
    filter_horizontal = ["contracts"]
    raw_id_fields = ["tickets"]
    inlines = [OutageUpdateInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # An outage is ended or corrected through the board or the API, never deleted: reports
        # and claims rest on it.
        return False


class ReportRevisionInline(admin.TabularInline):
    model = ReportRevision
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "reason", "before", "after"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(MonthlyReport)
class MonthlyReportAdmin(admin.ModelAdmin):
    list_display = [
        "month",
        "contract",
        "availability_percent",
        "discount_percent",
        "discount_amount",
        "currency",
        "stale",
    ]
    list_filter = ["month", "stale", "terms__slug"]
    search_fields = ["contract__customer__name"]
    list_select_related = ["contract__customer"]
    inlines = [ReportRevisionInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in MonthlyReport._meta.concrete_fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AlertRouteForm(forms.ModelForm):
    class Meta:
        model = AlertRoute
        fields = ["position", "name", "matchers", "service", "contracts"]

    def clean_matchers(self):
        matchers = self.cleaned_data["matchers"]
        if not isinstance(matchers, dict) or not matchers:
            raise ValidationError(_('Give the labels to match as an object, e.g. {"job": "sbc"}.'))
        if not all(isinstance(k, str) and isinstance(v, str) and k for k, v in matchers.items()):
            raise ValidationError(_("Each label and each value is a text."))
        return matchers

    def clean(self):
        data = super().clean() or {}
        service = data.get("service")
        if service and not ServiceTerms.objects.filter(slug=service).exists():
            self.add_error("service", _("No service has this slug."))
        elif service:
            others = sorted({c.terms.slug for c in data.get("contracts") or [] if c.terms.slug != service})
            if others:
                self.add_error(
                    "contracts", _("These contracts are of another service: %(s)s.") % {"s": ", ".join(others)}
                )
        return data


@admin.register(AlertRoute)
class AlertRouteAdmin(admin.ModelAdmin):
    """Where alerts go whose labels name no `service`, `contract` or `customer`: tried in order."""

    form = AlertRouteForm
    list_display = ["position", "name", "matchers", "service"]
    list_editable = ["position"]
    list_display_links = ["name"]
    filter_horizontal = ["contracts"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    """What monitoring sent, by fingerprint (read only): the outage each drafted, or none."""

    list_display = ["last_received_at", "source", "fingerprint", "status", "outage", "notifications"]
    list_filter = ["source", "status", ("outage", admin.EmptyFieldListFilter)]
    search_fields = ["fingerprint"]
    readonly_fields = [f.name for f in Alert._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
