from django.contrib import admin

from sla.models import MonthlyReport, Outage, OutageUpdate, ReportRevision


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

    list_display = ["started_at", "ended_at", "kind", "responsibility", "service_wide", "short_notice_terms"]
    list_filter = ["kind", "responsibility", "service_wide"]
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
