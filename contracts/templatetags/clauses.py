"""Clause references from the terms' own table (contracts.clauses), never written in a template.

{% cite ticket.terms "fault_details" as ref %}…the fault{{ ref }}.   " (D §16.9)" or ""
{% clause contract.terms "delivery_deadline" %}                       "D §8.2" or ""
{% cite_all terms "numbers_defined" as ref %}   the reference all these terms share, or ""
{% clause_each terms "planned_work_notice" %}   "D §11.3, T §5.1": each terms' own
{% cite_each terms "planned_work_notice" as ref %}   " (D §11.3, T §5.1)" or ""
"""

from collections.abc import Iterable

from django import template

from contracts import clauses

register = template.Library()


@register.simple_tag
def clause(terms, key: str) -> str:
    return clauses.reference(terms, key)


@register.simple_tag
def cite(terms, key: str) -> str:
    return clauses.cited(terms, key)


@register.simple_tag
def cite_all(terms: Iterable, key: str) -> str:
    return clauses.cited_common(terms, key)


@register.simple_tag
def clause_each(terms: Iterable, key: str) -> str:
    return clauses.each(terms, key)


@register.simple_tag
def cite_each(terms: Iterable, key: str) -> str:
    refs = clauses.each(terms, key)
    return f" ({refs})" if refs else ""
