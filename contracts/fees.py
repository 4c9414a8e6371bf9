"""Fees over time (D §15.2, §15.14): what was invoiced for a contract's service between two days.

Pure Python over the fee history: each calendar month's fee is the fee in force, a partial month
counts its days (a month of 30 days in service out of 31 is 30/31 of that month's fee), and a
change of fee in the middle of a month splits it. Exact until the final rounding to the cent.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from core.months import add_months, next_month

CENT = Decimal("0.01")
FeeRow = tuple[datetime.date, Decimal]  # (in force from, monthly fee)


def cents(value: Fraction | Decimal) -> Decimal:
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(value).quantize(CENT, ROUND_HALF_UP)


def fee_on(rows: Sequence[FeeRow], day: datetime.date) -> Decimal:
    """The fee in force on a day; before the first row, the first row's fee (agreed at signing)."""
    ordered = sorted(rows)
    current = ordered[0][1]
    for since, fee in ordered:
        if since <= day:
            current = fee
    return current


@dataclass(frozen=True)
class Invoiced:
    amount: Fraction  # monthly fees for the days
    months: Fraction  # how many months of service those days make


def invoiced(rows: Sequence[FeeRow], start: datetime.date, end: datetime.date) -> Invoiced:
    """Monthly fees for the days [start, end)."""
    ordered = sorted(rows)
    changes = [since for since, _fee in ordered]
    amount = months = Fraction(0)
    day = start
    while day < end:
        month_days = calendar.monthrange(day.year, day.month)[1]
        next_change = min((c for c in changes if c > day), default=end)
        until = min(end, next_month(day), next_change)
        share = Fraction((until - day).days, month_days)
        amount += share * Fraction(fee_on(ordered, day))
        months += share
        day = until
    return Invoiced(amount, months)


def annual_fees(
    rows: Sequence[FeeRow],
    *,
    on: datetime.date,
    basis_months: int,
    invoiced_from: datetime.date | None,
    terminated_on: datetime.date | None,
    one_time_fee: Decimal,
    signed_on: datetime.date,
) -> Decimal:
    """D §19.2: the fees actually paid over the last `basis_months` months before `on`, or, when
    the service has been provided for less time, `basis_months` times the average monthly fee
    over the time it was (the one-time fee paid in the period counts once, never multiplied).
    Nothing invoiced yet: `basis_months` times the fee agreed."""
    window_start = add_months(on, -basis_months)
    one_time = Fraction(one_time_fee) if window_start <= signed_on < on else Fraction(0)
    if invoiced_from is None or invoiced_from >= on:
        return cents(basis_months * Fraction(fee_on(rows, on)) + one_time)
    end = min(on, terminated_on) if terminated_on else on
    paid = invoiced(rows, max(window_start, invoiced_from), end)
    if invoiced_from <= window_start:
        return cents(paid.amount + one_time)
    if paid.months == 0:
        return cents(basis_months * Fraction(fee_on(rows, on)) + one_time)
    return cents(basis_months * paid.amount / paid.months + one_time)
