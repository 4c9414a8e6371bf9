"""Claims (D §20), the damages cap (D §19.2–19.4) and whether a computed discount is still owed.

The claim window (D §20.1) counts from when the circumstance was discovered *or should have
been*: the earliest of the date the customer states, the reports of the tickets it cites and the
end of the outage as the customer saw it. For a month's price discount the circumstance is the
month falling under the target, which the customer could see when the outage that took it there
ended (`MonthlyReport.discount_arose_at`); that date, not an older ticket of the same month,
starts the window, the same for a claim and for the billing export's "open until".
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.clauses import cited
from contracts.delivery import delivery_status
from contracts.fees import annual_fees, cents
from contracts.models import Contract, ServiceTerms, TermsBook
from core.months import add_months, first_of, months_from
from sla import selectors
from sla.models import Claim, ClaimKind, ClaimStatus, MonthlyReport, Outage, OutsideCap

CENT = Decimal("0.01")


def local_date(instant: datetime.datetime, terms: ServiceTerms) -> datetime.date:
    return instant.astimezone(zoneinfo.ZoneInfo(terms.timezone)).date()


def month_discount_arose_on(contract: Contract, month: datetime.date, now: datetime.datetime) -> datetime.date:
    """When the customer could see a month's discount arise: from the stored report, else from the
    month as computed now; a month that earned none was complete on the next month's first day."""
    report = MonthlyReport.objects.filter(contract=contract, month=month, stale=False).first()
    terms = report.terms if report else contract.terms_in_force(month)
    arose = report.discount_arose_at if report else None
    if report is None:
        arose = selectors.contract_month(contract, month.year, month.month, now=now).figures.discount_arose_at
    return local_date(arose, terms) if arose else add_months(month, 1)


def window_from(
    contract: Contract,
    *,
    discovered_on: datetime.date,
    kind: str,
    month: datetime.date | None,
    outage: Outage | None,
    tickets: Iterable,
    now: datetime.datetime,
) -> datetime.date:
    """D §20.1: the day the circumstance was discovered or should have been."""
    terms = contract.terms_in_force(discovered_on)
    candidates = [discovered_on]
    if kind == ClaimKind.DISCOUNT:
        # The circumstance is the month under the target, seen when the discount arose; an older
        # report of an outage of that month did not show it yet.
        assert month is not None  # claim_file refuses a discount without its month
        candidates.append(month_discount_arose_on(contract, month, now))
        return min(candidates)
    # Damages and deductions: the customer knew of the circumstance by its own reports at the latest.
    candidates += [local_date(t.received_at, terms) for t in tickets]
    if kind == ClaimKind.DELIVERY:
        deadline = delivery_status(contract, timezone.localdate(now)).deadline_on
        if deadline is not None:
            candidates.append(deadline + datetime.timedelta(days=1))
    if outage is not None and outage.ended_at is not None:
        candidates.append(local_date(outage.ended_at, terms))
    if month is not None and outage is None:
        candidates.append(month_discount_arose_on(contract, month, now))
    return min(candidates)


def claim_deadline(contract: Contract, since: datetime.date) -> datetime.date | None:
    """D §20.1: at the latest one month (the terms' claim window) from `since`."""
    months = contract.terms_in_force(since).claim_window_months
    return add_months(since, months) if months is not None else None


@transaction.atomic
def claim_file(
    *,
    contract: Contract,
    discovered_on: datetime.date,
    description: str,
    tickets: list,
    amount: Decimal,
    kind: str = ClaimKind.DISCOUNT,
    month: datetime.date | None = None,
    outage: Outage | None = None,
    actor=None,
    now: datetime.datetime | None = None,
) -> Claim:
    now = now or timezone.now()
    today = timezone.localdate(now)
    month = first_of(month) if month else None
    errors: dict[str, list[str]] = {}
    terms = contract.terms
    if kind not in ClaimKind.values:
        errors["kind"] = [_("Choose a price discount, a deduction for late delivery or damages.")]
    if not tickets:
        errors["tickets"] = [
            _("A claim cites the ticket numbers it rests on%(ref)s.") % {"ref": cited(terms, "claim_contents")}
        ]
    foreign = [t.number for t in tickets if t.customer_id != contract.customer_id]
    if foreign:
        errors["tickets"] = [_("These tickets are not this contract's customer's: %(n)s.") % {"n": ", ".join(foreign)}]
    if not (description or "").strip():
        errors["description"] = [
            _("Describe the circumstance and how it arose%(ref)s.") % {"ref": cited(terms, "claim_contents")}
        ]
    if amount is None or amount <= 0:
        errors["amount"] = [_("Give the amount claimed, above zero.")]
    if discovered_on > today:
        errors["discovered_on"] = [_("The discovery cannot be in the future.")]
    if month is not None and month > first_of(today):
        errors["month"] = [_("That month has not begun yet.")]
    if kind == ClaimKind.DISCOUNT and month is None:
        errors["month"] = [_("A price discount is claimed for a month%(ref)s.") % {"ref": cited(terms, "discount")}]
    elif kind == ClaimKind.DAMAGES and month is None and outage is None:
        errors["outage"] = [_("Name the outage or the month the damages arose from.")]
    if outage is not None and not _outage_concerns(outage, contract):
        errors["outage"] = [_("That outage did not concern this contract.")]
    if errors:
        raise ValidationError(errors)
    since = window_from(
        contract, discovered_on=discovered_on, kind=kind, month=month, outage=outage, tickets=tickets, now=now
    )
    deadline = claim_deadline(contract, since)
    if deadline is not None and today > deadline:
        raise ValidationError(
            {
                "discovered_on": [
                    _(
                        "Too late: the circumstance was or should have been discovered on %(found)s, so a claim had to "
                        "be made by %(deadline)s%(ref)s."
                    )
                    % {
                        "found": since.isoformat(),
                        "deadline": deadline.isoformat(),
                        "ref": cited(contract.terms_in_force(since), "claim_window"),
                    }
                ]
            }
        )
    claim = Claim.objects.create(
        contract=contract,
        kind=kind,
        month=month,
        outage=outage,
        amount=amount,
        discovered_on=discovered_on,
        window_from=since,
        description=description.strip(),
        filed_at=now,
        filed_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    claim.tickets.set(tickets)
    return claim


def _outage_concerns(outage: Outage, contract: Contract) -> bool:
    return outage.concerns_service(contract.terms.slug) or outage.contracts.filter(pk=contract.pk).exists()


@transaction.atomic
def claim_decide(
    *,
    claim: Claim,
    accept: bool,
    note: str,
    actor,
    granted_amount: Decimal | None = None,
    outside_cap: str = "",
    now: datetime.datetime | None = None,
) -> Claim:
    # The contract's row is locked: two clerks deciding claims of one contract take turns, so
    # both can never spend the same part of the damages cap.
    Contract.objects.select_for_update().filter(pk=claim.contract_id).first()
    claim = Claim.objects.select_for_update(of=("self",)).select_related("contract__terms", "outage").get(pk=claim.pk)
    if claim.status != ClaimStatus.SUBMITTED:
        raise ValidationError({"status": [_("This claim has been decided already.")]})
    if not (note or "").strip():
        raise ValidationError({"note": [_("Give the reason for the decision.")]})
    if outside_cap and (claim.kind != ClaimKind.DAMAGES or outside_cap not in OutsideCap.values):
        raise ValidationError(
            {
                "outside_cap": [
                    _("Only damages can be outside the cap, for one of these reasons%(ref)s: %(values)s.")
                    % {
                        "values": ", ".join(OutsideCap.values),
                        "ref": cited(claim.contract.terms, "damages_outside_cap"),
                    }
                ]
            }
        )
    if accept:
        granted = claim.amount if granted_amount is None else granted_amount
        if not granted.is_finite() or granted != granted.quantize(CENT) or granted <= 0 or granted > claim.amount:
            raise ValidationError(
                {
                    "granted_amount": [
                        _("Grant an amount above zero and at most the %(amount)s claimed, to the cent.")
                        % {"amount": claim.amount}
                    ]
                }
            )
        claim.outside_cap = outside_cap
        cap = damages_cap(claim)
        if cap.applies and cap.remaining is not None and granted > cap.remaining:
            raise ValidationError(
                {
                    "granted_amount": [
                        _(
                            "The damages cap leaves %(left)s %(currency)s%(ref)s; grant at most that, or mark the "
                            "claim as outside the cap with its reason%(outside)s."
                        )
                        % {
                            "left": cap.remaining,
                            "currency": cap.currency,
                            "ref": cited(claim.contract.terms, "damages_cap"),
                            "outside": cited(claim.contract.terms, "damages_outside_cap"),
                        }
                    ]
                }
            )
        claim.granted_amount = granted
    claim.status = ClaimStatus.ACCEPTED if accept else ClaimStatus.REJECTED
    claim.decision_note = note.strip()
    claim.decided_by = actor
    claim.decided_at = now or timezone.now()
    claim.save()
    return claim


class ClaimBook:
    """What the caps and deadlines of a list of claims read, loaded once for all of them: the
    terms versions, the claims accepted, and the months' stored discounts."""

    def __init__(self, claims: Iterable[Claim]):
        claims = list(claims)
        contracts = {claim.contract_id: claim.contract for claim in claims}
        TermsBook.attach([claim.contract for claim in claims])
        # Accepted claims, each with its granted amount (claim_accepted_has_amount).
        self.accepted: dict[int, list[Claim]] = {}
        for accepted in Claim.objects.filter(contract_id__in=contracts, status=ClaimStatus.ACCEPTED).select_related(
            "outage"
        ):
            accepted.contract = contracts[accepted.contract_id]
            self.accepted.setdefault(accepted.contract_id, []).append(accepted)
        self.reports = {
            (report.contract_id, report.month): report
            for report in MonthlyReport.objects.filter(contract_id__in=contracts, discount_amount__gt=0).select_related(
                "terms"
            )
        }


@dataclass(frozen=True)
class Cap:
    """D §19.2–19.3 for one claim: what of the aggregate cap is left for it."""

    applies: bool  # damages, and not outside the cap (D §19.4)
    annual_fees: Decimal | None
    total: Decimal | None  # the terms' share of the annual fees
    granted_before: Decimal  # damages already accepted within the cap
    discounts_given: Decimal  # discounts and deductions given for the same event
    remaining: Decimal | None
    currency: str


def event_date(claim: Claim) -> datetime.date:
    if claim.outage is not None:
        return local_date(claim.outage.started_at, claim.contract.terms)
    return claim.month or claim.discovered_on


def damages_cap(claim: Claim, book: ClaimBook | None = None) -> Cap:
    """D §19.2: the supplier's damages under the contract are capped in aggregate at a share
    (25 %) of the annual fees, read from the fee history: what was paid over the last twelve
    months before the event, or twelve times the monthly average when the service is younger;
    less the damages already granted within the cap. D §19.3: less what was already given for
    the same event as price discounts."""
    book = book or ClaimBook([claim])
    contract = claim.contract
    on = event_date(claim)
    terms = contract.terms_in_force(on)
    zero = Decimal("0.00")
    if terms.liability_cap_percent is None or terms.liability_cap_basis_months is None:
        return Cap(False, None, None, zero, zero, None, terms.currency)
    annual = annual_fees(
        contract.fee_rows,
        on=on,
        basis_months=terms.liability_cap_basis_months,
        invoiced_from=contract.invoicing_starts_on,
        terminated_on=contract.terminated_on,
        one_time_fee=contract.one_time_fee,
        signed_on=contract.signed_on,
    )
    total = cents(annual * terms.liability_cap_percent / 100)
    granted_before = sum(
        (
            c.granted_amount
            for c in book.accepted.get(contract.pk, [])
            if c.kind == ClaimKind.DAMAGES and not c.outside_cap and c.pk != claim.pk and c.granted_amount is not None
        ),
        zero,
    )
    given = discounts_given(contract, event_months(claim), book)
    remaining = max(total - granted_before - given, zero)
    applies = claim.kind == ClaimKind.DAMAGES and not claim.outside_cap
    return Cap(applies, annual, total, cents(granted_before), cents(given), cents(remaining), terms.currency)


def event_months(claim: Claim) -> set[datetime.date]:
    """The months, in the terms' time zone, of the event a claim rests on."""
    if claim.outage is not None:
        terms = claim.contract.terms_in_force(local_date(claim.outage.started_at, claim.contract.terms))
        first = local_date(claim.outage.started_at, terms)
        last = local_date(claim.outage.ended_at or timezone.now(), terms)
        return set(months_from(first, last))
    return {claim.month} if claim.month else set()


def discounts_given(contract: Contract, months: set[datetime.date], book: ClaimBook) -> Decimal:
    """Price discounts given for these months (D §19.3): as granted on accepted claims, or, where
    none was claimed, as computed when the terms give discounts without a claim."""
    given = Decimal(0)
    for month in months:
        grants = [
            c.granted_amount
            for c in book.accepted.get(contract.pk, [])
            if c.kind == ClaimKind.DISCOUNT and c.month == month and c.granted_amount is not None
        ]
        report = book.reports.get((contract.pk, month))
        if grants:
            given += sum(grants)
        elif report is not None and not report.terms.discount_requires_claim:
            given += report.discount_amount
    return cents(given)


# The billing export: whether each computed discount is owed (D §20.1) --------------------------

CLAIMED, ACCEPTED, REJECTED, OPEN, LAPSED, AUTOMATIC = "claimed", "accepted", "rejected", "open", "lapsed", "automatic"


@dataclass(frozen=True)
class DiscountState:
    state: str  # one of the six above; "" when the month earned no discount
    lapses_on: datetime.date | None
    to_invoice: Decimal


def discount_states(reports: list[MonthlyReport], today: datetime.date) -> dict[int, DiscountState]:
    """For each report with a discount: given without a claim, claimed, accepted, rejected, still
    open (until the date the right lapses) or lapsed — in two queries for the whole month."""
    month_claims: dict[tuple[int, datetime.date | None], list[Claim]] = {}
    months = {r.month for r in reports}
    for claim in Claim.objects.filter(
        kind=ClaimKind.DISCOUNT, month__in=months, contract__in=[r.contract_id for r in reports]
    ).order_by("filed_at"):
        month_claims.setdefault((claim.contract_id, claim.month), []).append(claim)
    states = {}
    for report in reports:
        states[report.pk] = _state(report, month_claims.get((report.contract_id, report.month), []), today)
    return states


def _state(report: MonthlyReport, claims: list[Claim], today: datetime.date) -> DiscountState:
    zero = Decimal("0.00")
    accepted = [c for c in claims if c.status == ClaimStatus.ACCEPTED]
    if accepted:
        # What staff granted is invoiced, as decided, whatever the month computed.
        return DiscountState(
            ACCEPTED, None, cents(sum((c.granted_amount for c in accepted if c.granted_amount is not None), zero))
        )
    if report.discount_amount <= 0:
        return DiscountState("", None, zero)
    terms = report.terms
    if not terms.discount_requires_claim:
        return DiscountState(AUTOMATIC, None, report.discount_amount)
    if any(c.status == ClaimStatus.SUBMITTED for c in claims):
        return DiscountState(CLAIMED, None, zero)
    if claims:
        return DiscountState(REJECTED, None, zero)
    arose = local_date(report.discount_arose_at, terms) if report.discount_arose_at else add_months(report.month, 1)
    lapses = add_months(arose, terms.claim_window_months) if terms.claim_window_months is not None else None
    if lapses is not None and today > lapses:
        return DiscountState(LAPSED, lapses, zero)
    return DiscountState(OPEN, lapses, zero)
