"""Links to files kept elsewhere (a customer's file share, an OSS's document store), added to a
ticket beside the files uploaded to it.

We never fetch, preview or follow the address: it is shown as a link and that is all, so a
reference cannot make the desk send a request anywhere (no server-side request forgery). What
is checked is what a person reads before clicking: an http or https address with a host, no
user name or password in it (`https://bank.example@evil.example/` reads as the bank), and no
spaces, control or invisible characters that would show one address and open another.
Each addition is written to the ticket's history, which is what tells listeners (TMF621)."""

from __future__ import annotations

import json
import re
import unicodedata
from urllib.parse import urlsplit

import idna
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from tickets.models import AttachmentReference, Status, Ticket, TicketEvent
from tickets.services import TransitionNotAllowed


def _max_length(field: str) -> int:
    column = AttachmentReference._meta.get_field(field)
    assert isinstance(column, models.CharField) and column.max_length is not None  # each has its length
    return column.max_length


MAX_URL = _max_length("url")
MAX_NAME = _max_length("name")
MAX_DESCRIPTION = _max_length("description")
MAX_SIZE = 2**63 - 1  # what the database's bigint holds
# type/subtype as RFC 6838 names them, without parameters.
MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")


def _hidden_in_address(char: str) -> bool:
    """Control, format (bidirectional overrides, zero-width) and separator characters: none
    belongs in an address."""
    return unicodedata.category(char)[0] in ("C", "Z")


def _hidden_in_text(char: str) -> bool:
    """Control and format characters, line and paragraph separators: in a name they make one
    text read as another (an override turns "gpj.exe" into "exe.jpg")."""
    return unicodedata.category(char) in ("Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp")


def url_problem(url) -> str | None:
    """Why `url` cannot be a reference's address, or None. Surrounding spaces are the caller's
    to strip."""
    if not isinstance(url, str) or not url:
        return _("Give the file's address (an http or https URL).")
    if len(url) > MAX_URL:
        return _("The address is %(length)d characters long; at most %(limit)d are taken.") % {
            "length": len(url),
            "limit": MAX_URL,
        }
    if any(_hidden_in_address(char) for char in url):
        return _(
            "The address contains a space, a control character or an invisible character; write them percent-encoded."
        )
    if "\\" in url:
        # Browsers read a backslash as a slash, Python's URL parser does not: the host we would
        # show is not the one the browser opens.
        return _("The address contains a backslash; write it with slashes.")
    try:
        parts = urlsplit(url)
        parts.port
    except ValueError:
        return _("The address cannot be read as a URL.")
    if not parts.scheme:
        return _("The address must start with http:// or https://.")
    if parts.scheme not in ("http", "https"):
        return _("Only http and https addresses are taken, not %(scheme)s.") % {"scheme": parts.scheme}
    if "@" in parts.netloc:
        return _("The address carries a user name or password (user:password@); leave them out.")
    if not parts.hostname:
        return _("The address names no host.")
    if "%" in parts.hostname:
        # A browser decodes it into another host than the one we would show.
        return _("The address's host name is percent-encoded; write it as it is.")
    if not parts.hostname.isascii():
        try:
            idna.encode(parts.hostname, uts46=True, transitional=False)
        except idna.IDNAError:
            return _("The address's host name cannot be read.")
    return None


def check(
    *, url, name, mime_type: str = "", size: int | None = None, description: str = ""
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The reference's fields as stored, and the problems keyed by field (empty: none). Pure:
    nothing is read or written."""
    errors: dict[str, list[str]] = {}
    url = url.strip() if isinstance(url, str) else url
    problem = url_problem(url)
    if problem:
        errors["url"] = [problem]
    else:
        scheme = urlsplit(url).scheme
        url = scheme + url[len(scheme) :]  # HTTPS:// as https://, which the database's check reads
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        errors["name"] = [_("Give the file a name.")]
    elif len(name) > MAX_NAME:
        errors["name"] = [_("The name is at most %(limit)d characters long.") % {"limit": MAX_NAME}]
    elif any(_hidden_in_text(char) for char in name):
        errors["name"] = [_("The name contains a control or invisible character.")]
    mime_type = "" if mime_type is None else mime_type
    mime_type = mime_type.strip().lower() if isinstance(mime_type, str) else None
    if mime_type is None or (mime_type and not MEDIA_TYPE.match(mime_type)):
        errors["mime_type"] = [_("Give the media type as type/subtype, e.g. application/pdf.")]
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_SIZE):
        errors["size"] = [_("Give the size as a whole number of bytes.")]
    description = "" if description is None else description
    description = description.strip() if isinstance(description, str) else None
    if description is None or len(description) > MAX_DESCRIPTION:
        errors["description"] = [
            _("The description is a text of at most %(limit)d characters.") % {"limit": MAX_DESCRIPTION}
        ]
    elif any(_hidden_in_text(char) for char in description if char not in "\r\n\t"):
        errors["description"] = [_("The description contains a control or invisible character.")]
    fields = {"url": url, "name": name, "mime_type": mime_type or "", "description": description or ""}
    return fields, errors


@transaction.atomic
def reference_add(
    *,
    ticket: Ticket,
    actor,
    url: str,
    name: str,
    mime_type: str = "",
    size: int | None = None,
    description: str = "",
) -> AttachmentReference:
    """Add a link to a file kept elsewhere. Refused, with nothing written, when a field is not
    as `check` wants it (ValidationError by field) or the ticket is closed (its record is
    complete: TransitionNotAllowed). The same address under the same name again is the link
    the ticket has: nothing is added (a request sent twice, even at once)."""
    fields, errors = check(url=url, name=name, mime_type=mime_type, size=size, description=description)
    if errors:
        raise ValidationError(errors)
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status == Status.CLOSED:
        raise TransitionNotAllowed(_("The ticket is closed: nothing more is added to it."))
    same = AttachmentReference.objects.filter(ticket=ticket, url=fields["url"], name=fields["name"]).first()
    if same is not None:
        return same
    actor = actor if getattr(actor, "is_authenticated", False) else None
    reference = AttachmentReference.objects.create(ticket=ticket, added_by=actor, size=size, **fields)
    # Its post_save is how apps above learn of the change (tmf621.events): one history entry each.
    TicketEvent.objects.create(
        ticket=ticket,
        actor=actor,
        field=AttachmentReference.HISTORY_FIELD,
        old_value=None,
        new_value=json.dumps({"id": reference.pk, "name": reference.name, "url": reference.url}, ensure_ascii=False),
    )
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=reference.created_at)
    return reference
