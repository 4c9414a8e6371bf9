"""Uploaded screenshots and logs: checked by their content, not by what the browser claims."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from tickets.models import Attachment, Message, Ticket

logger = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class _Written:
    """The files a `kept_if_committed` block saw written: name -> whether their transaction
    committed. `enclosing`: the block began outside every transaction (a test case's aside), so
    it sees each one end."""

    enclosing: bool
    committed: dict[str, bool] = field(default_factory=dict)


# The files `store` wrote inside the current `kept_if_committed`.
_written: contextvars.ContextVar[_Written | None] = contextvars.ContextVar("written", default=None)

SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"%PDF-", 0, "application/pdf"),
    (b"PK\x03\x04", 0, "application/zip"),
    (b"\xd4\xc3\xb2\xa1", 0, "application/vnd.tcpdump.pcap"),
    (b"\xa1\xb2\xc3\xd4", 0, "application/vnd.tcpdump.pcap"),
    (b"\x0a\x0d\x0d\x0a", 0, "application/vnd.tcpdump.pcap"),
]


@dataclass(frozen=True)
class CheckedUpload:
    upload: UploadedFile
    filename: str
    content_type: str
    size: int


# What a service takes as files: as uploaded, or as checked already (e-mail keeps the good ones of a mail).
Upload = UploadedFile | CheckedUpload


def sniff(head: bytes, filename: str) -> str | None:
    for signature, offset, content_type in SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return content_type
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as error:
            # A multi-byte character cut at the end of the sample is still text.
            if error.start < len(head) - 4:
                try:
                    head.decode("cp1252")
                except UnicodeDecodeError:
                    return None
        return "text/csv" if filename.lower().endswith(".csv") else "text/plain"
    return None


# Shown inline as a picture: raster images only, never SVG (an SVG is a document that can run
# scripts), and only when the file's first bytes agree with the type stored for it.
PREVIEW_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def preview_type(attachment: Attachment) -> str | None:
    """The image type to show an attachment as, or None when it is not shown inline: its stored
    type must be a raster image and its magic bytes must say the same (a file that claims
    image/png but starts with HTML is only ever downloaded)."""
    if attachment.content_type not in PREVIEW_TYPES or not attachment.file.name:
        return None
    try:
        with attachment.file.storage.open(attachment.file.name, "rb") as stored:
            head = stored.read(16)
    except OSError:
        return None
    if attachment.content_type == "image/webp" and not head.startswith(b"RIFF"):
        return None
    return attachment.content_type if sniff(head, attachment.filename) == attachment.content_type else None


def safe_filename(name: str | None) -> str:
    """The last path component only, without control characters or path tricks."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().lstrip(".") or "attachment"
    return name[-120:]


def upload_problems(uploads: Sequence[Upload]) -> tuple[list[CheckedUpload], list[str]]:
    """The files that pass the upload rules, and what is wrong with each other one. A file
    checked before passes as it is."""
    max_bytes = settings.ATTACHMENT_MAX_BYTES
    allowed = set(settings.ATTACHMENT_CONTENT_TYPES)
    checked: list[CheckedUpload] = []
    errors: list[str] = []
    for upload in uploads:
        if isinstance(upload, CheckedUpload):
            checked.append(upload)
            continue
        filename = safe_filename(upload.name)
        if not upload.size:
            errors.append(_("%(name)s is empty.") % {"name": filename})
            continue
        if upload.size > max_bytes:
            errors.append(
                _("%(name)s is %(size)s; the limit is %(limit)s.")
                % {"name": filename, "size": filesizeformat(upload.size), "limit": filesizeformat(max_bytes)}
            )
            continue
        upload.seek(0)
        head = upload.read(2048)
        upload.seek(0)
        content_type = sniff(head, filename)
        if content_type is None or content_type not in allowed:
            errors.append(
                _("%(name)s is not a file type we accept (screenshots, PDF, text logs, zip, pcap).")
                % {"name": filename}
            )
            continue
        checked.append(CheckedUpload(upload=upload, filename=filename, content_type=content_type, size=upload.size))
    return checked, errors


def store(ticket: Ticket, checked: list[CheckedUpload], *, actor, message: Message | None = None) -> list[Attachment]:
    if checked:
        _check_enclosed()
    stored = []
    for item in checked:
        attachment = Attachment(
            ticket=ticket,
            message=message,
            filename=item.filename,
            content_type=item.content_type,
            size=item.size,
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        attachment.file.save(item.filename, item.upload, save=False)
        _track(attachment.file.name)
        attachment.save()
        stored.append(attachment)
    return stored


@contextlib.contextmanager
def kept_if_committed():
    """Around a transaction that stores attachments: the files are written before the rows
    commit, so a rollback would leave them behind with nothing pointing at them. Files whose
    transaction did not commit are removed when the block ends (by an exception, or after a
    transaction that ended inside the block). Put it outside the outermost `atomic`; inside
    another such block it leaves the files to the outer one. Opened inside a transaction it does
    not enclose, it cannot know whether that commits: files stored then are refused (`store`)."""
    if _written.get() is not None:
        yield
        return
    written = _Written(enclosing=not _transaction_open())
    token = _written.set(written)
    try:
        yield
    except BaseException:
        _remove_uncommitted(written)
        raise
    else:
        if not transaction.get_connection().in_atomic_block:
            _remove_uncommitted(written)
    finally:
        _written.reset(token)


def keeps_files(service: Callable[P, R]) -> Callable[P, R]:
    """A service that stores files removes them again when its transaction does not commit
    (`kept_if_committed`). Put it above `@transaction.atomic`."""

    @functools.wraps(service)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with kept_if_committed():
            return service(*args, **kwargs)

    return wrapper


def _transaction_open() -> bool:
    """A transaction is open around this point, other than the one a test case runs in."""
    return any(not block._from_testcase for block in transaction.get_connection().atomic_blocks)


def _check_enclosed() -> None:
    """Files written inside a transaction that no `kept_if_committed` encloses would stay on disk
    if that transaction rolled back after the service returned: refused before a file is written."""
    written = _written.get()
    if written is not None and not written.enclosing:
        raise RuntimeError(
            "Files stored inside a transaction that kept_if_committed does not enclose: "
            "put kept_if_committed around that transaction."
        )


def _track(name: str) -> None:
    written = _written.get()
    if written is None:
        return
    written.committed[name] = False
    transaction.on_commit(lambda: written.committed.__setitem__(name, True))


def _remove_uncommitted(written: _Written) -> None:
    for name, committed in written.committed.items():
        if committed:
            continue
        try:
            Attachment.file.field.storage.delete(name)
        except OSError:
            logger.exception("Could not remove %s, stored by a transaction that did not commit", name)
