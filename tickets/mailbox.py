"""Reports and replies from an IMAP mailbox (D §16.7), polled over TLS by a beat task.

Each message is fetched without touching its flags, handed to `inbound.receive` (which stores it
once per Message-ID), and only then marked as seen or moved to the processed mailbox. A poll cut
off between the two fetches the message again next time, and `receive` returns the record it
already has: nothing is taken twice and nothing is lost. A message the database could not take
stays in the mailbox, unmarked, for the next poll.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import datetime
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass, field

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from tickets import inbound

logger = logging.getLogger(__name__)
INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')


class MailboxError(Exception):
    """The mailbox could not be reached, signed in to or read; the message says which."""


@dataclass
class PollResult:
    taken: int = 0  # stored (or found stored already) and then marked or moved
    left: int = 0  # still in the mailbox for the next poll
    outcomes: collections.Counter = field(default_factory=collections.Counter)

    def __str__(self) -> str:
        parts = ", ".join(f"{outcome}: {count}" for outcome, count in sorted(self.outcomes.items()))
        return f"taken {self.taken}" + (f" ({parts})" if parts else "") + f", left {self.left}"


def quote(name: str) -> str:
    """A mailbox name as an IMAP quoted string in modified UTF-7 (RFC 3501 §5.1.3), so that
    names with spaces or Swedish letters ("Behandlade ärenden") work."""
    encoded: list[str] = []
    pending: list[str] = []

    def flush():
        if pending:
            utf16 = "".join(pending).encode("utf-16-be")
            encoded.append("&" + base64.b64encode(utf16).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for character in name:
        if " " <= character <= "~":
            flush()
            encoded.append("&-" if character == "&" else character)
        else:
            pending.append(character)
    flush()
    return '"' + "".join(encoded).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(response, what: str):
    status, data = response
    if status != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace")
        raise MailboxError(f"{what}: {status} {detail}".strip())
    return data


def connect() -> imaplib.IMAP4:
    """A signed-in connection to the configured server; TLS always, certificate checked."""
    host, port = settings.IMAP_HOST, settings.IMAP_PORT
    if not host:
        raise MailboxError("No IMAP_HOST is configured: there is no mailbox to poll.")
    context = ssl.create_default_context(cafile=settings.IMAP_CA_FILE)
    connection: imaplib.IMAP4
    try:
        if settings.IMAP_TLS == "ssl":
            connection = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=settings.IMAP_TIMEOUT)
        else:
            connection = imaplib.IMAP4(host, port, timeout=settings.IMAP_TIMEOUT)
            connection.starttls(ssl_context=context)
    except ssl.SSLError as error:
        raise MailboxError(f"TLS with the IMAP server {host}:{port} failed: {error}") from None
    except (OSError, imaplib.IMAP4.error) as error:
        raise MailboxError(f"Cannot reach the IMAP server {host}:{port}: {error}") from None
    try:
        connection.login(settings.IMAP_USER, settings.IMAP_PASSWORD)
    except imaplib.IMAP4.error as error:
        with contextlib.suppress(Exception):
            connection.logout()
        raise MailboxError(f"The IMAP server refused the sign-in as {settings.IMAP_USER!r}: {error}") from None
    return connection


def _arrived(fetched: bytes, now: datetime.datetime) -> datetime.datetime:
    """When the server took the message in (INTERNALDATE): the report's arrival, not the
    moment of the poll. Never later than now."""
    match = INTERNALDATE.search(fetched)
    if match:
        try:
            arrived = datetime.datetime.strptime(match[1].decode().strip(), "%d-%b-%Y %H:%M:%S %z")
        except ValueError:
            return now
        return min(arrived, now)
    return now


def _fetch(connection: imaplib.IMAP4, uid: str) -> tuple[bytes, bytes] | None:
    data = _ok(connection.uid("FETCH", uid, "(INTERNALDATE BODY.PEEK[])"), f"fetching message {uid}")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return item[0], item[1]
    return None  # gone since the search (another client deleted it)


def poll(*, batch: int | None = None) -> PollResult:
    """Take up to `batch` messages from the mailbox, oldest first."""
    batch = batch or settings.IMAP_BATCH
    processed = settings.IMAP_PROCESSED_MAILBOX
    result = PollResult()
    connection = connect()
    try:
        capabilities = set(_ok(connection.capability(), "asking for capabilities")[0].upper().split())
        _ok(connection.select(quote(settings.IMAP_MAILBOX)), f"opening mailbox {settings.IMAP_MAILBOX!r}")
        if processed:
            connection.create(quote(processed))  # "NO" when it exists already: fine
        criteria = "UNDELETED" if processed else "UNSEEN UNDELETED"
        # UIDs as the str imaplib's commands take (ASCII digits: the same bytes on the wire).
        uids = [uid.decode() for uid in _ok(connection.uid("SEARCH", criteria), "searching the mailbox")[0].split()]
        uids.sort(key=int)
        result.left = max(0, len(uids) - batch)
        expunge = []
        for position, uid in enumerate(uids[:batch]):
            fetched = _fetch(connection, uid)
            if fetched is None:
                continue
            envelope, raw = fetched
            try:
                record = inbound.receive(raw, received_at=_arrived(envelope, timezone.now()))
            except (OperationalError, InterfaceError):
                logger.exception("Database unavailable: e-mail left in the mailbox for the next poll")
                result.left += min(batch, len(uids)) - position
                break
            result.taken += 1
            result.outcomes[record.outcome] += 1
            if _mark(connection, uid, processed, capabilities):
                expunge.append(uid)
        if expunge:
            if b"UIDPLUS" in capabilities:
                connection.uid("EXPUNGE", ",".join(expunge))
            else:
                connection.expunge()
    finally:
        with contextlib.suppress(Exception):
            connection.close()
        with contextlib.suppress(Exception):
            connection.logout()
    logger.info("Mailbox %s polled: %s", settings.IMAP_MAILBOX, result)
    return result


def _mark(connection: imaplib.IMAP4, uid: str, processed: str, capabilities: set) -> bool:
    """Mark a stored message as taken; True when it still has to be expunged. A failure here
    only means the next poll fetches it again and finds it stored."""
    if not processed:
        status, _data = connection.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen)")
    elif b"MOVE" in capabilities:
        status, _data = connection.uid("MOVE", uid, quote(processed))
    else:
        status, _data = connection.uid("COPY", uid, quote(processed))
        if status == "OK":
            status, _data = connection.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
            if status == "OK":
                return True
    if status != "OK":
        logger.warning("Could not mark e-mail %s as taken; the next poll finds it stored", uid)
    return False
