"""Query parameters of the API, checked: a filter value the API cannot read answers 400 naming
the parameter, instead of silently filtering nothing (the staff pages stay forgiving, as a
search box is)."""

import datetime

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from core.validation import EARLIEST


def whole_number(value: str) -> bool:
    """Digits 0–9 only (not "²" or "١٢", which str.isdigit also takes) that fit a database id."""
    return value.isascii() and value.isdigit() and len(value) < 19


def an_id(value: str) -> bool:
    """A whole number from 1: no object has the id 0."""
    return whole_number(value) and int(value) >= 1


def yes_or_no(value: str) -> bool:
    return value.strip().lower() in {"1", "0", "true", "false", "yes", "no"}


def not_blank(value: str) -> bool:
    return bool(value.strip())


def time_of(value: str) -> datetime.datetime | None:
    """A date and time with its offset, in 2000 or later (an earlier one is a typing error, as
    everywhere in the API); None for anything else. A "+" sent unencoded arrives as a space."""
    try:
        moment = parse_datetime(value.strip().replace(" ", "+"))
    except ValueError:  # well formed but impossible: 2026-13-45T00:00:00Z
        return None
    if moment is None or moment.tzinfo is None or moment < EARLIEST:
        return None
    # In UTC: PostgreSQL takes offsets of at most 15 hours (ISO 8601 allows 23:59).
    try:
        return moment.astimezone(datetime.UTC)
    except OverflowError:  # past the last moment of year 9999 in UTC: after every time there is
        return datetime.datetime.max.replace(tzinfo=datetime.UTC)


def a_time(value: str) -> bool:
    return time_of(value) is not None


def one_of(*choices: str):
    def check(value: str) -> bool:
        return value in choices

    setattr(check, "choices", choices)  # named by check()'s message (a function's attribute mypy does not model)
    return check


def comma_list_of(*choices: str):
    def check(value: str) -> bool:
        return all(part in choices for part in value.split(","))

    setattr(check, "choices", choices)  # named by check()'s message (a function's attribute mypy does not model)
    return check


def check(params, **rules) -> None:
    """Each named parameter at most once and readable by its rule."""
    errors = {}
    for name, rule in rules.items():
        values = params.getlist(name)
        if len(values) > 1:
            errors[name] = [_("Give %(name)s once.") % {"name": name}]
        elif values and not rule(values[0]):
            if rule is whole_number:
                message = _("%(name)s must be a whole number.")
            elif rule is an_id:
                message = _("%(name)s must be an id, a whole number from 1.")
            elif rule is yes_or_no:
                message = _("%(name)s must be true or false.")
            elif rule is not_blank:
                message = _("%(name)s must not be blank.")
            elif rule is a_time:
                message = _(
                    "%(name)s must be a date and time in 2000 or later with its offset, e.g. 2026-10-02T14:05:00+02:00."
                )
            else:
                message = _("%(name)s must be one of: %(choices)s.")
            errors[name] = [message % {"name": name, "choices": ", ".join(getattr(rule, "choices", ()))}]
    if errors:
        raise ValidationError(errors)
