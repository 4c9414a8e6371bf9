"""Checks every app's services make the same way, with the same words."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

# No report, fault or outage of this service lies before this: an earlier time is a typing error.
EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def labels(choices) -> str:
    """A choice list as people read it: "Fault report", "Support or change request", …"""
    return ", ".join(f"“{label}”" for label in choices.labels)


def check_time(errors: dict, field: str, value: datetime.datetime | None) -> None:
    """A time must carry its offset and lie in 2000 or later; a problem goes into `errors`."""
    if value is None:
        return
    if timezone.is_naive(value):
        errors.setdefault(field, []).append(_("Give the time with its offset, e.g. 2026-10-02T14:05:00+02:00."))
    elif value < EARLIEST:
        errors.setdefault(field, []).append(_("Give a time in 2000 or later."))
