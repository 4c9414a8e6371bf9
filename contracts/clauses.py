"""Where each terms say what the desk tells people: one table of clause references per terms
version (`ServiceTerms.clauses`), e.g. {"fault_details": "D §16.9"}, printed as the contract
numbers them. A terms version silent on a matter has no entry, and nothing is cited for it.

`reference` gives the reference alone ("D §16.9" or ""), `cited` the parenthesis a sentence
ends with (" (D §16.9)" or ""), so that a sentence reads whole with or without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# The matters the desk cites a clause for, and what each is about (the admin's help).
KEYS: dict[str, Any] = {
    "numbers_defined": gettext_lazy("what the A-number and the B-number are"),
    "numbers_covered": gettext_lazy("which numbers the service covers"),
    "fault_details": gettext_lazy("what a fault report must give"),
    "urgent": gettext_lazy("urgent cases and reports by phone"),
    "service_start": gettext_lazy("when reports are handled and service starts"),
    "reply_close": gettext_lazy("closing a ticket the customer did not answer in time"),
    "billable_help": gettext_lazy("billable work that is not a fault"),
    "customer_change": gettext_lazy("an unannounced change by the customer"),
    "not_suppliers_fault": gettext_lazy("discounts only for the supplier's faults"),
    "maintenance_windows": gettext_lazy("system work inside the maintenance windows"),
    "planned_work_notice": gettext_lazy("notice of planned work"),
    "status_page": gettext_lazy("the running operational status"),
    "discount": gettext_lazy("price discount for low availability"),
    "delivery_deadline": gettext_lazy("the delivery deadline"),
    "delivery_defects": gettext_lazy("reporting defects in the delivery"),
    "delivery_deduction": gettext_lazy("deduction for late delivery"),
    "delivery_cancel": gettext_lazy("cancelling after a late delivery"),
    "delivery_not_solely": gettext_lazy("delays not solely the supplier's"),
    "damages": gettext_lazy("damages"),
    "damages_cap": gettext_lazy("the damages cap"),
    "damages_outside_cap": gettext_lazy("where the damages cap does not apply"),
    "claims": gettext_lazy("claims"),
    "claim_window": gettext_lazy("the claim window"),
    "claim_contents": gettext_lazy("what a claim must contain"),
    "terms_change": gettext_lazy("notice of changed terms"),
    "price_change": gettext_lazy("notice of a changed fee"),
    "change_termination": gettext_lazy("terminating after changed terms or fees"),
    "notice_receipt": gettext_lazy("when a notice counts as received"),
    "contact_person": gettext_lazy("the customer's contact person"),
}

# A reference as a contract prints it: a document letter, then one or more clause numbers or
# ranges, e.g. "D §16.9", "D §19.2–19.3", "D §15.3, §16.5".
_CLAUSE = r"§\d+(?:\.\d+)*(?:–\d+(?:\.\d+)*)?"
REFERENCE = re.compile(rf"[A-Z]{{1,3}} {_CLAUSE}(?:, {_CLAUSE})*")
MAX_LENGTH = 60


class HasClauses(Protocol):
    clauses: dict[str, str]


def clean_clauses(table: Any) -> dict[str, str]:
    """The table as stored: known keys, each with a reference as printed; raises ValidationError."""
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise ValidationError(_('Give an object of clause references, e.g. {"fault_details": "D §16.9"}.'))
    unknown = sorted(key for key in table if key not in KEYS)
    if unknown:
        raise ValidationError(
            _("Unknown clause keys: %(unknown)s; known: %(known)s.")
            % {"unknown": ", ".join(str(key) for key in unknown), "known": ", ".join(KEYS)}
        )
    cleaned = {}
    for key in KEYS:
        if key not in table:
            continue
        value = table[key]
        if not isinstance(value, str) or len(value) > MAX_LENGTH or not REFERENCE.fullmatch(value.strip()):
            raise ValidationError(
                _('%(key)s: write the reference as the contract prints it, e.g. "D §16.9" or "T §5.1, §5.2.1".')
                % {"key": key}
            )
        cleaned[key] = value.strip()
    return cleaned


def reference(terms: HasClauses | dict | None, key: str) -> str:
    """The terms' reference for a matter, "" where they are silent (or there are no terms).
    `terms` may be the table itself, as a query's values give it."""
    assert key in KEYS, key
    if terms is None:
        return ""
    table = terms if isinstance(terms, dict) else terms.clauses
    return (table or {}).get(key, "")


def cited(terms: HasClauses | dict | None, key: str) -> str:
    """ " (D §16.9)" to end a sentence with, or "" where the terms are silent."""
    ref = reference(terms, key)
    return f" ({ref})" if ref else ""


def common(terms: Iterable[HasClauses], key: str) -> str:
    """The reference every one of these terms gives; "" when they differ or any is silent (a
    customer choosing among contracts on different terms is cited none of them)."""
    refs = {reference(t, key) for t in terms}
    return refs.pop() if len(refs) == 1 else ""


def cited_together(terms: HasClauses | dict | None, *keys: str) -> str:
    """Several matters' references as one parenthesis, a document's letter written once:
    " (D §15.14, §28, §25.2)", or "" where the terms are silent on all of them."""
    parts: list[tuple[str, list[str]]] = []
    for ref in filter(None, (reference(terms, key) for key in keys)):
        letter, clauses = ref.split(" ", 1)
        if parts and parts[-1][0] == letter:
            parts[-1][1].append(clauses)
        else:
            parts.append((letter, [clauses]))
    joined = ", ".join(f"{letter} {', '.join(clauses)}" for letter, clauses in parts)
    return f" ({joined})" if joined else ""


def cited_common(terms: Iterable[HasClauses], key: str) -> str:
    """`common` as the parenthesis a sentence ends with, or ""."""
    ref = common(terms, key)
    return f" ({ref})" if ref else ""


def each(terms: Iterable[HasClauses], key: str) -> str:
    """Every reference these terms give, once each, in order: "D §11.3, T §5.1" (a page about
    several terms at once)."""
    refs = dict.fromkeys(ref for ref in (reference(t, key) for t in terms) if ref)
    return ", ".join(refs)
