"""Claims (D §20) and the damages cap (D §19.2–19.3)."""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.models import Contract
from contracts.months import add_months
from sla.models import Claim, ClaimStatus, MonthlyReport


def claim_deadline(contract: Contract, discovered_on: datetime.date) -> datetime.date | None:
    """D §20.1: at the latest one month from the day the circumstance was discovered."""
    months = contract.terms_in_force(discovered_on).claim_window_months
    return add_months(discovered_on, months) if months is not None else None


@transaction.atomic
def claim_file(
    *, contract: Contract, discovered_on: datetime.date, description: str, tickets: list,
    month: datetime.date | None = None, actor=None, now: datetime.datetime | None = None,
) -> Claim:
    now = now or timezone.now()
    today = timezone.localdate(now)
    errors: dict[str, list[str]] = {}
    if not tickets:
        errors["tickets"] = [_("A claim cites the ticket numbers it rests on (D §20.2).")]
    foreign = [t.number for t in tickets if t.customer_id != contract.customer_id]
    if foreign:
        errors["tickets"] = [_("These tickets are not this contract's customer's: %(n)s.") % {"n": ", ".join(foreign)}]
    if not (description or "").strip():
        errors["description"] = [_("Describe the circumstance and how it arose (D §20.2).")]
    if discovered_on > today:
        errors["discovered_on"] = [_("The discovery cannot be in the future.")]
    if month is not None and month.replace(day=1) > today.replace(day=1):
        errors["month"] = [_("That month has not begun yet.")]
    if not errors:
        deadline = claim_deadline(contract, discovered_on)
        if deadline is not None and today > deadline:
            errors["discovered_on"] = [
                _("Too late: a claim for a circumstance discovered on %(found)s had to be made by %(deadline)s (D §20.1).")
                % {"found": discovered_on.isoformat(), "deadline": deadline.isoformat()}
            ]
    if errors:
        raise ValidationError(errors)
    claim = Claim.objects.create(
        contract=contract, month=month.replace(day=1) if month else None, discovered_on=discovered_on,
        description=description.strip(), filed_at=now,
        filed_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    claim.tickets.set(tickets)
    return claim


@transaction.atomic
def claim_decide(*, claim: Claim, accept: bool, note: str, actor, now: datetime.datetime | None = None) -> Claim:
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    if claim.status != ClaimStatus.SUBMITTED:
        raise ValidationError({"status": [_("This claim has been decided already.")]})
    if not (note or "").strip():
        raise ValidationError({"note": [_("Give the reason for the decision.")]})
    claim.status = ClaimStatus.ACCEPTED if accept else ClaimStatus.REJECTED
    claim.decision_note = note.strip()
    claim.decided_by = actor
    claim.decided_at = now or timezone.now()
    claim.save()
    return claim


def damages_cap(claim: Claim) -> dict:
    """D §19.2–19.3: the cap is a share (25 %) of the annual fees — the fees of the last twelve
    months, or twelve times the monthly average when the service is younger — less the
    discounts already given for the same event (the claimed month's discount)."""
    contract = claim.contract
    terms = contract.terms_in_force(claim.discovered_on)
    if terms.liability_cap_percent is None:
        return {"cap": None, "annual_fees": None, "discounts_given": None, "currency": terms.currency}
    # One fixed monthly fee: twelve months' fees and twelve times the average are the same.
    annual = contract.monthly_fee * 12
    discounts = Decimal(0)
    if claim.month is not None:
        discounts = MonthlyReport.objects.filter(contract=contract, month=claim.month).aggregate(
            total=Sum("discount_amount")
        )["total"] or Decimal(0)
    cap = (annual * terms.liability_cap_percent / 100 - discounts).quantize(Decimal("0.01"), ROUND_HALF_UP)
    cents = Decimal("0.01")
    return {
        "cap": max(cap, Decimal(0)).quantize(cents),
        "annual_fees": annual.quantize(cents),
        "discounts_given": Decimal(discounts).quantize(cents),
        "currency": terms.currency,
    }
