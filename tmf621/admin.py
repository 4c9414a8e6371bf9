from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tmf621.models import Event, Listener


@admin.register(Listener)
class ListenerAdmin(admin.ModelAdmin):
    """Staff see here which listeners were disabled after failing, and why."""

    list_display = ["callback", "owner", "customer", "failures", "disabled_at", "last_error"]
    list_filter = [("disabled_at", admin.EmptyFieldListFilter), "customer"]
    search_fields = ["callback", "owner__username", "customer__name"]
    # Only the disabling is staff's to change: the rest is the owner's registration, whose query
    # and callback the hub checked.
    readonly_fields = ["owner", "customer", "callback", "query", "failures", "last_error", "created_at"]
    actions = ["enable"]

    @admin.action(description=_("Deliver to the selected listeners again"))
    def enable(self, request, queryset):
        queryset.update(disabled_at=None, failures=0)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["id", "event_type", "ticket", "listener", "created_at", "attempts", "delivered_at", "last_error"]
    list_filter = ["event_type", ("delivered_at", admin.EmptyFieldListFilter)]
    list_select_related = ["ticket", "listener"]
    readonly_fields = [field.name for field in Event._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
