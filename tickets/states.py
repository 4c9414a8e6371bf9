"""A ticket's states and the actions each allows: the one table the services, the API and the
pages read, so a button is shown exactly when the action behind it would be taken."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Status(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_FOR_CUSTOMER = "waiting_for_customer", _("Waiting for customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.WAITING_FOR_CUSTOMER)
NOT_CLOSED = (*OPEN_STATUSES, Status.RESOLVED)
EVERY_STATUS = (*NOT_CLOSED, Status.CLOSED)


class Action(models.TextChoices):
    START = "start", _("Start service")
    REPLY = "reply", _("Send")
    REQUEST_INFO = "request-info", _("Ask the customer")
    RESOLVE = "resolve", _("Resolve")
    CLOSE = "close", _("Close")
    CLASSIFY = "classify", _("Classify")
    ASSIGN = "assign", _("Assign")
    TIME = "time", _("Log time")
    WITHDRAW = "withdraw", _("Withdraw the report")


# What customers may do; everything else is staff's (staff close a ticket, customers withdraw it).
BY_CUSTOMER = (Action.REPLY, Action.WITHDRAW)


# Which states allow which action. A customer's reply to a resolved ticket reopens it; a closed
# ticket takes no action but its classification (billing may correct it) and logged time.
ALLOWED: dict[Action, tuple[Status, ...]] = {
    Action.START: (Status.NEW,),
    Action.REPLY: NOT_CLOSED,
    Action.REQUEST_INFO: (Status.NEW, Status.IN_PROGRESS),
    Action.RESOLVE: OPEN_STATUSES,
    Action.CLOSE: NOT_CLOSED,
    Action.CLASSIFY: EVERY_STATUS,
    Action.ASSIGN: NOT_CLOSED,
    Action.TIME: EVERY_STATUS,
    Action.WITHDRAW: OPEN_STATUSES,
}

# How a refusal names the action: "A ticket that is closed cannot be %(done)s."
DONE: dict[Action, StrOrPromise] = {
    Action.START: pgettext_lazy("ticket action", "started"),
    Action.REPLY: pgettext_lazy("ticket action", "answered"),
    Action.REQUEST_INFO: pgettext_lazy("ticket action", "put on hold for the customer"),
    Action.RESOLVE: pgettext_lazy("ticket action", "resolved"),
    Action.CLOSE: pgettext_lazy("ticket action", "closed"),
    Action.CLASSIFY: pgettext_lazy("ticket action", "classified"),
    Action.ASSIGN: pgettext_lazy("ticket action", "assigned"),
    Action.TIME: pgettext_lazy("ticket action", "given logged time"),
    Action.WITHDRAW: pgettext_lazy("ticket action", "withdrawn"),
}


def allows(status: str, action: str) -> bool:
    return status in ALLOWED[Action(action)]


def allowed_actions(status: str, *, staff: bool = True) -> list[str]:
    """The actions a ticket in `status` takes from staff (or from its customer), in the table's
    order."""
    return [
        action.value
        for action, states in ALLOWED.items()
        if status in states and (action in BY_CUSTOMER if not staff else action != Action.WITHDRAW)
    ]
