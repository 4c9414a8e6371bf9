"""A ticket's history as people read it: each entry a sentence in the reader's language, with
who did it and when in a stated time zone.

Entries store what happened (field, old and new value, codes and UTC times) and, for the why, a
note code with its values (`note()`); the words are chosen when the entry is read, so a Swedish
agent and an English one each read it in their own language."""

from __future__ import annotations

import datetime
import json
import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contracts.clauses import cited
from core.times import local_time
from tickets.models import AttachmentReference, Classification, CloseReason, NotFaultReason, shown_host
from tickets.states import Status

# Why something happened. The key is stored; the text is translated when the entry is read.
NOTES = {
    "reported": gettext_lazy("Report received"),
    "customer-answered": gettext_lazy("The customer answered"),
    "no-answer": gettext_lazy("The customer did not answer by the deadline%(ref)s."),
    "answered-in-time": gettext_lazy(
        "The customer's answer reached the mail server at %(at)s, before the deadline %(due)s: the "
        "ticket closed without an answer is opened again%(ref)s."
    ),
}
# Notes written in words before they were stored as keys.
LEGACY = {
    "Report received": "reported",
    "Anmälan mottagen": "reported",
    "The customer answered": "customer-answered",
    "Kunden svarade": "customer-answered",
    "D §16.7": "no-answer",
}
KEY = re.compile(r"^([a-z-]+)(?: (\{.*\}))?$")


def note(key: str, **values: datetime.datetime | str) -> str:
    """The stored form of a note: its key, and its values (times as UTC ISO) when it has any."""
    assert key in NOTES, key
    if not values:
        return key
    encoded = {
        name: value.astimezone(datetime.UTC).isoformat() if isinstance(value, datetime.datetime) else value
        for name, value in values.items()
    }
    return f"{key} {json.dumps(encoded, separators=(',', ':'))}"


def note_text(stored: str, zone: str, terms=None) -> str:
    """A stored note in the reader's language, citing the ticket's `terms` where they say it; a
    note written in words is shown as written."""
    stored = LEGACY.get(stored, stored)
    match = KEY.match(stored or "")
    if not match or match[1] not in NOTES:
        return stored
    values = json.loads(match[2]) if match[2] else {}
    shown = {name: local_time(value, zone) if _is_time(value) else value for name, value in values.items()}
    return str(NOTES[match[1]]) % {**shown, "ref": cited(terms, "reply_close")}


def _is_time(value) -> bool:
    return isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T"


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or "–"


def describe(event, zone: str, terms=None) -> str:
    """One history entry as a sentence, without its time (shown beside it), citing the ticket's
    `terms` where they say it."""
    who = event.actor.get_username() if event.actor_id else _("The system")
    field, old, new = event.field, event.old_value, event.new_value
    if field == "status":
        sentence = _status_sentence(who, old, new)
    elif field == "service_started_at":
        sentence = (
            _("%(who)s started service.") % {"who": who}
            if new
            else _("%(who)s cleared the service start.") % {"who": who}
        )
    elif field == "assignee":
        sentence = (
            _("%(who)s assigned the ticket to %(name)s.") % {"who": who, "name": new}
            if new
            else _("%(who)s removed the assignee %(name)s.") % {"who": who, "name": old}
        )
    elif field == "customer_reply_due":
        sentence = (
            _("The customer has until %(due)s to answer%(ref)s.")
            % {"due": local_time(new, zone), "ref": cited(terms, "reply_close")}
            if new
            else _("The reply deadline %(due)s no longer applies.") % {"due": local_time(old, zone)}
        )
    elif field == "classification":
        sentence = (
            _("%(who)s classified the ticket: %(label)s.") % {"who": who, "label": _label(Classification, new)}
            if new
            else _("%(who)s removed the classification.") % {"who": who}
        )
    elif field == "not_fault_reason":
        sentence = (
            _("Reason it is not a fault: %(label)s.") % {"label": _label(NotFaultReason, new)}
            if new
            else _("The reason it is not a fault was removed.")
        )
    elif field == "close_reason":
        sentence = (
            _("Close reason: %(label)s.") % {"label": _label(CloseReason, new)}
            if new
            else _("The close reason %(label)s no longer applies.") % {"label": _label(CloseReason, old)}
        )
    elif field == "duplicate_of":
        sentence = (
            _("It repeats %(number)s.") % {"number": new}
            if new
            else _("It no longer names %(number)s as the ticket it repeats.") % {"number": old}
        )
    elif field == "watcher":
        sentence = (
            _("%(who)s added %(name)s to the ticket's e-mails.") % {"who": who, "name": new}
            if new
            else _("%(who)s took %(name)s off the ticket's e-mails.") % {"who": who, "name": old}
        )
    elif field == AttachmentReference.HISTORY_FIELD:
        sentence = _reference_sentence(who, new)
    elif field == "retention":
        sentence = _("Personal data removed after the retention period: %(what)s.") % {"what": new}
    elif field == "erasure":
        sentence = _("The reporter's personal data erased at their request: %(what)s.") % {"what": new}
    else:
        sentence = _("%(who)s changed %(field)s from %(old)s to %(new)s.") % {
            "who": who,
            "field": field,
            "old": old or "–",
            "new": new or "–",
        }
    if event.note and field not in ("retention", "erasure"):
        text = note_text(event.note, zone, terms)
        if text and text != str(NOTES["reported"]):
            sentence = f"{sentence} {text}" if text.endswith(".") else f"{sentence} ({text})"
    return sentence


def _reference_sentence(who: str, stored: str | None) -> str:
    """A link added to a file kept elsewhere (tickets.references): its name and its host."""
    try:
        added = json.loads(stored or "")
        name, host = str(added["name"]), shown_host(str(added["url"]))
    except (ValueError, TypeError, KeyError):  # masked by retention, or not ours
        return _("%(who)s added a link to a file.") % {"who": who}
    return _("%(who)s added a link to “%(name)s” on %(host)s.") % {"who": who, "name": name, "host": host}


def _status_sentence(who: str, old: str | None, new: str | None) -> str:
    if old is None and new == Status.NEW:
        return _("%(who)s reported it.") % {"who": who}
    if new == Status.IN_PROGRESS and old == Status.NEW:
        return _("%(who)s started work on it.") % {"who": who}
    if new == Status.WAITING_FOR_CUSTOMER and old in (Status.NEW, Status.IN_PROGRESS):
        return _("%(who)s asked the customer and put it on hold.") % {"who": who}
    if new == Status.RESOLVED:
        return _("%(who)s resolved it.") % {"who": who}
    if new == Status.CLOSED:
        return _("%(who)s closed it.") % {"who": who}
    if old == Status.CLOSED:
        return _("%(who)s opened it again.") % {"who": who}
    return _("%(who)s changed the status from %(old)s to %(new)s.") % {
        "who": who,
        "old": _label(Status, old),
        "new": _label(Status, new),
    }
