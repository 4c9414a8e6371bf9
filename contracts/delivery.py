"""The delivery guarantee (D §8.2, §9.1–9.2): how late an undelivered contract is, and what it costs."""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

WARNING_DAYS = 14  # staff are warned two weeks before each mark


def delivery_status(contract, today: datetime.date) -> dict:
    terms = contract.terms_in_force(contract.signed_on)
    days = (today - contract.signed_on).days
    deadline = terms.delivery_deadline_days
    cancel = terms.delivery_cancellation_days
    status = {"contract": contract, "days": days, "state": "no_promise", "deadline_on": None,
              "cancellable_on": None, "discount": Decimal(0), "currency": terms.currency}
    if deadline is None:
        return status
    status["deadline_on"] = contract.signed_on + datetime.timedelta(days=deadline)
    if cancel is not None:
        status["cancellable_on"] = contract.signed_on + datetime.timedelta(days=cancel)
    if cancel is not None and days > cancel:
        status["state"] = "cancellable"  # D §9.2: the customer may cancel
    elif cancel is not None and days > deadline and days >= cancel - WARNING_DAYS:
        status["state"] = "cancellation_near"
    elif days > deadline:
        status["state"] = "late"
    elif days >= deadline - WARNING_DAYS:
        status["state"] = "deadline_near"
    else:
        status["state"] = "on_time"
    if days > deadline and terms.late_delivery_discount_percent is not None:
        # D §9.1: the percent of the fixed fee paid for the unusable service, counted per day
        # from the deadline in 30-day months.
        late = Decimal(days - deadline)
        status["discount"] = (
            contract.monthly_fee * terms.late_delivery_discount_percent / 100 * late / 30
        ).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return status
