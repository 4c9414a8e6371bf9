"""The staff's customer pages: who the customer is and whom to call, what it has signed, what is
open, how its service has been, what it claims and what work it is billed for. They live in
`sla` because they gather all three apps."""

from __future__ import annotations

import datetime

from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from audit import services as audit
from contracts.models import Contract, Customer
from core.months import first_of, previous_month
from sla import selectors
from sla.models import Claim
from tickets import selectors as ticket_selectors
from tickets.models import Ticket
from tickets.states import OPEN_STATUSES

CUSTOMERS_PER_PAGE = 50


def _count_of(queryset, field: str) -> Coalesce:
    """A per-customer count as a subquery: computed for the page's rows only, never by joining
    every ticket to every customer."""
    counted = queryset.filter(**{field: OuterRef("pk")}).order_by().values(field).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


@staff_member_required
def customer_list(request: HttpRequest) -> HttpResponse:
    query = (request.GET.get("q") or "").strip()[:100]
    customers = Customer.objects.order_by("name", "id")
    if query:
        customers = customers.filter(Q(name__icontains=query) | Q(org_number__icontains=query))
    customers = customers.annotate(
        open_tickets=_count_of(Ticket.objects.filter(status__in=OPEN_STATUSES), "customer"),
        contract_count=_count_of(Contract.objects.all(), "customer"),
    )
    page = Paginator(customers, CUSTOMERS_PER_PAGE).get_page(request.GET.get("page"))
    query_string = f"q={query}" if query else ""
    return render(request, "sla/customers.html", {"page": page, "query": query, "query_string": query_string})


def _billable(today: datetime.date, **owner) -> list[dict]:
    """Billable time of this month and the last, each with its entries and total minutes."""
    this_month, last_month = first_of(today), previous_month(today)
    months = []
    for first in (this_month, last_month):
        rows = ticket_selectors.billable_work(first, **owner)
        entries = [entry for row in rows for entry in row["entries"]]
        months.append({"month": first, "entries": entries, "minutes": sum(e.minutes for e in entries)})
    return months


def _claims(**owner) -> list[Claim]:
    return list(
        Claim.objects.filter(**owner).select_related("contract__terms", "outage").prefetch_related("tickets")[:20]
    )


def contract_extras(contract: Contract) -> dict:
    """What the staff's contract page adds to the availability: whom to call, what is open, the
    claims and the billable work."""
    today = timezone.localdate()
    return {
        "contacts": list(contract.customer.contacts.all()),
        "open_tickets": ticket_selectors.open_tickets(contract_id=contract.pk),
        "closed_tickets": ticket_selectors.recently_closed(contract_id=contract.pk),
        "claims": _claims(contract=contract),
        "billable": _billable(today, contract_id=contract.pk),
        "customer_terms": [contract.terms],  # whose clauses the page cites
    }


@staff_member_required
def customer_page(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    audit.record_view(request, customer_id=customer.pk)
    contracts = list(
        Contract.objects.filter(customer=customer)
        .select_related("terms")
        .prefetch_related("fees")
        .order_by("-signed_on", "-id")
    )
    for contract in contracts:
        contract.customer = customer
    now, today = timezone.now(), timezone.localdate()
    month_names, availability = selectors.recent_months(contracts, today=today, now=now)
    context = {
        "customer": customer,
        "contacts": list(customer.contacts.all()),
        "contracts": [(contract, availability[contract.pk]) for contract in contracts],
        "month_names": month_names,
        "open_tickets": ticket_selectors.open_tickets(customer_id=customer.pk),
        "closed_tickets": ticket_selectors.recently_closed(customer_id=customer.pk),
        "claims": _claims(contract__customer=customer),
        "billable": _billable(today, customer_id=customer.pk),
        "customer_terms": list({c.terms_id: c.terms for c in contracts}.values()),  # whose clauses the page cites
        "today": today,
    }
    return render(request, "sla/customer.html", context)
