"""The audit log in the admin: read, filtered, searched and downloaded, never changed."""

from __future__ import annotations

import json

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from audit.models import Action, AuditEvent
from core import spreadsheet


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "actor_name", "ip", "customer", "ticket_number", "subject_name", "what"]
    list_filter = ["action", "at", "customer"]
    search_fields = ["actor_name", "ticket_number", "subject_name"]
    list_select_related = ["customer"]
    # Counting every row of a log this long on each page costs more than it tells.
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("csv/", self.admin_site.admin_view(self.csv_view), name="audit_auditevent_csv"),
            *super().get_urls(),
        ]

    def csv_view(self, request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
        """The list as filtered and searched on the page, every row of it, as a spreadsheet in the
        reader's language (Swedish Excel: semicolons)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            events = self.get_changelist_instance(request).queryset
        except IncorrectLookupParameters:
            return HttpResponse(
                _("These filters cannot be read."), status=400, content_type="text/plain; charset=utf-8"
            )
        fmt = "sv" if get_language() == "sv" else "en"
        response = StreamingHttpResponse(csv_lines(events, fmt), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="audit-{timezone.localdate():%Y-%m-%d}-{fmt}.csv"'
        return response


class _Line:
    """Where the CSV writer writes: it keeps the last line for the stream to hand on."""

    value = ""

    def write(self, text: str) -> None:
        self.value += text

    def take(self) -> str:
        text, self.value = self.value, ""
        return text


def columns() -> list[str]:
    return [
        _("when"),
        _("what happened"),
        _("user name"),
        _("address"),
        _("customer"),
        _("ticket number"),
        _("whose user name"),
        _("what"),
        _("detail"),
    ]


def csv_lines(events, fmt: str):
    """The rows a few thousand at a time: a long log is never held in memory whole."""
    line = _Line()
    writer = spreadsheet.writer(line, fmt)
    writer.writerow(columns())
    yield line.take()
    for event in events.iterator(chunk_size=2000):
        writer.writerow(
            [
                timezone.localtime(event.at).isoformat(sep=" ", timespec="seconds"),
                Action(event.action).label,
                spreadsheet.text(event.actor_name),
                event.ip or "",
                spreadsheet.text(event.customer.name if event.customer else ""),
                spreadsheet.text(event.ticket_number),
                spreadsheet.text(event.subject_name),
                spreadsheet.text(event.what),
                spreadsheet.text(json.dumps(event.detail, ensure_ascii=False) if event.detail else ""),
            ]
        )
        yield line.take()
