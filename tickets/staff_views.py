"""The desk pages a staff member keeps for themselves: their notices and their switches for them
(tickets.staff_notices). Each shows and changes only the signed-in staff member's own rows."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contracts.models import Contract
from tickets import history, staff_notices
from tickets.forms import StaffPreferencesForm
from tickets.models import StaffPreferences


@staff_member_required
def notices(request: HttpRequest) -> HttpResponse:
    """Newest first; opening a ticket marks what was said about it read (views.desk_ticket)."""
    page = Paginator(staff_notices.notices_for(request.user), 50).get_page(request.GET.get("page"))
    for notice in page.object_list:
        notice.when = history.local_time(notice.created_at, notice.ticket.terms.timezone)
    return render(request, "tickets/notices.html", {"page": page})


@staff_member_required
@require_POST
def notices_read(request: HttpRequest) -> HttpResponse:
    count = staff_notices.mark_all_read(request.user)
    messages.success(request, _("All notices are marked read.") if count else _("There were no unread notices."))
    return redirect("desk-notices")


@staff_member_required
def preferences(request: HttpRequest) -> HttpResponse:
    form = StaffPreferencesForm(request.POST or None, instance=StaffPreferences.of(request.user))
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your settings are saved."))
        return redirect("desk-preferences")
    managed = Contract.objects.filter(account_managers=request.user.pk).select_related("customer", "terms")
    return render(request, "tickets/preferences.html", {"form": form, "managed": managed})
