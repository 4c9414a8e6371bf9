"""The list's query parameters (TMF630 style: `status=pending,inProgress`,
`creationDate.gt=2026-01-01T00:00:00Z`) as a filtered, ordered queryset. A parameter that
cannot be meant is refused by name rather than ignored: an OSS that filters on a typo would
otherwise read every ticket as a match."""

from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from tickets.models import CloseReason, Status, Ticket
from tmf621.errors import TmfError
from tmf621.mapping import CANCELLED, SEVERITIES, STATUS, TICKET_TYPES, TMF_STATUSES

PAGING = ("fields", "offset", "limit", "sort")
# `sort`: newest first unless told; "-" in front sorts descending (TMF630).
SORTS = {"creationDate": "received_at", "lastUpdate": "updated_at"}
RANGES = {"gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}
FILTERS = ("status", "severity", "ticketType", "relatedParty.id", *(f"creationDate.{op}" for op in RANGES))
DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET = 20, 100, 1_000_000_000


def _values(params, name: str, allowed) -> list[str]:
    values = [value.strip() for value in params[name].split(",") if value.strip()]
    wrong = [value for value in values if value not in allowed]
    if wrong or not values:
        raise TmfError(
            400,
            _("%(name)s takes %(allowed)s, not “%(value)s”.")
            % {"name": name, "allowed": ", ".join(allowed), "value": params[name]},
        )
    return values


def _status_condition(statuses: list[str]) -> Q:
    ours = {value: key for key, value in STATUS.items()}
    condition = Q(pk__in=[])
    for value in statuses:
        if value == CANCELLED:
            condition |= Q(status=Status.CLOSED, close_reason=CloseReason.WITHDRAWN)
        elif value == STATUS[Status.CLOSED]:
            condition |= Q(status=Status.CLOSED) & ~Q(close_reason=CloseReason.WITHDRAWN)
        else:
            condition |= Q(status=ours[value])
    return condition


def _moment(name: str, value: str) -> datetime.datetime:
    try:
        # A "+" of an offset arrives as a space when the client did not encode it.
        moment = parse_datetime(value.strip().replace(" ", "+"))
    except ValueError:  # well formed but impossible: 2026-13-45T00:00:00Z
        moment = None
    if moment is None or moment.tzinfo is None:
        raise TmfError(
            400, _("%(name)s takes a date and time with its offset, e.g. 2026-10-02T14:05:00Z.") % {"name": name}
        )
    return moment


def filter_tickets(queryset: QuerySet[Ticket], params) -> QuerySet[Ticket]:
    unknown = sorted(set(params) - set(PAGING) - set(FILTERS))
    if unknown:
        raise TmfError(
            400,
            _("Unknown query parameter(s): %(names)s. Filters: %(filters)s.")
            % {"names": ", ".join(unknown), "filters": ", ".join(FILTERS)},
        )
    if "status" in params:
        queryset = queryset.filter(_status_condition(_values(params, "status", TMF_STATUSES)))
    if "severity" in params:
        urgent = {SEVERITIES[value] for value in _values(params, "severity", tuple(SEVERITIES))}
        queryset = queryset.filter(urgent__in=urgent)
    if "ticketType" in params:
        queryset = queryset.filter(category__in=_values(params, "ticketType", TICKET_TYPES))
    if "relatedParty.id" in params:
        ids = [value.strip() for value in params["relatedParty.id"].split(",")]
        if not all(value.isascii() and value.isdigit() for value in ids):
            raise TmfError(400, _("relatedParty.id takes the customer's id, a whole number."))
        queryset = queryset.filter(customer_id__in=ids)
    for op, lookup in RANGES.items():
        name = f"creationDate.{op}"
        if name in params:
            queryset = queryset.filter(**{f"received_at__{lookup}": _moment(name, params[name])})
    return queryset.order_by(*_order(params.get("sort", "-creationDate")))


def _order(sort: str) -> tuple[str, str]:
    name = sort.strip().removeprefix("-")
    if name not in SORTS:
        raise TmfError(
            400, _("sort takes %(allowed)s, each with “-” in front for descending.") % {"allowed": ", ".join(SORTS)}
        )
    sign = "-" if sort.strip().startswith("-") else ""
    return f"{sign}{SORTS[name]}", f"{sign}id"


def paging(params) -> tuple[int, int]:
    """`offset` and `limit`: whole numbers, at most MAX_LIMIT tickets a page."""
    result = []
    for name, default, lowest, highest in (("offset", 0, 0, MAX_OFFSET), ("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)):
        value = params.get(name, str(default)).strip()
        if not (value.isascii() and value.isdigit()) or not lowest <= int(value) <= highest:
            raise TmfError(
                400,
                _("%(name)s takes a whole number from %(lowest)d to %(highest)d.")
                % {"name": name, "lowest": lowest, "highest": highest},
            )
        result.append(int(value))
    return result[0], result[1]


def fields(params) -> list[str] | None:
    value = params.get("fields", "").strip()
    return [name.strip() for name in value.split(",") if name.strip()] or None
