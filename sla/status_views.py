"""The public status page of a terms (D §10.2: the running operational status is available),
its Atom feed and JSON for monitoring tools, and the staff's updates to an outage.

Anyone may read them: they show an outage's kind, times and the updates staff wrote for the
public, never its internal description, tickets or customers. A signed-in customer also sees
its own contracts' outages."""

from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from contracts.models import ServiceTerms
from core.web import apply_errors
from sla import selectors, services
from sla.models import Outage, OutageKind
from sla.selectors import StatusBoard, StatusOutage
from sla.statuspage import DOCUMENTS, Document
from sla.views import OutageUpdateForm, outage_page_response


def _terms(slug: str) -> ServiceTerms:
    terms = ServiceTerms.objects.version_in_force(slug)
    if terms is None:
        raise Http404(_("No such terms."))
    return terms


def _respond(request: HttpRequest, slug: str, build) -> HttpResponse:
    """`build(board, zone)`'s response, in the terms' language (unless the visitor chose one with
    the language switch) and time zone, for this response only."""
    terms = _terms(slug)
    language = translation.get_language() if settings.LANGUAGE_COOKIE_NAME in request.COOKIES else terms.language
    zone = zoneinfo.ZoneInfo(terms.timezone)
    with translation.override(language), timezone.override(zone):
        response = build(selectors.status_board(terms, viewer=request.user, now=timezone.now()), zone)
    response["Content-Language"] = language
    return response


@require_GET
def status_page(request: HttpRequest, slug: str) -> HttpResponse:
    return _respond(
        request, slug, lambda board, zone: render(request, "sla/status.html", {"board": board, "zone": zone.key})
    )


def _local(moment: datetime.datetime | None, zone: zoneinfo.ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment else None


def _as_json(item: StatusOutage, zone: zoneinfo.ZoneInfo, page: str) -> dict:
    outage = item.outage
    return {
        "id": outage.pk,
        "url": f"{page}#outage-{outage.pk}",
        "kind": outage.kind,
        "title": _title(item, zone),
        "started_at": _local(outage.started_at, zone),
        "ended_at": _local(outage.ended_at, zone),
        "service_wide": outage.service_wide,
        "your_contracts": list(item.own_contract_ids),
        "updates": [
            {
                "id": update.pk,
                "posted_at": _local(update.posted_at, zone),
                "state": update.state or None,
                "text": update.text,
            }
            for update in item.updates
        ],
    }


@require_GET
def status_json(request: HttpRequest, slug: str) -> HttpResponse:
    return _respond(
        request,
        slug,
        lambda board, zone: JsonResponse(
            _board_json(board, zone, request.build_absolute_uri(reverse("status-page", kwargs={"slug": slug}))),
            json_dumps_params={"ensure_ascii": False},
        ),
    )


def _board_json(board: StatusBoard, zone: zoneinfo.ZoneInfo, page: str) -> dict:
    return {
        "terms": {
            "slug": board.terms.slug,
            "version": board.terms.version,
            "name": board.terms.name,
            "timezone": zone.key,
            "language": board.terms.language,
        },
        "page": page,
        "generated_at": _local(board.now, zone),
        "state": board.state,
        "state_text": board.state_label,
        "ongoing": [_as_json(item, zone, page) for item in board.ongoing],
        "planned": [_as_json(item, zone, page) for item in board.ahead],
        "recent": [_as_json(item, zone, page) for item in board.recent],
        "recent_since": _local(board.since, zone),
    }


@require_GET
def statuspage_api(request: HttpRequest, slug: str, document: str) -> HttpResponse:
    """The board in the shape of Atlassian Statuspage's API v2 (`sla.statuspage`), for tools
    that read a Statuspage."""
    page = request.build_absolute_uri(reverse("status-page", kwargs={"slug": slug}))

    def build(board: StatusBoard, zone: zoneinfo.ZoneInfo) -> HttpResponse:
        read = Document(board, zone=zone, page=page, title=lambda item: _title(item, zone))
        return JsonResponse(DOCUMENTS[document](read), json_dumps_params={"ensure_ascii": False})

    return _respond(request, slug, build)


def _title(item: StatusOutage, zone: zoneinfo.ZoneInfo) -> str:
    """ "Outage 2026-10-20 10:00–12:15 (Europe/Mariehamn)": the kind and times, nothing internal."""
    outage = item.outage
    kind = _("Planned system work") if outage.kind == OutageKind.PLANNED else _("Outage")
    start = outage.started_at.astimezone(zone)
    if outage.ended_at is None:
        words = (
            _("%(kind)s from %(start)s (%(zone)s)")
            if outage.started_at > timezone.now()
            else _("%(kind)s since %(start)s (%(zone)s)")
        )
        return words % {"kind": kind, "start": f"{start:%Y-%m-%d %H:%M}", "zone": zone.key}
    end = outage.ended_at.astimezone(zone)
    shown_end = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
    return f"{kind} {start:%Y-%m-%d %H:%M}–{shown_end} ({zone.key})"


@require_GET
def status_feed(request: HttpRequest, slug: str) -> HttpResponse:
    page = request.build_absolute_uri(reverse("status-page", kwargs={"slug": slug}))
    return _respond(request, slug, lambda board, zone: _feed(board, zone, page, request.build_absolute_uri()))


def _feed(board: StatusBoard, zone: zoneinfo.ZoneInfo, page: str, address: str) -> HttpResponse:
    """An entry per outage, its updates newest first; an entry changes when an update is posted."""
    feed = Atom1Feed(
        title=_("Operational status: %(terms)s") % {"terms": board.terms.name},
        link=page,
        description=board.state_label,
        language=translation.get_language(),
        feed_url=address,
        feed_guid=page,
    )
    for item in [*board.ongoing, *board.ahead, *board.recent]:
        outage = item.outage
        lines = [
            f"<p><strong>{escape(update.posted_at.astimezone(zone).strftime('%Y-%m-%d %H:%M'))}</strong>"
            f"{' · ' + escape(update.get_state_display()) if update.state else ''}</p>{linebreaks(escape(update.text))}"
            for update in reversed(item.updates)
        ]
        latest = item.latest.posted_at if item.latest else None
        feed.add_item(
            title=_title(item, zone),
            link=f"{page}#outage-{outage.pk}",
            unique_id=f"{page}#outage-{outage.pk}",
            description="".join(lines) or escape(_title(item, zone)),
            pubdate=outage.created_at,
            updateddate=max(filter(None, [latest, outage.updated_at])),
        )
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    feed.write(response, "utf-8")
    return response


@staff_member_required
@require_POST
def outage_post_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff post a public update from the outage page; refused input is shown there again."""
    outage = get_object_or_404(Outage, pk=pk)
    form = OutageUpdateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.outage_post_update(
                outage=outage, text=data["text"], state=data["state"], notify=data["notify"], actor=request.user
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(
                request,
                _("The update is on the status page.")
                if not data["notify"]
                else _("The update is on the status page and is e-mailed to the affected customers."),
            )
            return redirect("sla-outage", pk=outage.pk)
    return outage_page_response(request, outage.pk, update_form=form)
