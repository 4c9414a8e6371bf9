"""Canned replies' placeholders: a fixed list of what a reply may name, filled from the ticket.
Nothing else in braces is read, so a reply's text can never reach into the ticket's objects."""

from __future__ import annotations

import re

from core.times import local_time

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")

# Each placeholder and how it is read from a ticket and the staff member writing.
PLACEHOLDERS = {
    "ticket.number": lambda ticket, agent: ticket.number,
    "ticket.a_number": lambda ticket, agent: ticket.a_number or "–",
    "ticket.b_number": lambda ticket, agent: ticket.b_number or "–",
    "ticket.service_start_due": lambda ticket, agent: local_time(ticket.service_start_due, ticket.terms.timezone),
    "customer.name": lambda ticket, agent: ticket.customer.name,
    "contract.description": lambda ticket, agent: ticket.contract.description or ticket.terms.name,
    "agent.first_name": lambda ticket, agent: agent.first_name or agent.get_username(),
}


def unknown_placeholders(text: str) -> list[str]:
    return sorted({"{" + name + "}" for name in PLACEHOLDER.findall(text) if name not in PLACEHOLDERS})


def fill(text: str, ticket, agent) -> str:
    """The text with each known placeholder replaced; anything else is left as written."""

    def value(match: re.Match) -> str:
        read = PLACEHOLDERS.get(match[1])
        return str(read(ticket, agent)) if read else match[0]

    return PLACEHOLDER.sub(value, text)
