"""A TMF621 client's writes (create, merge-patch) as calls of tickets.services: the services keep
every rule; this module only reads TMF's shapes and names the TMF attribute a refusal is about."""

from __future__ import annotations

from typing import Literal, overload

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from contracts.models import Contract
from tickets import references, services
from tickets.models import Channel, Status, Ticket
from tmf621.errors import TmfError
from tmf621.mapping import (
    CANCELLED,
    FAULT_TIME,
    REFERENCE_PREFIX,
    REPORT_CHARACTERISTICS,
    SEVERITIES,
    STATUS,
    TICKET_TYPES,
    TMF_STATUSES,
    tmf_status,
)

ENTITY = {"@type", "@baseType", "@schemaLocation"}
CREATE_ATTRIBUTES = {
    *ENTITY,
    "description",
    "severity",
    "ticketType",
    "relatedEntity",
    "relatedParty",
    "troubleTicketCharacteristic",
    "attachment",
}
PATCH_ATTRIBUTES = {
    *ENTITY,
    "id",
    "href",
    "description",
    "severity",
    "status",
    "statusChangeReason",
    "note",
    "attachment",
}
# What an item of `attachment` may carry: AttachmentRef's and Attachment's attributes.
# attachmentType and validFor are taken and not kept (a link has no type or period of ours).
ATTACHMENT_ATTRIBUTES = {
    *ENTITY,
    "@referredType",
    "id",
    "href",
    "name",
    "description",
    "url",
    "content",
    "size",
    "validFor",
    "attachmentType",
    "mimeType",
}
# A reference's fields as the TMF attributes a client sent.
REFERENCE_NAMES = {"url": "url", "name": "name", "mime_type": "mimeType", "size": "size", "description": "description"}
# Quantity units of a size, as bytes.
SIZE_UNITS = {
    "": 1,
    "b": 1,
    "byte": 1,
    "bytes": 1,
    "octet": 1,
    "octets": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 1000**2,
    "mib": 1024**2,
    "gb": 1000**3,
    "gib": 1024**3,
}

# The service's field names as the TMF attribute a client sent.
TMF_NAMES = {
    "a_number": "troubleTicketCharacteristic aNumber",
    "b_number": "troubleTicketCharacteristic bNumber",
    "fault_occurred_at": f"troubleTicketCharacteristic {FAULT_TIME}",
    "category": "ticketType",
    "message": "note",
}


def _renamed(error: ValidationError) -> ValidationError:
    if not hasattr(error, "error_dict"):
        return error
    return ValidationError({TMF_NAMES.get(field, field): messages for field, messages in error.message_dict.items()})


def _object(data) -> dict:
    if not isinstance(data, dict):
        raise TmfError(400, _("Send a JSON object."))
    return data


def _only(data: dict, allowed: set[str], what: str) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise TmfError(400, _("%(what)s does not take: %(names)s.") % {"what": what, "names": ", ".join(extra)})


@overload
def _text(data: dict, name: str, required: Literal[True] = True) -> str: ...
@overload
def _text(data: dict, name: str, required: bool) -> str | None: ...
def _text(data: dict, name: str, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise TmfError(400, _("%(name)s: give a text.") % {"name": name})
    return value


def _urgent(data: dict) -> bool:
    severity = _text(data, "severity").strip().lower()
    if severity not in SEVERITIES:
        raise TmfError(400, _("severity takes %(allowed)s.") % {"allowed": ", ".join(SEVERITIES)})
    return SEVERITIES[severity]


def _refs(data: dict, name: str) -> list[dict]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise TmfError(400, _("%(name)s: give a list of objects.") % {"name": name})
    return value


def _contract(user, data: dict) -> Contract:
    """The contract a relatedEntity with the role "contract" names, among the reader's."""
    named = [
        item.get("entity") for item in _refs(data, "relatedEntity") if str(item.get("role", "")).lower() == "contract"
    ]
    ids = [entity.get("id") for entity in named if isinstance(entity, dict)]
    if len(ids) != 1 or not isinstance(ids[0], str) or not (ids[0].isascii() and ids[0].isdigit()) or len(ids[0]) > 18:
        raise TmfError(
            400,
            _(
                'relatedEntity: name the contract once, as {"role": "contract", "entity": {"id": "…", "@type": "EntityRef"}}.'
            ),
        )
    contract = Contract.objects.visible_to(user).filter(pk=int(ids[0])).first()
    if contract is None:
        raise TmfError(400, _("relatedEntity: no contract has the id %(id)s.") % {"id": ids[0]})
    return contract


def _check_parties(data: dict, contract: Contract) -> None:
    for item in _refs(data, "relatedParty"):
        party = item.get("partyOrPartyRole")
        if (
            str(item.get("role", "")).lower() == "customer"
            and isinstance(party, dict)
            and str(party.get("id")) != str(contract.customer_id)
        ):
            raise TmfError(
                400,
                _("relatedParty: the customer is the contract's customer, id %(id)s.") % {"id": contract.customer_id},
            )


def _report_details(data: dict) -> dict:
    """aNumber, bNumber and faultOccurredAt (D §16.9) from troubleTicketCharacteristic."""
    details = {}
    for item in _refs(data, "troubleTicketCharacteristic"):
        name, value = item.get("name"), item.get("value")
        if name not in REPORT_CHARACTERISTICS:
            raise TmfError(
                400,
                _("troubleTicketCharacteristic: a report names %(names)s, not “%(name)s”.")
                % {"names": ", ".join(REPORT_CHARACTERISTICS), "name": name},
            )
        if not isinstance(value, str):
            raise TmfError(400, _("troubleTicketCharacteristic %(name)s: give its value as text.") % {"name": name})
        if name == FAULT_TIME:
            moment = _datetime(value)
            if moment is None:
                raise TmfError(
                    400,
                    _(
                        "troubleTicketCharacteristic %(name)s: give a date and time with its offset, e.g. 2026-10-02T14:05:00+02:00."
                    )
                    % {"name": name},
                )
            value = moment
        details[REPORT_CHARACTERISTICS[name]] = value
    return details


def _datetime(value: str):
    """The moment, or None for text that is no date and time (or an impossible one)."""
    try:
        return parse_datetime(value.strip())
    except ValueError:  # well formed but impossible: 2026-13-45T00:00:00Z
        return None


def _size(value, where: str) -> int | None:
    """A Quantity as bytes: {"amount": 52431, "units": "bytes"} (units also kB, MB, GB, KiB, …)."""
    if value is None:
        return None
    amount = value.get("amount") if isinstance(value, dict) else None
    units = value.get("units", "") if isinstance(value, dict) else None
    factor = SIZE_UNITS.get(units.strip().lower()) if isinstance(units, str) else None
    size = None
    if not isinstance(amount, bool) and isinstance(amount, int | float) and factor is not None and amount >= 0:
        size = round(amount * factor)
    if size is None or size > references.MAX_SIZE:
        raise TmfError(
            400,
            _('%(where)s size: give a Quantity in bytes, e.g. {"amount": 52431, "units": "bytes"}.') % {"where": where},
        )
    return size


def _links(ticket: Ticket | None, data: dict) -> list[dict]:
    """The links to files kept elsewhere that `attachment` adds, all checked before anything is
    written. An item with an `id` names an attachment the ticket already has (a merge-patch
    sends the whole list) and is left as it is; one without names a file by its `url`. Nothing
    is ever removed. An item that repeats a link the ticket has (a PATCH sent again) adds nothing."""
    if "attachment" not in data:
        return []
    items = data["attachment"]
    if not isinstance(items, list):
        raise TmfError(400, _("attachment: give a list of objects."))
    known: set[str] = set()
    present: set[tuple[str, str]] = set()
    if ticket is not None:
        references = getattr(ticket, "references")  # prefetched with the ticket (tmf621.mapping)
        known = {str(attachment.pk) for attachment in getattr(ticket, "visible_attachments")}
        known |= {REFERENCE_PREFIX + str(reference.pk) for reference in references}
        present = {(reference.url, reference.name) for reference in references}
    links = []
    for index, item in enumerate(items):
        where = f"attachment[{index}]"
        if not isinstance(item, dict):
            raise TmfError(400, _("%(where)s: give an object.") % {"where": where})
        _only(item, ATTACHMENT_ATTRIBUTES, where)
        if item.get("id") is not None:
            if str(item["id"]) not in known:
                raise TmfError(
                    400,
                    _("%(where)s: the ticket has no attachment with the id %(id)s.")
                    % {"where": where, "id": item["id"]},
                )
            continue
        link = _link(item, where)
        if (link["url"], link["name"]) not in present:
            present.add((link["url"], link["name"]))
            links.append(link)
    return links


def _link(item: dict, where: str) -> dict:
    if item.get("@type", "AttachmentRef") not in ("AttachmentRef", "Attachment"):
        raise TmfError(400, _("%(where)s: @type is AttachmentRef or Attachment.") % {"where": where})
    if item.get("content") is not None:
        raise TmfError(
            400,
            _(
                "%(where)s: files are not sent in content; give the url of a file kept elsewhere (uploads are the portal's)."
            )
            % {"where": where},
        )
    if item.get("url") is None:
        raise TmfError(
            400,
            _("%(where)s: give the url of a file kept elsewhere, or the id of one of the ticket's attachments.")
            % {"where": where},
        )
    fields, errors = references.check(
        url=item["url"],
        name=item.get("name"),
        mime_type=item.get("mimeType", ""),
        description=item.get("description", ""),
    )
    if errors:
        problems = [
            f"{where} {REFERENCE_NAMES[field]}: {message}" for field, found in errors.items() for message in found
        ]
        raise TmfError(400, " ".join(problems))
    return {**fields, "size": _size(item.get("size"), where)}


def _add_links(ticket: Ticket, user, links: list[dict]) -> None:
    for link in links:
        references.reference_add(ticket=ticket, actor=user, **link)


@transaction.atomic
def create(user, data) -> Ticket:
    data = _object(data)
    _only(data, CREATE_ATTRIBUTES, _("A new trouble ticket"))
    description = _text(data, "description")
    urgent = _urgent(data)
    category = _text(data, "ticketType")
    if category not in TICKET_TYPES:
        raise TmfError(400, _("ticketType takes %(allowed)s.") % {"allowed": ", ".join(TICKET_TYPES)})
    contract = _contract(user, data)
    _check_parties(data, contract)
    links = _links(None, data)
    try:
        ticket = services.ticket_create(
            contract=contract,
            description=description,
            channel=Channel.API,
            reported_by=user,
            category=category,
            urgent=urgent,
            **_report_details(data),
        )
    except ValidationError as error:
        raise _renamed(error) from None
    _add_links(ticket, user, links)
    return ticket


def _new_notes(ticket: Ticket, data: dict) -> list[str]:
    """Notes the client added: a merge-patch sends the whole list, so those it already had (by
    id) are not written again."""
    known = {str(pk) for pk in ticket.messages.values_list("pk", flat=True)}
    texts = []
    for note in _refs(data, "note"):
        if str(note.get("id")) in known:
            continue
        texts.append(_text(note, "text"))
    return texts


@transaction.atomic
def patch(user, ticket: Ticket, data) -> None:
    """description and severity stay as reported (no service changes them: add a note instead);
    notes become replies; new attachment items links to files kept elsewhere; a status is the
    transition the states table allows the client. All or nothing: one refusal undoes the rest.
    `ticket` comes from mapping.tickets_for (what the reader may see of it)."""
    data = _object(data)
    _only(data, PATCH_ATTRIBUTES, _("A change of a trouble ticket"))
    if "description" in data and data["description"] != ticket.description:
        raise TmfError(400, _("description: the report stays as it was made; add a note instead."))
    if "severity" in data and _urgent(data) != ticket.urgent:
        raise TmfError(400, _("severity: it is set when the fault is reported; add a note instead."))
    notes = _new_notes(ticket, data)
    links = _links(ticket, data)
    target = data.get("status")
    current = tmf_status(ticket.status, ticket.close_reason)
    try:
        _add_links(ticket, user, links)  # before a status that could close the ticket
        if target is None or target == current:
            _reply(ticket, user, notes)
        else:
            _transition(ticket, user, target, notes, _text(data, "statusChangeReason", required=False) or "")
    except services.TransitionNotAllowed as error:
        raise TmfError(409, str(error)) from None
    except ValidationError as error:
        raise _renamed(error) from None


def _reply(ticket: Ticket, user, notes: list[str]) -> None:
    for text in notes:
        services.ticket_reply(ticket=ticket, actor=user, message=text, channel=Channel.API)


def _transition(ticket: Ticket, user, target: str, notes: list[str], reason: str) -> None:
    """Customers cancel (withdraw), or answer (a note) to take a pending ticket back in progress;
    staff start, ask (pending), resolve and close. A pending or resolved ticket's note or
    statusChangeReason is the message the customer gets."""
    if target not in TMF_STATUSES:
        raise TmfError(400, _("status takes %(allowed)s.") % {"allowed": ", ".join(TMF_STATUSES)})
    message = "\n\n".join(notes) or reason
    if not user.is_staff:
        if target == CANCELLED:
            services.ticket_withdraw(ticket=ticket, actor=user, message=message, channel=Channel.API)
        elif target == STATUS[Status.IN_PROGRESS] and notes:
            _reply(ticket, user, notes)
            ticket.refresh_from_db(fields=["status"])
            if ticket.status != Status.IN_PROGRESS:
                raise TmfError(409, _("A note takes only a pending or resolved ticket back in progress."))
        else:
            raise TmfError(403, _("A customer cancels a report, or answers it with a note; the desk does the rest."))
        return
    if target == CANCELLED:
        raise TmfError(403, _("Cancelling is the customer's; the desk closes a ticket (status closed)."))
    if target == STATUS[Status.WAITING_FOR_CUSTOMER]:
        services.ticket_request_info(ticket=ticket, actor=user, message=message)
    elif target == STATUS[Status.RESOLVED]:
        services.ticket_resolve(ticket=ticket, actor=user, message=message)
    elif target == STATUS[Status.IN_PROGRESS]:
        _reply(ticket, user, notes)
        services.ticket_start(ticket=ticket, actor=user)
    elif target == STATUS[Status.CLOSED]:
        _reply(ticket, user, notes)
        services.ticket_close(ticket=ticket, actor=user)
    else:
        raise TmfError(409, _("A ticket does not go back to %(status)s.") % {"status": target})
