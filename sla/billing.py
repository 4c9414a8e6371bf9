"""A month for billing: the stored reports of every contract, only when all of them are true.

A month is billed from stored reports, never from a stale one and never before it is over in
every terms' time zone. An outage counted as the supplier's whose linked tickets say it was not
a Fault (D §10.4) must be settled by staff first. Each discount is listed with whether it is
owed: given without a claim, claimed, accepted, rejected, open until the right lapses, or lapsed
(D §20.1).
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from config.broker import hand_over
from core import spreadsheet
from sla import claims, reports, selectors
from sla.models import MonthlyReport, Outage

FORMATS = spreadsheet.FORMATS
STATE_NAMES = {
    "": "",
    claims.AUTOMATIC: gettext_lazy("given without a claim"),
    claims.CLAIMED: gettext_lazy("claimed"),
    claims.ACCEPTED: gettext_lazy("claim accepted"),
    claims.REJECTED: gettext_lazy("claim rejected"),
    claims.OPEN: gettext_lazy("open, not claimed yet"),
    claims.LAPSED: gettext_lazy("lapsed, never claimed"),
}


@dataclass
class BillingMonth:
    year: int
    month: int
    ends_at: datetime.datetime
    complete: bool
    expected: set[int]  # the contracts in service during the month
    reports: list[MonthlyReport]  # the stored reports of those contracts
    stale: int
    contradictions: list[tuple[Outage, list[str]]]
    drafts: list[Outage] = field(default_factory=list)  # monitoring's, not yet confirmed: left out
    states: dict[int, claims.DiscountState] = field(default_factory=dict)

    @property
    def missing(self) -> int:
        """Contracts in service that month without a stored report (matched by contract, not counted)."""
        return len(self.expected - {report.contract_id for report in self.reports})

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def problems(self) -> list[str]:
        found = []
        if not self.complete:
            found.append(
                _("%(month)s is not complete yet: it ends at %(end)s.")
                % {"month": self.label, "end": timezone.localtime(self.ends_at).strftime("%Y-%m-%d %H:%M")}
            )
        if self.complete and self.missing:
            found.append(
                ngettext(
                    "%(n)d contract has no stored report for %(month)s yet: store the month first.",
                    "%(n)d contracts have no stored report for %(month)s yet: store the month first.",
                    self.missing,
                )
                % {"n": self.missing, "month": self.label}
            )
        if self.stale:
            found.append(
                ngettext(
                    "%(n)d stored report is out of date (an outage or a contract changed): recompute it first.",
                    "%(n)d stored reports are out of date (an outage or a contract changed): recompute them first.",
                    self.stale,
                )
                % {"n": self.stale}
            )
        for outage, numbers in self.contradictions:  # D §10.4
            found.append(
                _(
                    "Outage %(id)d is counted as the supplier's, but its tickets %(numbers)s are classified as not "
                    "the supplier's Fault: settle it on the outage board first."
                )
                % {"id": outage.pk, "numbers": ", ".join(numbers)}
            )
        return found

    @property
    def ready(self) -> bool:
        return not self.problems

    @property
    def rows(self) -> list[tuple[MonthlyReport, claims.DiscountState, str]]:
        """Each report with its discount's state and that state in words."""
        return [(r, self.states[r.pk], str(STATE_NAMES[self.states[r.pk].state])) for r in self.reports]


def billing_month(year: int, month: int, *, now: datetime.datetime | None = None) -> BillingMonth:
    now = now or timezone.now()
    first = datetime.date(year, month, 1)
    ends_at = reports.month_ends_at(year, month)
    expected = set(reports.contracts_in_month(year, month).values_list("pk", flat=True))
    # A report of a contract no longer in service that month (its delivery moved) is not billed.
    stored = [
        report
        for report in MonthlyReport.objects.filter(month=first)
        .select_related("contract__customer", "terms")
        .order_by("contract__customer__name", "contract_id")
        if report.contract_id in expected
    ]
    result = BillingMonth(
        year=year,
        month=month,
        ends_at=ends_at,
        complete=now >= ends_at,
        expected=expected,
        reports=stored,
        stale=sum(1 for r in stored if r.stale),
        contradictions=selectors.month_contradictions(year, month),
        drafts=selectors.month_drafts(year, month),
    )
    result.states = claims.discount_states(stored, timezone.localdate(now))
    return result


# Up to this many contracts a month is stored while the clerk waits; more go to the workers.
INLINE_CONTRACTS = 300


class WorkersAway(RuntimeError):
    """The broker did not take the month to store; nothing else will store it."""


def prepare(year: int, month: int, *, now: datetime.datetime | None = None) -> tuple[int, int] | None:
    """Store the month's missing reports and recompute its stale ones (a month that is over):
    at once for a small desk, by the workers for a large one (None: handed over)."""
    if now is None and reports.contracts_in_month(year, month).count() > INLINE_CONTRACTS:
        reports.check_month_over(year, month, timezone.now())
        if not hand_over("sla.tasks.store_month", year, month, waiting=f"the reports of {year:04d}-{month:02d}"):
            raise WorkersAway
        return None
    return reports.store_month(year, month, now=now)


# CSV (core.spreadsheet: as Swedish or English Excel opens it) ---------------------------------


def columns() -> list[str]:
    return [
        _("month"),
        _("contract"),
        _("customer"),
        _("organisation number"),
        _("terms"),
        _("terms version"),
        _("availability %"),
        _("target %"),
        _("discount %"),
        _("monthly fee"),
        _("discount"),
        _("currency"),
        _("unavailable minutes"),
        _("discount state"),
        _("right lapses on"),
        _("discount to invoice"),
    ]


def write_csv(billing: BillingMonth, fmt: str) -> str:
    out = io.StringIO()
    writer = spreadsheet.writer(out, fmt)
    writer.writerow(columns())
    for report, state, state_name in billing.rows:
        minutes = (Decimal(report.unavailable_seconds) / 60).quantize(Decimal("0.01"))
        writer.writerow(
            [
                billing.label,
                report.contract_id,
                spreadsheet.text(report.contract.customer.name),
                spreadsheet.text(report.contract.customer.org_number),
                spreadsheet.text(report.terms.slug),
                report.terms.version,
                spreadsheet.number(report.availability_percent, fmt),
                spreadsheet.number(report.terms.availability_target, fmt),
                spreadsheet.number(report.discount_percent, fmt),
                spreadsheet.number(report.monthly_fee, fmt),
                spreadsheet.number(report.discount_amount, fmt),
                report.currency,
                spreadsheet.number(minutes, fmt),
                state_name,
                spreadsheet.date(state.lapses_on),
                spreadsheet.number(state.to_invoice, fmt),
            ]
        )
    return out.getvalue()
