"""Pages: the customers' portal and the staff desk. Thin: a form, a service call, a template."""

from __future__ import annotations

import datetime
import json
from html import escape
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from audit import services as audit
from contracts.models import Contract, Customer, ServiceTerms, all_visible_with_terms
from core import idempotency
from core.api.pagination import LargeListPaginator, cached_count
from core.api.params import whole_number
from core.web import apply_errors, month_asked, signed_in_or_token
from tickets import (
    attachments,
    bulk,
    canned,
    history,
    inbound,
    mailparse,
    portal_views,
    selectors,
    services,
    staff_notices,
)
from tickets.forms import (
    AssignForm,
    BulkForm,
    ClassifyForm,
    CloseForm,
    ComposeForm,
    FaultReportForm,
    MessageForm,
    PhoneReportForm,
    TimeLogForm,
    WithdrawForm,
)
from tickets.models import (
    CannedReply,
    Category,
    Channel,
    Classification,
    CloseReason,
    InboundEmail,
    NotFaultReason,
    SavedView,
    Status,
    Ticket,
)
from tickets.states import OPEN_STATUSES, Action


def _ticket_for(request: HttpRequest, number: str) -> Ticket:
    # Another customer's ticket is not found, never forbidden.
    return get_object_or_404(selectors.tickets_for(request.user), number=number)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("desk" if request.user.is_staff else "portal")


# The customers' portal ------------------------------------------------------------------------


@login_required
def portal(request: HttpRequest) -> HttpResponse:
    if request.user.is_staff:
        return redirect("desk")
    tickets = selectors.tickets_for(request.user).order_by("-received_at", "-id")
    page = Paginator(tickets, 25).get_page(request.GET.get("page"))
    contracts = Contract.objects.visible_to(request.user).select_related("terms")
    return render(request, "tickets/portal.html", {"page": page, "contracts": contracts, "now": timezone.now()})


def _create_with_attachments(request, form, *, channel: str, extra: dict | None = None) -> Ticket | None:
    """The ticket the form describes, with its files; created once per form token (a form sent
    again gets the ticket it made the first time). None: the form has errors to show."""

    def create():
        ticket = services.ticket_create(
            reported_by=request.user,
            channel=channel,
            uploads=form.cleaned_data.get("attachments") or [],
            **form.service_arguments(),
            **(extra or {}),
        )
        return 303, json.dumps({"ticket": ticket.number}), ticket

    token = form.cleaned_data.get(idempotency.FORM_TOKEN_FIELD)
    try:
        with attachments.kept_if_committed():
            if not token:
                return create()[2]
            outcome, result = idempotency.once(
                request.user, f"form:{token}", idempotency.form_fingerprint(request), create
            )
    except ValidationError as error:
        apply_errors(form, error)
        return None
    if outcome == "new":
        return result
    number = json.loads(result.body)["ticket"]
    if result.same:
        messages.info(
            request,
            _("This report was already received as %(number)s; it was not registered twice.") % {"number": number},
        )
        return Ticket.objects.get(number=number)
    # The form was sent before with other contents: show them again, ready to be sent as a new report.
    form.data = form.data.copy()
    form.data[idempotency.FORM_TOKEN_FIELD] = idempotency.form_token()
    form.add_error(
        None,
        _(
            "This form was already sent and registered as %(number)s. If what you "
            "changed is another report, send it again."
        )
        % {"number": number},
    )
    return None


@login_required
def report_fault(request: HttpRequest) -> HttpResponse:
    if request.user.is_staff:
        return redirect("desk-phone-report")
    contracts = all_visible_with_terms(request.user)
    form = FaultReportForm(request.POST or None, request.FILES or None, contracts=contracts)
    if not form.contracts:
        raise Http404
    if request.method == "POST" and form.is_valid():
        ticket = _create_with_attachments(request, form, channel=Channel.WEB)
        if ticket is not None:
            return redirect("portal-receipt", number=ticket.number)
    terms = {c.pk: c.terms for c in form.contracts}
    return render(request, "tickets/report.html", {"form": form, "terms": terms.values()})


@login_required
def receipt(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_for(request, number)
    return render(request, "tickets/receipt.html", {"ticket": ticket, "zone": ticket.terms.timezone})


@login_required
def portal_ticket(request: HttpRequest, number: str) -> HttpResponse:
    if request.user.is_staff:
        return redirect("desk-ticket", number=number)
    ticket = _ticket_for(request, number)
    form = MessageForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket, _message = services.ticket_reply(
                ticket=ticket,
                actor=request.user,
                message=form.cleaned_data["message"],
                uploads=form.cleaned_data["attachments"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        except services.TransitionNotAllowed as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Your message has been sent."))
            return redirect("portal-ticket", number=ticket.number)
    context = {
        "ticket": ticket,
        "timeline": selectors.messages_for(ticket, request.user).prefetch_related("attachments"),
        "files": ticket.attachments.select_related("message"),
        "form": form,
        "zone": ticket.terms.timezone,
        "now": timezone.now(),
    }
    context.update(portal_views.portal_ticket_extras(ticket, context["files"]))
    return render(request, "tickets/portal_ticket.html", context)


@login_required
def portal_withdraw(request: HttpRequest, number: str) -> HttpResponse:
    """A page that asks before the report is taken back; the ticket closes as withdrawn."""
    if request.user.is_staff:
        return redirect("desk-ticket", number=number)
    ticket = _ticket_for(request, number)
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.ticket_withdraw(ticket=ticket, actor=request.user, message=form.cleaned_data["message"])
        except services.TransitionNotAllowed as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Your report %(number)s is withdrawn and the ticket closed.") % {"number": ticket.number}
            )
            return redirect("portal-ticket", number=ticket.number)
    status = 400 if form.errors else 200
    return render(request, "tickets/portal_withdraw.html", {"ticket": ticket, "form": form}, status=status)


@signed_in_or_token
def attachment_download(request: HttpRequest, number: str, attachment_id: int) -> FileResponse:
    ticket = _ticket_for(request, number)
    attachment = get_object_or_404(ticket.attachments, pk=attachment_id)
    if attachment.message is not None and attachment.message.internal and not request.user.is_staff:
        raise Http404
    if request.user.is_staff:
        audit.record_view(
            request, customer_id=ticket.customer_id, ticket_number=ticket.number, detail={"file": attachment.filename}
        )
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )


# The staff desk -------------------------------------------------------------------------------


# What a queue row shows (see _row), read as plain values: the rest of a ticket, its terms'
# tables and three model objects per row stay unmade.
QUEUE_FIELDS = (
    "id",
    "number",
    "category",
    "urgent",
    "status",
    "customer_answered",
    "service_start_due",
    "service_started_at",
    "escalation_warned_at",
    "received_at",
    "description",
    "customer_id",
    "customer__name",
    "terms__timezone",
    "assignee__username",
)


@staff_member_required
def desk(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    params = request.GET.copy()
    if "status" not in params:
        params["status"] = ",".join([Status.NEW, Status.IN_PROGRESS, Status.WAITING_FOR_CUSTOMER])
    filtered = selectors.filter_tickets(selectors.tickets_for(request.user), params, now=now, internal_notes=True)
    sort = request.GET.get("sort") or ""
    # Staff see every ticket: the filters alone name the queue's query (for its cached count).
    count_key = "desk:" + params.urlencode()
    page = LargeListPaginator(selectors.queue(filtered, sort).values(*QUEUE_FIELDS), 50, count_key=count_key).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "sort": sort,
        "sort_links": _sort_links(request.GET, sort),
        "rows": queue_rows(page.object_list, now),
        # What waits for staff in the whole queue, whatever the filters show: the tab's count.
        "waiting_count": cached_count(selectors.needing_staff(selectors.tickets_for(request.user)), "desk:waiting"),
        "now": now,
        "params": params,
        "query_string": _without_page(request.GET),
        "poll_query": request.GET.urlencode(),
    }
    if request.headers.get("HX-Request"):
        # The rows alone, and the tab title with the count: htmx puts both in place.
        return render(request, "tickets/desk_rows.html", {**context, "partial": True})
    context["views"] = _views(request)
    customers = _customer_menu()
    staff = list(selectors.active_staff())
    context.update(
        {
            "status_options": _options(Status.choices, params.get("status")),
            "category_options": _options(Category.choices, params.get("category")),
            "classification_options": _options(Classification.choices, None),
            "not_fault_options": _options(NotFaultReason.choices, None),
            "customers": customers,
            "customer_options": _options(customers or (), params.get("customer")),
            "filtered_customer": Customer.objects.filter(pk=params.get("customer", "")).first()
            if whole_number(params.get("customer") or "")
            else None,
            "terms_options": _options(ServiceTerms.objects.in_force().values_list("slug", "name"), params.get("terms")),
            "staff_options": _options(((m.pk, m.get_username()) for m in staff), params.get("assignee")),
            "bulk_staff_options": _options(((m.pk, m.get_username()) for m in staff), None),
            **_contract_filter(params),
        }
    )
    return render(request, "tickets/desk.html", context)


def queue_rows(tickets, now: datetime.datetime) -> list[str]:
    """The queue's rows as HTML, written here rather than in a template: the queue renders 50
    of them for every agent every 20 seconds, and a template's lookups cost five times more.
    `tickets`: the values of QUEUE_FIELDS."""
    words = _row_words()
    pattern = reverse("desk-ticket", kwargs={"number": "NUMBER"})
    return [_row(ticket, pattern.replace("NUMBER", quote(ticket["number"])), now, words) for ticket in tickets]


def _row_words() -> dict:
    """The words every row repeats, translated and escaped once per page."""
    words = {
        "status": {value: label for value, label in Status.choices},
        "category": {value: label for value, label in Category.choices},
        "urgent": _("Urgent"),
        "answered": _("Customer answered"),
        "started": _("started"),
        "breached": _("Breached"),
        "soon": _("Due soon"),
        "tick": _("Tick"),
    }
    return {
        key: {code: escape(str(label)) for code, label in value.items()}
        if isinstance(value, dict)
        else escape(str(value))
        for key, value in words.items()
    }


def _row(ticket: dict, url: str, now: datetime.datetime, words: dict) -> str:
    """One <tr>; every text from the ticket is escaped here (html.escape, quotes too)."""
    zone, due, started_at = ticket["terms__timezone"], ticket["service_start_due"], ticket["service_started_at"]
    status, number, url = ticket["status"], escape(ticket["number"]), escape(url)
    waiting = due is not None and started_at is None and status in OPEN_STATUSES
    # As Ticket.is_service_start_breached: started late, or not started and past the deadline.
    breached = due is not None and (started_at > due if started_at is not None else now > due)
    badges = f' <span class="badge urgent">{words["urgent"]}</span>' if ticket["urgent"] else ""
    if ticket["customer_answered"] and status == Status.IN_PROGRESS:
        badges += f' <span class="badge warn" data-testid="answered">{words["answered"]}</span>'
    left = ""
    if due is None:
        due_cell = '<span class="muted">–</span>'
    else:
        due_cell = f'<time datetime="{timezone.localtime(due).isoformat()}">{history.local_time(due, zone)}</time>'
        if started_at is not None:
            due_cell += f' <span class="muted">{words["started"]} {history.local_time(started_at, zone)[11:16]}</span>'
        if breached:
            due_cell += f' <span class="badge bad">{words["breached"]}</span>'
        elif waiting and ticket["escalation_warned_at"] is not None:
            due_cell += f' <span class="badge warn">{words["soon"]}</span>'
        if waiting:
            left = f'<span data-countdown="{timezone.localtime(due).isoformat()}">{escape(_span(due - now))}</span>'
    text = ticket["description"]
    description = text if len(text) <= 70 else text[:69] + "…"
    assignee = escape(ticket["assignee__username"]) if ticket["assignee__username"] else "–"
    category = ticket["category"]
    return mark_safe(
        f'<tr class="{"is-urgent" if ticket["urgent"] else ""}{" is-breached" if breached else ""}" data-href="{url}">'
        f'<td class="pick"><input type="checkbox" name="ticket" value="{number}" form="bulk" '
        f'aria-label="{words["tick"]} {number}"></td>'
        f'<td><a href="{url}">{number}</a><br><span class="muted">'
        f"{words['category'].get(category, escape(category))}</span></td>"
        f'<td><a class="quiet" href="?customer={ticket["customer_id"]}">{escape(ticket["customer__name"])}</a></td>'
        f'<td><span class="status status-{escape(status)}">{words["status"].get(status, escape(status))}</span>'
        f'{badges}</td><td>{due_cell}</td><td class="countdown">{left}</td><td>{assignee}</td>'
        f'<td>{history.local_time(ticket["received_at"], zone)}</td><td class="clip">{escape(description)}</td></tr>\n'
    )


def _span(delta: datetime.timedelta) -> str:
    """Time to a deadline as the queue's countdown writes it (static/desk.js): 1 d 2 h 5 min."""
    minutes = int(abs(delta.total_seconds()) // 60)
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    parts = ([f"{days} d"] if days else []) + ([f"{hours} h"] if hours or days else []) + [f"{minutes} min"]
    text = " ".join(parts)
    if delta.total_seconds() >= 0:
        return text
    return _("overdue %(time)s") % {"time": text}


CUSTOMER_MENU_LIMIT = 200


def _sort_links(query, sort: str) -> dict[str, dict]:
    """Each sortable column's link (ascending first, then descending) and how it is sorted now."""
    links = {}
    for column in selectors.SORTS:
        following = f"-{column}" if sort == column else column
        params = query.copy()
        params.pop("page", None)
        params["sort"] = following
        state = "ascending" if sort == column else "descending" if sort == f"-{column}" else "none"
        links[column] = {"href": "?" + params.urlencode(), "state": state}
    return links


def _views(request: HttpRequest) -> list[dict]:
    """The queue's ready-made views and the staff member's own, each with the query it shows."""
    user = request.user
    assert user.is_authenticated  # the queue is staff's
    me = user.pk
    built_in = [
        (_("My open tickets"), f"assignee={me}"),
        (_("Nobody's"), "assignee=none"),
        (_("Breached"), "breached=true"),
        (_("Urgent"), "urgent=true"),
        (_("Waiting for the customer"), "status=waiting_for_customer"),
    ]
    views: list[dict[str, Any]] = [{"name": name, "query": query, "pk": None} for name, query in built_in]
    views += [{"name": view.name, "query": view.query, "pk": view.pk} for view in user.saved_views.all()]
    current = _without_page(request.GET)
    for view in views:
        view["current"] = view["query"] == current
    return views


@staff_member_required
@require_POST
def save_view(request: HttpRequest) -> HttpResponse:
    """Keep the queue's current filters under a name; the same name again replaces them."""
    name = (request.POST.get("name") or "").strip()
    query = QueryDict(request.POST.get("query") or "").copy()
    query.pop("page", None)
    longest = SavedView._meta.get_field("query").max_length
    assert longest is not None  # a CharField's
    if not name or len(name) > 60:
        messages.error(request, _("Give the view a name of 1 to 60 characters."))
    elif len(query.urlencode()) > longest:
        messages.error(request, _("These filters are too long to keep as a view."))
    else:
        SavedView.objects.update_or_create(user=request.user, name=name, defaults={"query": query.urlencode()})
        messages.success(request, _("The view “%(name)s” is saved.") % {"name": name})
    return redirect(reverse("desk") + ("?" + query.urlencode() if query else ""))


@staff_member_required
@require_POST
def delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    view = get_object_or_404(SavedView, pk=pk, user=request.user)  # another's view is not found
    view.delete()
    messages.success(request, _("The view “%(name)s” is removed.") % {"name": view.name})
    return redirect("desk")


@staff_member_required
@require_POST
def desk_bulk(request: HttpRequest) -> HttpResponse:
    """Assign, classify or close as a duplicate the tickets ticked in the queue."""
    form = BulkForm(request.POST)
    back = bulk.back_to_queue(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
        return redirect(back)
    data, actor = form.cleaned_data, request.user
    if data["action"] == BulkForm.ASSIGN:
        assignee = data["assignee"]
        outcome = bulk.apply(
            data["tickets"], lambda t: services.ticket_assign(ticket=t, actor=actor, assignee=assignee)
        )
        bulk.report(
            request,
            outcome,
            lambda n: (
                ngettext("%(count)d ticket assigned to %(name)s.", "%(count)d tickets assigned to %(name)s.", n)
                % {"count": n, "name": assignee.get_username()}
                if assignee
                else ngettext(
                    "%(count)d ticket has nobody assigned now.", "%(count)d tickets have nobody assigned now.", n
                )
                % {"count": n}
            ),
        )
    elif data["action"] == BulkForm.CLASSIFY:
        outcome = bulk.apply(
            data["tickets"],
            lambda t: services.ticket_classify(
                ticket=t,
                actor=actor,
                classification=data["classification"],
                not_fault_reason=data["not_fault_reason"] or None,
            ),
        )
        label = Classification(data["classification"]).label
        bulk.report(
            request,
            outcome,
            lambda n: ngettext("%(count)d ticket classified: %(label)s.", "%(count)d tickets classified: %(label)s.", n)
            % {"count": n, "label": label},
        )
    else:
        original = data["duplicate_of"]
        outcome = bulk.apply(
            data["tickets"],
            lambda t: services.ticket_close(
                ticket=t, actor=actor, close_reason=CloseReason.DUPLICATE, duplicate_of=original
            ),
        )
        bulk.report(
            request,
            outcome,
            lambda n: ngettext(
                "%(count)d ticket closed as a duplicate of %(number)s.",
                "%(count)d tickets closed as duplicates of %(number)s.",
                n,
            )
            % {"count": n, "number": original.number},
        )
    return redirect(back)


def _options(choices, chosen: str | None):
    """<option>s of a filter menu, the chosen one selected: written once in Python rather than
    compared option by option in the template (200 customers)."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((pk, mark_safe(" selected") if str(pk) == chosen else "", label) for pk, label in choices),
    )


def _contract_filter(params) -> dict:
    """With a customer chosen, a menu of its contracts; with only a contract chosen (a link from
    a contract's page), its name to remove."""
    customer, contract = params.get("customer") or "", params.get("contract") or ""
    if whole_number(customer):
        contracts = Contract.objects.filter(customer_id=int(customer)).select_related("terms").order_by("pk")
        return {"contract_options": _options(((c.pk, _contract_label(c)) for c in contracts), contract)}
    if whole_number(contract):
        return {
            "filtered_contract": Contract.objects.select_related("terms", "customer").filter(pk=int(contract)).first()
        }
    return {}


def _contract_label(contract: Contract) -> str:
    label = f"{contract.terms.name} #{contract.pk}"
    return f"{label} – {contract.description}" if contract.description else label


def _customer_menu() -> list[tuple[int, str]] | None:
    """A drop-down is for a handful of customers; beyond that, staff search by name or follow
    the customer link in a row."""
    customers = list(Customer.objects.order_by("name").values_list("id", "name")[: CUSTOMER_MENU_LIMIT + 1])
    return customers if len(customers) <= CUSTOMER_MENU_LIMIT else None


def _without_page(query) -> str:
    query = query.copy()
    query.pop("page", None)
    return query.urlencode()


@staff_member_required
def desk_ticket(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_for_desk(request, number)
    staff_notices.mark_read(request.user, ticket)
    audit.record_view(request, customer_id=ticket.customer_id, ticket_number=ticket.number)
    return render(request, "tickets/desk_ticket.html", _desk_ticket_context(request, ticket))


def _ticket_for_desk(request: HttpRequest, number: str) -> Ticket:
    return get_object_or_404(
        selectors.tickets_for(request.user).select_related("contract", "reported_by"), number=number
    )


def _desk_ticket_context(request, ticket: Ticket, **forms) -> dict:
    zone = ticket.terms.timezone
    timeline = selectors.timeline(ticket)
    time_entries = list(ticket.time_entries.select_related("user"))
    for kind, item in timeline:
        if kind == "event":
            setattr(
                item, "sentence", history.describe(item, zone, ticket.terms)
            )  # for the template (not a field of the event)
    return {
        "ticket": ticket,
        "contacts": ticket.customer.contacts.order_by("-is_primary", "name"),
        "other_open": selectors.other_open_tickets(ticket),
        "actions": set(ticket.actions),
        "timeline": timeline,
        "files": ticket.attachments.select_related("uploaded_by"),
        "time_entries": time_entries,
        "time_total": sum(entry.minutes for entry in time_entries),
        "compose_form": forms.get("compose_form") or ComposeForm(),
        "canned": _canned_replies(ticket, request.user),
        "classify_form": forms.get("classify_form")
        or ClassifyForm(initial={"classification": ticket.classification, "not_fault_reason": ticket.not_fault_reason}),
        "close_form": forms.get("close_form") or CloseForm(),
        "assign_form": forms.get("assign_form") or AssignForm(initial={"assignee": ticket.assignee_id}),
        "time_form": forms.get("time_form") or TimeLogForm(initial={"worked_on": timezone.localdate()}),
        "zone": zone,
        "now": timezone.now(),
        "notifications": ticket.notifications.order_by("-created_at")[:10],
        **portal_views.desk_ticket_extras(ticket),
    }


def _canned_replies(ticket: Ticket, agent) -> list[dict]:
    """The canned replies, filled for this ticket: the customer's language first."""
    replies = CannedReply.objects.filter(active=True)
    ordered = sorted(replies, key=lambda reply: (reply.language != ticket.customer.language, reply.title))
    return [
        {"title": reply.title, "language": reply.language, "text": canned.fill(reply.body, ticket, agent)}
        for reply in ordered
    ]


# Which form each action of the ticket page reads, under which name the page shows it again.
DESK_FORMS = {
    Action.REPLY: ("compose_form", ComposeForm),
    Action.REQUEST_INFO: ("compose_form", ComposeForm),
    Action.RESOLVE: ("compose_form", ComposeForm),
    Action.CLASSIFY: ("classify_form", ClassifyForm),
    Action.CLOSE: ("close_form", CloseForm),
    Action.ASSIGN: ("assign_form", AssignForm),
    Action.TIME: ("time_form", TimeLogForm),
    Action.START: (None, None),
}


@staff_member_required
@require_POST
def desk_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    ticket = _ticket_for_desk(request, number)
    if action not in Action.values:
        raise Http404
    action = Action(action)
    name, form_class = DESK_FORMS[action]
    form = form_class(request.POST, request.FILES) if form_class else None
    if form is not None and not form.is_valid():
        return _desk_error(request, ticket, name, form)
    try:
        done = _run_action(request, ticket, action, form.cleaned_data if form is not None else {})
    except ValidationError as error:
        if form is None:
            messages.error(request, " ".join(error.messages))
            return redirect("desk-ticket", number=ticket.number)
        apply_errors(form, error)
        return _desk_error(request, ticket, name, form)
    except services.TransitionNotAllowed as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("desk-ticket", number=ticket.number)


def _run_action(request, ticket: Ticket, action: Action, data: dict) -> str:
    """Do the action; what the page then says was done."""
    actor = request.user
    if action == Action.START:
        services.ticket_start(ticket=ticket, actor=actor)
        return _("Service started.")
    if action == Action.CLASSIFY:
        ticket = services.ticket_classify(
            ticket=ticket,
            actor=actor,
            classification=data["classification"],
            not_fault_reason=data["not_fault_reason"] or None,
        )
        return _("Classified: %(label)s.") % {"label": ticket.get_classification_display()}
    if action == Action.CLOSE:
        ticket = services.ticket_close(
            ticket=ticket, actor=actor, close_reason=data["close_reason"] or None, duplicate_of=data["duplicate_of"]
        )
        if ticket.duplicate_of is not None:
            return _("Closed as a duplicate of %(number)s.") % {"number": ticket.duplicate_of.number}
        return _("Closed: %(reason)s.") % {"reason": ticket.get_close_reason_display()}
    if action == Action.ASSIGN:
        ticket = services.ticket_assign(ticket=ticket, actor=actor, assignee=data["assignee"])
        if ticket.assignee is None:
            return _("Nobody is assigned now.")
        return _("Assigned to %(name)s.") % {"name": ticket.assignee.get_username()}
    if action == Action.TIME:
        entry = services.time_log(
            ticket=ticket, actor=actor, minutes=data["minutes"], worked_on=data["worked_on"], note=data["note"]
        )
        return _("%(minutes)d minutes logged for %(date)s.") % {"minutes": entry.minutes, "date": entry.worked_on}
    return _compose(ticket, actor, action, data)


def _compose(ticket: Ticket, actor, action: Action, data: dict) -> str:
    """The one message box: a reply or internal note, a question, or the resolution."""
    if data["internal"] and action != Action.REPLY:
        raise ValidationError(
            {
                "internal": [
                    _("A question or a resolution is written to the customer: untick “Internal note” to send it.")
                ]
            }
        )
    uploads = data["attachments"]
    if action == Action.REPLY:
        services.ticket_reply(
            ticket=ticket, actor=actor, message=data["message"], internal=data["internal"], uploads=uploads
        )
        return _("Internal note saved.") if data["internal"] else _("Reply sent to the customer.")
    if action == Action.REQUEST_INFO:
        ticket = services.ticket_request_info(ticket=ticket, actor=actor, message=data["message"], uploads=uploads)
        if ticket.customer_reply_due is None:
            return _("Question sent; the ticket waits for the customer.")
        return _("Question sent; the ticket waits for the customer's answer until %(due)s.") % {
            "due": history.local_time(ticket.customer_reply_due, ticket.terms.timezone)
        }
    services.ticket_resolve(ticket=ticket, actor=actor, message=data["message"], uploads=uploads)
    return _("Resolved; the customer has been told.")


def _desk_error(request, ticket, name, form) -> HttpResponse:
    context = _desk_ticket_context(request, ticket, **({name: form} if name else {}))
    return render(request, "tickets/desk_ticket.html", context, status=400)


@staff_member_required
def phone_report(request: HttpRequest) -> HttpResponse:
    form = PhoneReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        ticket = _create_with_attachments(request, form, channel=Channel.PHONE)
        if ticket is not None:
            messages.success(request, _("Ticket %(number)s registered.") % {"number": ticket.number})
            return redirect("desk-ticket", number=ticket.number)
    return render(request, "tickets/phone_report.html", {"form": form})


@staff_member_required
def billable(request: HttpRequest) -> HttpResponse:
    """Work on tickets that are not a Fault, per customer and month (D §15.3, §16.5)."""
    month = month_asked(request)
    rows = selectors.billable_work(month)
    context = {"rows": rows, "month": month, "all_terms": ServiceTerms.objects.in_force()}
    return render(request, "tickets/billable.html", context)


# The inbox's contract picker lists this many; a search narrows it to the one wanted.
INBOX_CONTRACTS = 500


@staff_member_required
def inbox(request: HttpRequest) -> HttpResponse:
    """E-mail kept for staff: unknown senders, mail that could not be placed or read."""
    if request.method == "POST":
        email_id = request.POST.get("email", "")
        record = get_object_or_404(InboundEmail, pk=int(email_id) if whole_number(email_id) else 0)
        if request.POST.get("action") == "dismiss":
            try:
                inbound.dismiss(record, actor=request.user)
            except services.TransitionNotAllowed as error:
                messages.error(request, str(error))
            else:
                messages.success(request, _("The e-mail was set aside; it stays stored."))
            return redirect("desk-inbox")
        contract_id = request.POST.get("contract", "")
        contract = (
            Contract.objects.select_related("terms")
            .filter(pk=int(contract_id) if whole_number(contract_id) else 0)
            .first()
        )
        if contract is None:
            messages.error(request, _("Choose the contract the report is for."))
        else:
            try:
                ticket = inbound.open_for(record, contract=contract, actor=request.user)
            except (ValidationError, services.TransitionNotAllowed) as error:
                messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
            else:
                messages.success(request, _("Ticket %(number)s registered.") % {"number": ticket.number})
                return redirect("desk-ticket", number=ticket.number)
        return redirect("desk-inbox")
    kept = list(InboundEmail.objects.filter(outcome__in=inbound.KEPT_FOR_STAFF).select_related("ticket")[:200])
    rows = _inbox_rows(kept)
    search = (request.GET.get("contract_q") or "").strip()
    contracts = Contract.objects.select_related("customer", "terms").order_by("customer__name", "pk")
    if search:
        condition = Q(customer__name__icontains=search) | Q(customer__org_number__icontains=search)
        if whole_number(search):
            condition |= Q(pk=int(search))
        contracts = contracts.filter(condition)
    found = list(contracts[: INBOX_CONTRACTS + 1])
    return render(
        request,
        "tickets/inbox.html",
        {
            "rows": rows,
            "contracts": found[:INBOX_CONTRACTS],
            "search": search,
            "more_contracts": len(found) > INBOX_CONTRACTS,
            "contract_limit": INBOX_CONTRACTS,
        },
    )


@staff_member_required
def inbox_raw(request: HttpRequest, pk: int) -> HttpResponse:
    """An e-mail exactly as it was received, with every attachment, to open in a mail program."""
    record = get_object_or_404(InboundEmail, pk=pk)
    audit.record_view(request, detail={"email": record.pk, "sender": record.sender})
    response = HttpResponse(bytes(record.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="email-{record.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _inbox_rows(kept: list[InboundEmail]) -> list[dict]:
    """Each kept mail with its text and, when it was unclear whose it is, the candidates by name
    (all of them in two queries)."""
    contract_ids = {pk for r in kept for pk in (r.candidates or {}).get("contracts", [])}
    customer_ids = {pk for r in kept for pk in (r.candidates or {}).get("customers", [])}
    contracts = Contract.objects.select_related("customer", "terms").in_bulk(contract_ids)
    customers = Customer.objects.in_bulk(customer_ids)
    return [
        {
            "email": record,
            "body": _preview(record),
            "candidate_contracts": [
                contracts[pk] for pk in (record.candidates or {}).get("contracts", []) if pk in contracts
            ],
            "candidate_customers": [
                customers[pk] for pk in (record.candidates or {}).get("customers", []) if pk in customers
            ],
        }
        for record in kept
    ]


def _preview(record: InboundEmail) -> str:
    try:
        return mailparse.parse(bytes(record.raw)).body[:1000]
    except Exception:  # noqa: BLE001 - an unreadable mail is shown as such
        return _("(this e-mail could not be read)")
