"""One change to many tickets, made ticket by ticket through the same services as on a ticket's
page: each ticket is changed in its own transaction, and one that refuses (its state does not
allow the change, say) leaves the others changed and is named with its reason."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _

from tickets import services
from tickets.models import Ticket

MAXIMUM = 100


def back_to_queue(data) -> str:
    """The queue as it was when the tickets were ticked (its filters came along as "query")."""
    return reverse("desk") + ("?" + data["query"] if data.get("query") else "")


def ticked(data) -> list[str]:
    """The ticket numbers ticked in the queue (the values of "ticket"), each once, in order."""
    return list(dict.fromkeys(number.strip().upper() for number in data.getlist("ticket") if number.strip()))


def problem(numbers: list[str]) -> str | None:
    if not numbers:
        return _("Tick the tickets to change.")
    if len(numbers) > MAXIMUM:
        return _("Change at most %(maximum)d tickets at once.") % {"maximum": MAXIMUM}
    return None


@dataclass
class Outcome:
    changed: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (number, why)


def apply(numbers: Iterable[str], change: Callable[[Ticket], object]) -> Outcome:
    numbers = list(numbers)
    found = {ticket.number: ticket for ticket in Ticket.objects.filter(number__in=numbers)}
    outcome = Outcome()
    for number in numbers:
        ticket = found.get(number)
        if ticket is None:
            outcome.refused.append((number, _("No such ticket.")))
            continue
        try:
            change(ticket)
        except ValidationError as error:
            outcome.refused.append((number, " ".join(error.messages)))
        except services.TransitionNotAllowed as error:
            outcome.refused.append((number, str(error)))
        else:
            outcome.changed.append(number)
    return outcome


def report(request, outcome: Outcome, done: Callable[[int], str]) -> None:
    """The page's confirmation: what was done to how many, and each ticket left as it was."""
    if outcome.changed:
        messages.success(request, done(len(outcome.changed)))
    if outcome.refused:
        messages.error(
            request,
            _("Not changed: %(tickets)s")
            % {"tickets": "; ".join(f"{number} ({why})" for number, why in outcome.refused)},
        )
