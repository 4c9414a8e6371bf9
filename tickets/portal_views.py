"""What customers expect of a ticket page beyond writing on it: colleagues who receive its
e-mails too, pictures shown rather than only downloaded, and a "How did we do?" when it is
resolved; and what staff see of these. Thin views: a form, a service call, a template."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from audit import services as audit
from contracts.models import ContactPerson
from core.web import month_asked
from tickets import attachments, satisfaction, selectors, services
from tickets.forms import SatisfactionForm, WatcherForm
from tickets.models import Attachment, Satisfaction, Status, Ticket

# An image is shown from our own pages only, as an image: nothing in it runs, nothing it names is
# fetched, and another site cannot embed it.
PREVIEW_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def _ticket_for(request: HttpRequest, number: str) -> Ticket:
    # Another customer's ticket is not found, never forbidden.
    return get_object_or_404(selectors.tickets_for(request.user), number=number)


def _shown_to_customer(attachment: Attachment) -> bool:
    return not (attachment.message is not None and attachment.message.internal)


# What the ticket pages add (tickets.views.portal_ticket and desk_ticket) -----------------------


def portal_ticket_extras(ticket: Ticket, files) -> dict:
    files = [file for file in files if _shown_to_customer(file)]
    answer = satisfaction.answer_of(ticket)
    return {
        "watchers": selectors.watchers_of(ticket),
        "watcher_form": WatcherForm(ticket=ticket) if ticket.status != Status.CLOSED else None,
        "satisfaction_answer": answer,
        "satisfaction_form": SatisfactionForm() if answer is None and services.satisfaction_askable(ticket) else None,
        "previews": _previewable(files),
        "references": selectors.references_of(ticket),
    }


def desk_ticket_extras(ticket: Ticket) -> dict:
    return {
        "watchers": selectors.watchers_of(ticket),
        "references": selectors.references_of(ticket),
        "satisfaction_answer": Satisfaction.objects.filter(ticket=ticket).select_related("answered_by").first(),
        "previews": _previewable(ticket.attachments.only("id", "ticket", "file", "filename", "content_type")),
    }


def _previewable(files) -> set[int]:
    return {file.pk for file in files if attachments.preview_type(file)}


# Colleagues on a ticket's e-mails --------------------------------------------------------------


@login_required
@require_POST
def portal_watcher_add(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_for(request, number)
    if request.user.is_staff:
        raise Http404  # staff see and remove colleagues on the desk; adding them is the customer's
    form = WatcherForm(request.POST, ticket=ticket)
    try:
        if not form.is_valid():
            raise ValidationError(list(form.errors["colleague"]))
        kind, pk = form.cleaned_data["colleague"]
        person = (get_user_model() if kind == "user" else ContactPerson).objects.filter(pk=pk).first()
        if person is None:
            raise ValidationError(_("Choose a colleague from the list."))
        chosen: dict[str, Any] = {kind: person}  # user= or contact=
        watcher = services.watcher_add(ticket=ticket, actor=request.user, **chosen)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except services.TransitionNotAllowed as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(name)s now receives this ticket's e-mails too.") % {"name": watcher.name})
    return redirect("portal-ticket", number=ticket.number)


@login_required
@require_POST
def portal_watcher_remove(request: HttpRequest, number: str, watcher_id: int) -> HttpResponse:
    return _remove_watcher(request, number, watcher_id, back="portal-ticket")


@staff_member_required
@require_POST
def desk_watcher_remove(request: HttpRequest, number: str, watcher_id: int) -> HttpResponse:
    return _remove_watcher(request, number, watcher_id, back="desk-ticket")


def _remove_watcher(request: HttpRequest, number: str, watcher_id: int, *, back: str) -> HttpResponse:
    ticket = _ticket_for(request, number)
    watcher = get_object_or_404(ticket.watchers.select_related("user", "contact"), pk=watcher_id)
    services.watcher_remove(watcher=watcher, actor=request.user)
    messages.success(request, _("%(name)s no longer receives this ticket's e-mails.") % {"name": watcher.name})
    return redirect(back, number=ticket.number)


# Image previews --------------------------------------------------------------------------------


@login_required
@require_safe
def attachment_preview(request: HttpRequest, number: str, attachment_id: int) -> FileResponse:
    """An image attachment shown inline, under the download's isolation (tickets.views.
    attachment_download); anything that is not verifiably a raster image is not found here."""
    ticket = _ticket_for(request, number)
    attachment = get_object_or_404(ticket.attachments.select_related("message"), pk=attachment_id)
    if not request.user.is_staff and not _shown_to_customer(attachment):
        raise Http404
    content_type = attachments.preview_type(attachment)
    if content_type is None:
        raise Http404
    if request.user.is_staff:
        audit.record_view(
            request, customer_id=ticket.customer_id, ticket_number=ticket.number, detail={"file": attachment.filename}
        )
    response = FileResponse(
        attachment.file.storage.open(attachment.file.name, "rb"),
        as_attachment=False,
        filename=attachment.filename,
        content_type=content_type,
    )
    for header, value in PREVIEW_HEADERS.items():
        response[header] = value
    return response


# How did we do? --------------------------------------------------------------------------------


@login_required
@require_POST
def portal_satisfaction(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_for(request, number)
    if request.user.is_staff:
        raise Http404  # the answer is the customer's
    form = SatisfactionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("portal-ticket", number=ticket.number)
    try:
        services.satisfaction_record(ticket=ticket, actor=request.user, **form.cleaned_data)
    except services.TransitionNotAllowed as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Thank you for your answer."))
    return redirect("portal-ticket", number=ticket.number)


# The link in the resolved e-mail records on POST only: mail scanners (Safe Links and the like)
# open every link of a mail as it arrives, and a GET that recorded would answer for the customer,
# "bad" as readily as "good". The GET shows the chosen answer ready to send with one more click,
# and room for a comment. The page names the ticket by its number and nothing else: whoever
# holds the link holds the e-mail, which says more.
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def satisfaction_link(request: HttpRequest, token: str, score: str) -> HttpResponse:
    if score not in Satisfaction.Score.values:
        raise Http404
    try:
        ticket = satisfaction.ticket_for(token)
    except satisfaction.LinkExpired:
        return _link_refused(
            request,
            _("This link has expired: answers are taken for %(days)d days after the e-mail was sent.")
            % {"days": satisfaction.LINK_MAX_AGE.days},
        )
    except satisfaction.LinkInvalid:
        return _link_refused(
            request,
            _(
                "This link is not valid. Copy the whole address from the e-mail, or "
                "answer on the ticket's page in the portal."
            ),
        )
    form = SatisfactionForm(request.POST if request.method == "POST" else None, initial={"score": score})
    context = {"number": ticket.number, "form": form, "answer": satisfaction.answer_of(ticket)}
    if request.method == "POST" and form.is_valid():
        try:
            context["answer"] = services.satisfaction_record(ticket=ticket, **form.cleaned_data)
        except services.TransitionNotAllowed as error:
            return _link_refused(request, str(error), status=409)
        return render(request, "tickets/satisfaction_link.html", {**context, "thanks": True})
    status = 400 if form.errors else 200
    if not services.satisfaction_askable(ticket):
        return _link_refused(
            request,
            _("Ticket %(number)s is not resolved, so there is nothing to rate yet.") % {"number": ticket.number},
            status=409,
        )
    return render(request, "tickets/satisfaction_link.html", context, status=status)


def _link_refused(request: HttpRequest, reason: str, status: int = 400) -> HttpResponse:
    return render(request, "tickets/satisfaction_link.html", {"refused": reason}, status=status)


@staff_member_required
def desk_satisfaction(request: HttpRequest) -> HttpResponse:
    """Per customer, the month's answers: the share of good ones and how many of each; months
    run from midnight to midnight in the desk's time zone."""
    month = month_asked(request)
    zone = settings.TIME_ZONE
    rows = satisfaction.monthly_scores(month, zone)
    good, bad = sum(row["good"] for row in rows), sum(row["bad"] for row in rows)
    return render(
        request,
        "tickets/satisfaction.html",
        {
            "month": month,
            "zone": zone,
            "rows": rows,
            "comments": satisfaction.comments_in(month, zone),
            "total": {
                "good": good,
                "bad": bad,
                "answers": good + bad,
                "share": round(100 * good / (good + bad), 1) if good + bad else None,
            },
        },
    )
