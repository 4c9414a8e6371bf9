"""SLA pages: the staff's outage board and per-contract page, the billing export, and the
customers' view of their availability."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from decimal import Decimal, InvalidOperation
from typing import cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit import services as audit
from contracts.api.serializers import contract_notices
from contracts.delivery import delivery_status
from contracts.models import Contract, NoticeChannel, ServiceTerms, TermsBook
from core.api.params import whole_number
from core.months import FIRST_YEAR, MonthError, add_months, month_text, months_from, parse_month, previous_month
from core.web import apply_errors
from sla import billing, claims, customer_views, monitoring, reports, selectors, services
from sla.models import (
    Claim,
    ClaimKind,
    MonthlyReport,
    Outage,
    OutageKind,
    OutsideCap,
    Responsibility,
    UpdateState,
    claim_kind_choices,
)
from tickets import bulk, history
from tickets.models import Ticket

LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class OutageForm(forms.Form):
    started_at = forms.DateTimeField(label=gettext_lazy("Started"), widget=LOCAL_INPUT)
    ended_at = forms.DateTimeField(
        label=gettext_lazy("Ended"),
        widget=LOCAL_INPUT,
        required=False,
        help_text=gettext_lazy("Empty while it goes on."),
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=OutageKind.choices)
    responsibility = forms.ChoiceField(label=gettext_lazy("Responsibility"), choices=Responsibility.choices)
    announced_at = forms.DateTimeField(
        label=gettext_lazy("Announced"),
        widget=LOCAL_INPUT,
        required=False,
        help_text=gettext_lazy("Planned work only."),
    )
    announced_via = forms.ChoiceField(
        label=gettext_lazy("Announced by"),
        choices=[("", "–"), *NoticeChannel.choices],
        required=False,
        help_text=gettext_lazy(
            "The notice counts from when the customer has it: the terms say how many days after a letter or an e-mail."
        ),
    )
    service = forms.ChoiceField(
        label=gettext_lazy("Service"),
        required=False,
        help_text=gettext_lazy(
            "With no contracts named, the outage concerns every active contract of this service and no other."
        ),
    )
    contracts = forms.CharField(
        label=gettext_lazy("Contracts"),
        required=False,
        help_text=gettext_lazy("Contract numbers, comma-separated; empty: every active contract of the service."),
    )
    tickets = forms.CharField(
        label=gettext_lazy("Tickets"), required=False, help_text=gettext_lazy("Ticket numbers, comma-separated.")
    )
    description = forms.CharField(
        label=gettext_lazy("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One choice per service, named as its newest terms version is.
        names = dict(ServiceTerms.objects.order_by("slug", "version").values_list("slug", "name"))
        cast(forms.ChoiceField, self.fields["service"]).choices = [
            ("", _("The contracts' service, or the only one")),
            *sorted(names.items(), key=lambda item: item[1]),
        ]

    def clean_contracts(self):
        ids = [part.strip().lstrip("#") for part in self.cleaned_data["contracts"].split(",") if part.strip()]
        if any(not whole_number(i) for i in ids):
            raise ValidationError(_("Give contract numbers such as 12, 15."))
        found = list(Contract.objects.filter(pk__in=[int(i) for i in ids]))
        missing = sorted(set(ids) - {str(c.pk) for c in found})
        if missing:
            raise ValidationError(_("No such contracts: %(ids)s.") % {"ids": ", ".join(missing)})
        return found

    def clean_tickets(self):
        numbers = [part.strip().upper() for part in self.cleaned_data["tickets"].split(",") if part.strip()]
        found = list(Ticket.objects.filter(number__in=numbers))
        missing = sorted(set(numbers) - {t.number for t in found})
        if missing:
            raise ValidationError(_("No such tickets: %(numbers)s.") % {"numbers": ", ".join(missing)})
        return found


class OutageUpdateForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Update for the status page"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=gettext_lazy(
            "Public: every visitor of the status page reads it. No customer names, no internal notes."
        ),
    )
    state = forms.ChoiceField(label=gettext_lazy("State"), choices=[("", "–"), *UpdateState.choices], required=False)
    notify = forms.BooleanField(
        label=gettext_lazy("E-mail it to every customer with an affected contract"), required=False
    )


def _aware(value):
    # The board's times are read in the desk's own time zone, as its label says.
    return value.replace(tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)) if value else None


def _register(request: HttpRequest, form: OutageForm) -> Outage | None:
    """The outage a valid form describes, registered through the service (its errors put on the form)."""
    if request.method != "POST" or not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        outage = services.outage_register(
            started_at=_aware(data["started_at"]),
            ended_at=_aware(data["ended_at"]),
            announced_at=_aware(data["announced_at"]),
            announced_via=data["announced_via"],
            kind=data["kind"],
            responsibility=data["responsibility"],
            description=data["description"],
            contracts=data["contracts"],
            service=data["service"] or None,
            tickets=data["tickets"],
            actor=request.user,
        )
    except ValidationError as error:
        apply_errors(form, error)
        return None
    messages.success(request, _("The outage is registered."))
    return outage


@staff_member_required
def outage_board(request: HttpRequest) -> HttpResponse:
    form = OutageForm(request.POST or None)
    if _register(request, form):
        return redirect("sla-board")
    now = timezone.now()
    since = now - datetime.timedelta(days=30)
    # Recent outages, and older ones whose responsibility is still to settle (D §10.4).
    recent = Outage.objects.filter(
        Q(ended_at__isnull=True) | Q(ended_at__gte=since), started_at__lte=now, confirmed=True
    )
    to_settle = selectors.contradicted().filter(started_at__gte=now - datetime.timedelta(days=400))
    outages = list(
        Outage.objects.filter(Q(pk__in=recent.values("pk")) | Q(pk__in=to_settle.values("pk")))
        .prefetch_related("contracts__customer", "tickets")
        .order_by("-started_at")[:200]
    )
    rows = [(outage, selectors.unsettled(outage)) for outage in outages]
    return render(
        request,
        "sla/board.html",
        {
            "form": form,
            "rows": rows,
            "zone": settings.TIME_ZONE,
            "last_month": _last_month(),
            "now": now,
            "upcoming": selectors.planned_ahead(now),
            "status_terms": list(ServiceTerms.objects.in_force()),
            "pending": monitoring.pending(),
            "unrouted": monitoring.unrouted(),
            "responsibilities": Responsibility.choices,
        },
    )


@staff_member_required
def outage_new(request: HttpRequest) -> HttpResponse:
    """Register an outage on a page of its own: planned work ahead (announced maintenance) too."""
    form = OutageForm(request.POST or None, initial={"kind": request.GET.get("kind")})
    outage = _register(request, form)
    if outage:
        return redirect("sla-outage", pk=outage.pk)
    return render(
        request,
        "sla/outage_form.html",
        {"form": form, "zone": settings.TIME_ZONE, "all_terms": ServiceTerms.objects.in_force()},
        status=400 if form.errors else 200,
    )


class OutageEditForm(OutageForm):
    """The outage's own facts; its tickets are linked one by one on its page."""

    tickets = None  # type: ignore[assignment]  # Django's way to drop a parent form's field, which the stubs cannot say


def _initial(outage: Outage) -> dict:
    return {
        **{field: getattr(outage, field) for field in services.FIELDS},
        "contracts": ", ".join(str(c.pk) for c in outage.contracts.all()),
        "service": outage.service,
    }


def _changes(outage: Outage, data: dict) -> dict:
    """What the form changes, and only that: the report's audit names the fields changed, and an
    unchanged end keeps its seconds."""
    changes = {}
    for field in services.FIELDS:
        value, current = data[field], getattr(outage, field)
        if field.endswith("_at"):
            value = _aware(value)
            if current is not None and value is not None and value == current.replace(second=0, microsecond=0):
                continue
        if value != current:
            changes[field] = value
    if {c.pk for c in data["contracts"]} != {c.pk for c in outage.contracts.all()}:
        changes["contracts"] = data["contracts"]
    if data["service"] and data["service"] != outage.service:
        changes["service"] = data["service"]
    return changes


@staff_member_required
def outage_edit(request: HttpRequest, pk: int) -> HttpResponse:
    outage = get_object_or_404(Outage.objects.prefetch_related("contracts"), pk=pk)
    form = OutageEditForm(request.POST or None, initial=_initial(outage))
    if request.method == "POST" and form.is_valid():
        changes = _changes(outage, form.cleaned_data)
        try:
            services.outage_update(outage=outage, changes=changes, actor=request.user)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The outage is changed.") if changes else _("Nothing was changed."))
            return redirect("sla-outage", pk=outage.pk)
    return render(
        request,
        "sla/outage_form.html",
        {"form": form, "outage": outage, "zone": settings.TIME_ZONE, "all_terms": ServiceTerms.objects.in_force()},
        status=400 if form.errors else 200,
    )


TICKET_NUMBER = re.compile(r"^[A-Z0-9-]{1,32}$")


def _link_by_number(request: HttpRequest, outage: Outage) -> str | None:
    """Link (or unlink) the ticket whose number staff typed; the error to show, or None."""
    number = request.POST.get("number", "").strip().upper()
    unlink = request.POST.get("action") == "unlink"
    if not number:
        return _("Give a ticket number, e.g. DST-2026-000042.")
    ticket = Ticket.objects.filter(number=number).first() if TICKET_NUMBER.match(number) else None
    if ticket is None:
        return _("There is no ticket %(number)s.") % {"number": number[:40]}
    if unlink and not outage.tickets.filter(pk=ticket.pk).exists():
        return _("%(number)s is not linked to this outage.") % {"number": ticket.number}
    try:
        services.outage_link_ticket(outage=outage, ticket=ticket, link=not unlink, actor=request.user)
    except ValidationError as refused:
        return " ".join(refused.messages)
    done = (
        _("%(number)s is no longer linked to the outage.") if unlink else _("%(number)s is linked to the outage.")
    ) % {"number": ticket.number}
    messages.success(request, done)
    return None


@staff_member_required
def outage_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One outage: its times in the staff's zone and its terms' zones, what it affects, its
    tickets (linked and unlinked by number), its public updates and what it costs to settle."""
    if request.method == "POST":
        outage = get_object_or_404(Outage.objects.prefetch_related("tickets"), pk=pk)
        error = _link_by_number(request, outage)
        if error is None:
            return redirect("sla-outage", pk=outage.pk)
        return outage_page_response(request, pk, error=error)
    return outage_page_response(request, pk)


def outage_page_response(request: HttpRequest, pk: int, *, error: str | None = None, update_form=None) -> HttpResponse:
    """The outage page, with a refused link or update shown (400)."""
    outage = get_object_or_404(
        Outage.objects.prefetch_related(
            "contracts__customer",
            "contracts__terms",
            "tickets__customer",
            "claims__contract__customer",
            "claims__contract__terms",
            "updates__author",
            "updates__mails__customer",
        ),
        pk=pk,
    )
    now = timezone.now()
    staff_zone = timezone.get_current_timezone_name()
    zones = selectors.outage_zones(outage)
    times = [
        (label, zoned_time(moment, staff_zone, zones))
        for label, moment in (
            (_("Started"), outage.started_at),
            (_("Ended"), outage.ended_at),
            (_("Announced"), outage.announced_at),
        )
        if moment is not None
    ]
    going_on = outage.started_at <= now and (outage.ended_at is None or outage.ended_at > now)
    context = {
        "outage": outage,
        "times": times,
        "zones": zones,
        "staff_zone": staff_zone,
        "error": error,
        "unsettled": selectors.unsettled(outage),
        "number": request.POST.get("number", "")[:40],
        "ahead": outage.started_at > now,
        "going_on": going_on,
        "update_form": update_form or OutageUpdateForm(),
        "status_pages": _status_pages(outage),
        "meanwhile": list(selectors.tickets_meanwhile(outage, now)),
        "responsibilities": Responsibility.choices,
        # The terms whose clauses the page cites.
        "all_terms": list(ServiceTerms.objects.in_force()),
    }
    refused = error or (update_form is not None and update_form.errors)
    return render(request, "sla/outage.html", context, status=400 if refused else 200)


def _status_pages(outage: Outage) -> list[ServiceTerms]:
    """The status pages an outage's updates show on: its contracts' terms, or its service's
    terms in force when it hits the whole service."""
    if outage.service_wide:
        in_force = ServiceTerms.objects.in_force()
        return list(in_force.filter(slug=outage.service) if outage.service else in_force)
    return sorted(
        {contract.terms.slug: contract.terms for contract in outage.contracts.all()}.values(),
        key=lambda terms: terms.slug,
    )


def zoned_time(moment: datetime.datetime, staff_zone: str, zones: list[tuple[str, list[str]]]) -> str:
    """A time in the staff member's zone, then in each zone of the outage's terms: "2026-10-06
    09:00 CEST (10:00 EEST: Dstny Alcom)"; the date again only where it differs."""
    shown = history.local_time(moment, staff_zone)
    beside = []
    for zone, names in zones:
        if zone == staff_zone:
            beside.append(_("the same for %(terms)s") % {"terms": ", ".join(names)})
            continue
        local = history.local_time(moment, zone)
        beside.append(f"{local if local[:10] != shown[:10] else local[11:]}: {', '.join(names)}")
    return f"{shown} ({'; '.join(beside)})" if beside else shown


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """Back to the page the form was on, when it is a path of ours."""
    target = request.POST.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return HttpResponseRedirect(target)
    return redirect(default)


def _outage_action(request: HttpRequest, act, done: str) -> HttpResponse:
    """Run one of the outage page's actions: its refusal or `done` as a message, then back."""
    try:
        act()
    except ValidationError as error:
        messages.error(request, " ".join(m for ms in error.message_dict.values() for m in ms))
    else:
        messages.success(request, done)
    return _back(request, "sla-board")


@staff_member_required
@require_POST
def outage_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """D §10.4: settle a contradiction by confirming the supplier's responsibility, with a reason."""
    outage = get_object_or_404(Outage, pk=pk)
    return _outage_action(
        request,
        lambda: services.outage_confirm_responsibility(
            outage=outage, note=request.POST.get("note", ""), actor=request.user
        ),
        _("The supplier's responsibility for outage %(id)d is confirmed.") % {"id": pk},
    )


@staff_member_required
@require_POST
def outage_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm an outage drafted by monitoring by deciding who answers for it."""
    outage = get_object_or_404(Outage, pk=pk, confirmed=False, discarded_at__isnull=True)
    return _outage_action(
        request,
        lambda: services.outage_update(
            outage=outage, changes={"responsibility": request.POST.get("responsibility", "")}, actor=request.user
        ),
        _("Outage %(id)d is confirmed: it counts as the month's figures say.") % {"id": pk},
    )


@staff_member_required
@require_POST
def outage_discard(request: HttpRequest, pk: int) -> HttpResponse:
    """Discard an outage drafted by monitoring as a false alarm, with the reason."""
    outage = get_object_or_404(Outage, pk=pk)
    return _outage_action(
        request,
        lambda: services.outage_discard(outage=outage, reason=request.POST.get("reason", ""), actor=request.user),
        _("Outage %(id)d is discarded as a false alarm.") % {"id": pk},
    )


@staff_member_required
@require_POST
def outage_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End an outage going on now: an open one, or planned work finished before its planned end."""
    now = timezone.now()
    outage = get_object_or_404(
        Outage.objects.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=now), started_at__lte=now), pk=pk
    )
    services.outage_update(outage=outage, changes={"ended_at": now}, actor=request.user)
    messages.success(request, _("The outage is ended."))
    return _back(request, "sla-board")


def _last_month() -> str:
    return month_text(previous_month(timezone.localdate()))


def _year_of_months(contract: Contract, now: datetime.datetime) -> list[selectors.ContractMonth]:
    today = timezone.localdate()
    start = max(contract.delivered_on or today, datetime.date(FIRST_YEAR, 1, 1))
    firsts = months_from(max(add_months(today, -11), start), today)
    shown = [(first.year, first.month) for first in firsts]
    return selectors.contract_months(contract, shown, now=now)


def _chart(year: list[selectors.ContractMonth], target) -> dict:
    """Bars for the twelve months: 100 % at the top, 99 % (or lower when needed) at the bottom."""
    floor = min([99.0] + [float(m.availability_percent) for m in year])
    bars = []
    for index, data in enumerate(year):
        value = float(data.availability_percent)
        height = 0 if floor == 100 else (value - floor) / (100 - floor) * 160
        bars.append(
            {
                "x": 52 + index * 52,
                "height": round(height, 1),
                "y": round(180 - height, 1),
                "value": data.availability_percent,
                "month": data.month,
                "below": target is not None and value < float(target),
                "discount": data.discount_percent,
            }
        )
    target_y = None
    if target is not None and float(target) >= floor:
        target_y = round(180 - (float(target) - floor) / (100 - floor) * 160, 1)
    return {"bars": bars, "floor": f"{floor:.2f}", "target_y": target_y, "width": 52 + len(bars) * 52}


def _contract_page(request, contract: Contract, template: str, extra: dict | None = None) -> HttpResponse:
    now, today = timezone.now(), timezone.localdate()
    try:
        year_month = selectors.parse_month(request.GET.get("month") or month_text(today), today=today)
    except ValidationError as error:
        messages.error(request, error.message_dict["month"][0])
        year_month = (today.year, today.month)
    month = selectors.contract_month(contract, *year_month, now=now)
    year = _year_of_months(contract, now)
    stored = MonthlyReport.objects.filter(contract=contract, month=month.first_day).first()
    # D §10.4 questions are the staff's to settle; customers see the month as computed.
    unsettled = (
        {outage.pk: numbers for outage, numbers in selectors.month_contradictions(*year_month)}
        if request.user.is_staff
        else {}
    )
    context = {
        "unsettled": [(line, unsettled.get(line.outage.pk)) for line in month.outages],
        "contract": contract,
        "month": month,
        "chart": _chart(year, month.terms.availability_target),
        "year": year,
        "zone": month.terms.timezone,
        "stored": stored,
        "delivery": delivery_status(contract, timezone.localdate()),
        "notices": contract_notices(contract),
        "fees": sorted(contract.fees.all(), key=lambda f: f.effective_from),
        "terms_today": contract.terms_in_force(timezone.localdate()),
        **(extra or {}),
    }
    return render(request, template, context)


@staff_member_required
def contract_sla(request: HttpRequest, pk: int) -> HttpResponse:
    contract = get_object_or_404(Contract.objects.select_related("customer", "terms").prefetch_related("fees"), pk=pk)
    return _contract_page(request, contract, "sla/contract.html", customer_views.contract_extras(contract))


@login_required
def portal_availability(request: HttpRequest, pk: int) -> HttpResponse:
    # Another customer's contract is not found, never forbidden.
    contract = get_object_or_404(
        Contract.objects.visible_to(request.user).select_related("customer", "terms").prefetch_related("fees"), pk=pk
    )
    return _contract_page(request, contract, "sla/portal_contract.html")


@staff_member_required
def ticket_outages(request: HttpRequest, number: str) -> HttpResponse:
    """The outages around a ticket's fault time, on the ticket's page, each linked or unlinked in
    one click (loaded by htmx into the page; a page of its own without JavaScript)."""
    ticket = get_object_or_404(Ticket.objects.select_related("contract", "terms", "customer"), number=number)
    error = done = None
    if request.method == "POST":
        outage = get_object_or_404(
            Outage, pk=int(request.POST["outage"]) if whole_number(request.POST.get("outage", "")) else 0
        )
        unlink = request.POST.get("action") == "unlink"
        try:
            services.outage_link_ticket(outage=outage, ticket=ticket, link=not unlink, actor=request.user)
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            done = (
                _("The ticket is no longer linked to the outage.")
                if unlink
                else _("The ticket is linked to the outage.")
            )
            if not request.headers.get("HX-Request"):
                messages.success(request, done)
                return redirect("desk-ticket", number=ticket.number)
    context = {
        "ticket": ticket,
        "outages": [
            (outage, any(t.pk == ticket.pk for t in outage.tickets.all()))
            for outage in selectors.outages_around(ticket)
        ],
        "zone": ticket.terms.timezone,
        "error": error,
        "done": done,
    }
    template = "sla/_ticket_outages.html" if request.headers.get("HX-Request") else "sla/ticket_outages.html"
    return render(request, template, context, status=400 if error else 200)


def _billing_month(request: HttpRequest) -> tuple[int, int]:
    text = request.GET.get("month") or request.POST.get("month") or _last_month()
    return selectors.parse_month(text, today=timezone.localdate())


@staff_member_required
def billing_page(request: HttpRequest) -> HttpResponse:
    """A month for billing: whether it can be billed, and what stands in the way."""
    try:
        year, month = _billing_month(request)
    except ValidationError as error:
        messages.error(request, error.message_dict["month"][0])
        year, month = selectors.parse_month(_last_month(), today=timezone.localdate())
    if request.method == "POST":
        try:
            done = billing.prepare(year, month)
        except reports.MonthNotOver as error:
            messages.error(request, str(error))
        except billing.WorkersAway:
            messages.error(
                request,
                _("The workers could not be reached; run manage.py sla_month %(month)s.")
                % {"month": f"{year:04d}-{month:02d}"},
            )
        else:
            if done is None:
                messages.success(
                    request, _("The month is being stored by the workers; this page shows when it is ready.")
                )
            else:
                messages.success(
                    request,
                    _("%(created)d reports stored, %(recomputed)d recomputed.")
                    % {"created": done[0], "recomputed": done[1]},
                )
        return redirect(f"{reverse('sla-billing')}?month={year:04d}-{month:02d}")
    month_data = billing.billing_month(year, month)
    return render(request, "sla/billing.html", {"billing": month_data})


@staff_member_required
def month_csv(request: HttpRequest) -> HttpResponse:
    """The month for billing, from stored reports that are all up to date (else 409 saying why).
    `format=sv` (the default in Swedish) opens in Swedish Excel; `format=en` has commas and points."""
    try:
        year, month = selectors.parse_month(request.GET.get("month"), today=timezone.localdate())
    except ValidationError as error:
        return _plain(error.message_dict["month"][0], 400)
    fmt = request.GET.get("format") or ("sv" if get_language() == "sv" else "en")
    if fmt not in billing.FORMATS:
        return _plain(_("Unknown format %(format)s: give sv or en.") % {"format": fmt[:20]}, 400)
    month_data = billing.billing_month(year, month)
    if not month_data.ready:
        return _plain("\n".join(month_data.problems), 409)
    audit.record_view(request, detail={"month": f"{year:04d}-{month:02d}", "format": fmt})
    response = HttpResponse(billing.write_csv(month_data, fmt), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sla-{year:04d}-{month:02d}-{fmt}.csv"'
    return response


def _plain(text: str, status: int) -> HttpResponse:
    return HttpResponse(text + "\n", status=status, content_type="text/plain; charset=utf-8")


@staff_member_required
def delivery(request: HttpRequest) -> HttpResponse:
    """Contracts not yet delivered, with the delivery marks of their terms (D §8.2, §9; staff)."""
    today = timezone.localdate()
    contracts = (
        Contract.objects.filter(
            Q(delivered_on__isnull=True, terminated_on__isnull=True) | Q(delivered_on__isnull=False)
        )
        .select_related("customer", "terms")
        .prefetch_related("fees")
        .order_by("signed_on", "pk")
    )
    waiting, late = [], []
    shown = list(contracts.filter(Q(delivered_on__isnull=True) | Q(delivered_on__gte=today - DELIVERED_LATE_SHOWN)))
    TermsBook.attach(shown)
    for contract in shown:
        status = delivery_status(contract, today)
        if contract.delivered_on is None:
            waiting.append(status)
        elif status.state == "delivered_late":
            late.append(status)
    # The terms of the contracts listed, whose clauses the page cites.
    all_terms = list({c.terms_id: c.terms for c in shown}.values())
    return render(request, "sla/delivery.html", {"rows": waiting, "late": late, "today": today, "all_terms": all_terms})


DELIVERED_LATE_SHOWN = datetime.timedelta(days=365)


class ClaimForm(forms.Form):
    contract = forms.ModelChoiceField(
        label=gettext_lazy("Contract"), queryset=Contract.objects.none(), empty_label=None
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("What is claimed"), choices=ClaimKind.choices, initial=ClaimKind.DISCOUNT
    )
    month = forms.CharField(
        label=gettext_lazy("Month claimed for"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month"}),
        help_text=gettext_lazy("YYYY-MM; a price discount is claimed for a month."),
    )
    outage = forms.ModelChoiceField(
        label=gettext_lazy("Outage"),
        queryset=Outage.objects.none(),
        required=False,
        help_text=gettext_lazy("For damages: the outage they arose from."),
    )
    amount = forms.DecimalField(label=gettext_lazy("Amount claimed"), max_digits=12, decimal_places=2, min_value=0)
    discovered_on = forms.DateField(label=gettext_lazy("Discovered on"), widget=forms.DateInput(attrs={"type": "date"}))
    tickets = forms.CharField(label=gettext_lazy("Tickets"), help_text=gettext_lazy("Ticket numbers, comma-separated."))
    description = forms.CharField(label=gettext_lazy("What happened"), widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        contracts = Contract.objects.visible_to(user).select_related("terms")
        contract = cast(forms.ModelChoiceField, self.fields["contract"])
        contract.queryset = contracts
        # Labels of this form's own (mypy takes no method assigned to one instance).
        setattr(contract, "label_from_instance", lambda c: f"{c.terms.name} (#{c.pk})")
        # The customer's terms, whose clauses the form cites (none where its contracts' differ).
        self.terms = [c.terms for c in contracts]
        cast(forms.ChoiceField, self.fields["kind"]).choices = claim_kind_choices(self.terms)
        since = timezone.now() - datetime.timedelta(days=400)
        outage = cast(forms.ModelChoiceField, self.fields["outage"])
        outage.queryset = Outage.objects.filter(
            selectors.touches_contracts(contracts), started_at__gte=since
        ).distinct()
        setattr(
            outage,
            "label_from_instance",
            lambda o: f"{timezone.localtime(o.started_at):%Y-%m-%d %H:%M} · {o.get_kind_display()}",
        )

    def clean_month(self):
        text = self.cleaned_data["month"]
        if not text:
            return None
        try:
            return parse_month(text)
        except MonthError as error:
            raise ValidationError(str(error)) from None

    def clean_tickets(self):
        numbers = [part.strip().upper() for part in self.cleaned_data["tickets"].split(",") if part.strip()]
        found = list(Ticket.objects.visible_to(self.user).filter(number__in=numbers))
        missing = sorted(set(numbers) - {t.number for t in found})
        if missing:
            raise ValidationError(_("No such tickets: %(numbers)s.") % {"numbers": ", ".join(missing)})
        return found


@login_required
def portal_claims(request: HttpRequest) -> HttpResponse:
    form = ClaimForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            claims.claim_file(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Your claim has been filed."))
            return redirect("portal-claims")
    mine = (
        Claim.objects.filter(contract__in=Contract.objects.visible_to(request.user))
        .select_related("contract__terms", "outage")
        .prefetch_related("tickets")
    )
    return render(request, "sla/portal_claims.html", {"form": form, "claims": mine})


@staff_member_required
def desk_claims(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        claim_id = request.POST.get("claim", "")
        if not (claim_id.isascii() and claim_id.isdigit()) or len(claim_id) > 18:
            return _plain(_("The field claim must be a claim's number."), 400)
        claim = get_object_or_404(Claim, pk=int(claim_id))
        try:
            claims.claim_decide(
                claim=claim,
                accept=request.POST.get("decision") == "accept",
                note=request.POST.get("note", ""),
                granted_amount=_amount(request.POST.get("granted_amount")),
                outside_cap=request.POST.get("outside_cap", ""),
                actor=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(m for ms in error.message_dict.values() for m in ms))
        else:
            messages.success(request, _("The claim is decided."))
        return redirect("desk-claims")
    page = list(
        Claim.objects.select_related("contract__customer", "contract__terms", "outage").prefetch_related(
            "tickets", "contract__fees"
        )[:200]
    )
    book = claims.ClaimBook(page)
    rows = [
        {
            "claim": claim,
            "cap": claims.damages_cap(claim, book),
            "deadline": claims.claim_deadline(claim.contract, claim.window_from),
        }
        for claim in page
    ]
    return render(request, "sla/desk_claims.html", {"rows": rows, "outside_cap": OutsideCap.choices})


def _amount(text: str | None) -> Decimal | None:
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValidationError({"granted_amount": [_("Give the amount as a number, e.g. 125.00.")]}) from None


@staff_member_required
def outage_options(request: HttpRequest) -> HttpResponse:
    """The queue's outage menu for linking ticked tickets (loaded by htmx): outages going on or
    recent, each with its start in the staff's zone."""
    now = timezone.now()
    options = [(outage.pk, _outage_label(outage, now)) for outage in selectors.recent_outages(now)]
    return render(request, "sla/_outage_options.html", {"options": options})


def _outage_label(outage: Outage, now: datetime.datetime) -> str:
    start = history.local_time(outage.started_at, settings.TIME_ZONE)
    state = (
        _("going on")
        if outage.ended_at is None
        else _("ended %(end)s") % {"end": history.local_time(outage.ended_at, settings.TIME_ZONE)}
    )
    label = f"#{outage.pk} {start}, {state} · {outage.get_kind_display()}"
    return f"{label} · {outage.description[:40]}" if outage.description else label


@staff_member_required
@require_POST
def bulk_link(request: HttpRequest) -> HttpResponse:
    """Link the tickets ticked in the queue to one outage, ticket by ticket."""
    numbers = bulk.ticked(request.POST)
    back = bulk.back_to_queue(request.POST)
    chosen = request.POST.get("outage") or ""
    outage = Outage.objects.filter(pk=int(chosen)).first() if whole_number(chosen) else None
    problem = bulk.problem(numbers) or (None if outage else _("Choose the outage to link the tickets to."))
    if problem:
        messages.error(request, problem)
        return redirect(back)
    assert outage is not None  # else `problem` asked for it
    outcome = bulk.apply(
        numbers, lambda ticket: services.outage_link_ticket(outage=outage, ticket=ticket, actor=request.user)
    )
    bulk.report(
        request,
        outcome,
        lambda n: ngettext(
            "%(count)d ticket linked to outage #%(outage)d.", "%(count)d tickets linked to outage #%(outage)d.", n
        )
        % {"count": n, "outage": outage.pk},
    )
    return redirect(back)
