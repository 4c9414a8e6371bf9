from django.contrib import admin
from django.utils.translation import gettext as _

from tickets.canned import PLACEHOLDERS
from tickets.models import (
    Attachment,
    AttachmentReference,
    CannedReply,
    InboundEmail,
    Message,
    Notification,
    Ticket,
    TicketEvent,
    TimeEntry,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TicketEventInline(ReadOnlyInline):
    model = TicketEvent
    fields = readonly_fields = ("at", "actor", "field", "old_value", "new_value", "note")
    ordering = ["at", "id"]


class MessageInline(ReadOnlyInline):
    model = Message
    fields = readonly_fields = ("created_at", "author", "internal", "channel", "body")


class AttachmentReferenceInline(ReadOnlyInline):
    """Links to files kept elsewhere: added through TMF621, never changed or removed here."""

    model = AttachmentReference
    fields = readonly_fields = ("created_at", "added_by", "name", "url", "mime_type", "size", "description")


class TimeEntryInline(ReadOnlyInline):
    model = TimeEntry
    fields = readonly_fields = ("worked_on", "user", "minutes", "note")


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Tickets change through the desk's actions; here they are read, searched and inspected."""

    list_display = [
        "number",
        "customer",
        "category",
        "urgent",
        "status",
        "received_at",
        "service_start_due",
        "service_started_at",
        "assignee",
    ]
    list_filter = ["status", "category", "urgent", "channel", "classification", "terms__slug"]
    search_fields = ["number", "a_number", "b_number", "customer__name"]
    list_select_related = ["customer", "assignee"]
    date_hierarchy = "received_at"
    inlines = [MessageInline, AttachmentReferenceInline, TimeEntryInline, TicketEventInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Ticket._meta.concrete_fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin):
    """The history is append-only: nobody edits or deletes it."""

    list_display = ["ticket", "at", "actor", "field", "old_value", "new_value"]
    list_filter = ["field"]
    search_fields = ["ticket__number"]
    list_select_related = ["ticket", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["filename", "ticket", "content_type", "size", "uploaded_by", "created_at"]
    search_fields = ["filename", "ticket__number"]
    list_select_related = ["ticket", "uploaded_by"]
    readonly_fields = ["ticket", "message", "file", "filename", "content_type", "size", "uploaded_by"]

    def has_add_permission(self, request):
        return False


@admin.register(TimeEntry)
class TimeEntryAdmin(admin.ModelAdmin):
    list_display = ["ticket", "user", "worked_on", "minutes", "note"]
    list_filter = ["worked_on"]
    search_fields = ["ticket__number", "note"]
    list_select_related = ["ticket", "user"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["ticket", "kind", "created_at", "sent_at", "failed_at", "attempts"]
    list_filter = ["kind", ("sent_at", admin.EmptyFieldListFilter), ("failed_at", admin.EmptyFieldListFilter)]
    search_fields = ["ticket__number", "subject"]
    list_select_related = ["ticket"]
    readonly_fields = [
        "ticket",
        "kind",
        "recipient_user",
        "recipients",
        "subject",
        "body",
        "created_at",
        "sent_at",
        "attempts",
        "last_error",
        "failed_at",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = ["received_at", "sender", "subject", "outcome", "ticket"]
    list_filter = ["outcome"]
    search_fields = ["sender", "subject", "message_id", "ticket__number"]
    list_select_related = ["ticket"]
    exclude = ["raw"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in InboundEmail._meta.concrete_fields if f.name != "raw"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    """Replies staff pick in the ticket's message box, one per language, placeholders filled."""

    list_display = ["title", "language", "active", "updated_at"]
    list_filter = ["language", "active"]
    search_fields = ["title", "body"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.base_fields["body"].help_text = _("Placeholders: %(names)s") % {
            "names": ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        }
        return form
