"""Delivery (D §8.2, §8.4, §9): how late a contract's delivery is or was, and what it costs.

D §9.1: delivered more than 90 days after signing, the customer may claim a deduction of 50 %
of the fixed fees *paid* for the service it could not use: the one-time fee invoiced at signing
(D §15.2) and any monthly fees invoiced before delivery (D §8.6). D §9.2: beyond 120 days it may
cancel. D §9.3: only when the delay is solely the supplier's; staff record the cause. The record
stays after a late delivery, with the deduction owed. D §8.4: delivery defects are reported
within 10 days of the delivery date.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from contracts.fees import cents, invoiced
from contracts.models import DelayCause

WARNING_DAYS = 14  # staff are warned two weeks before each mark


@dataclass(frozen=True)
class DeliveryStatus:
    contract: object
    days: int  # from signing to delivery, or to today while undelivered
    state: str  # no_promise, on_time, deadline_near, late, cancellation_near, cancellable, delivered, delivered_late
    deadline_on: datetime.date | None
    cancellable_on: datetime.date | None
    guarantee_applies: bool  # D §9.3: no recorded cause, or the supplier's alone
    cause_recorded: bool
    fees_paid: Decimal  # fixed fees paid for the service while it could not be used
    deduction: Decimal  # D §9.1, owed when late and the guarantee applies
    currency: str
    defect_report_until: datetime.date | None  # D §8.4
    today: datetime.date

    @property
    def discount(self) -> Decimal:
        return self.deduction

    @property
    def defect_window_open(self) -> bool:
        return self.defect_report_until is not None and self.today <= self.defect_report_until

    @property
    def late(self) -> bool:
        return self.state in ("late", "cancellation_near", "cancellable", "delivered_late")


def delivery_status(contract, today: datetime.date) -> DeliveryStatus:
    terms = contract.terms_in_force(contract.signed_on)
    until = contract.delivered_on or today
    days = (until - contract.signed_on).days
    deadline, cancel = terms.delivery_deadline_days, terms.delivery_cancellation_days
    deadline_on = contract.signed_on + datetime.timedelta(days=deadline) if deadline is not None else None
    cancellable_on = contract.signed_on + datetime.timedelta(days=cancel) if cancel is not None else None
    applies = contract.delivery_delay_cause in ("", DelayCause.SUPPLIER)
    paid = _fees_paid_before_delivery(contract, until)
    late = deadline is not None and days > deadline
    deduction = Decimal("0.00")
    if late and applies and terms.late_delivery_discount_percent is not None:
        deduction = cents(paid * terms.late_delivery_discount_percent / 100)
    defect_until = None
    if contract.delivered_on and terms.delivery_defect_report_days is not None:
        defect_until = contract.delivered_on + datetime.timedelta(days=terms.delivery_defect_report_days)
    return DeliveryStatus(
        contract=contract,
        days=days,
        state=_state(contract, days, deadline, cancel),
        deadline_on=deadline_on,
        cancellable_on=cancellable_on,
        guarantee_applies=applies,
        cause_recorded=bool(contract.delivery_delay_cause),
        fees_paid=paid,
        deduction=deduction,
        currency=terms.currency,
        defect_report_until=defect_until,
        today=today,
    )


def _state(contract, days: int, deadline: int | None, cancel: int | None) -> str:
    if contract.delivered_on is not None:
        return "delivered_late" if deadline is not None and days > deadline else "delivered"
    if deadline is None:
        return "no_promise"
    if cancel is not None and days > cancel:
        return "cancellable"  # D §9.2: the customer may cancel
    if cancel is not None and days > deadline and days >= cancel - WARNING_DAYS:
        return "cancellation_near"
    if days > deadline:
        return "late"
    if days >= deadline - WARNING_DAYS:
        return "deadline_near"
    return "on_time"


def _fees_paid_before_delivery(contract, until: datetime.date) -> Decimal:
    paid = Decimal(contract.one_time_fee)
    if contract.invoiced_from is not None and contract.invoiced_from < until:
        paid += cents(invoiced(contract.fee_rows, contract.invoiced_from, until).amount)
    return cents(paid)
