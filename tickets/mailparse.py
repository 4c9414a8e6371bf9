"""Reading an e-mail as real clients write it: every part kept or accounted for, every text read
as written, the sender's one address, its authentication, and when it reached our server.

Pure Python on the standard library's `email` package; `tickets.inbound` decides what the mail
means. Nothing here may lose what a customer sent: a part that is not stored is listed with the
reason, and the raw mail is kept by the caller.
"""

from __future__ import annotations

import binascii
import codecs
import datetime
import email
import email.header
import email.policy
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Read as Windows-1252, as browsers do (WHATWG): mail labelled ISO-8859-1 or us-ascii is most
# often written in Windows-1252, whose “ ” – € the Latin-1 table lacks.
SINGLE_BYTE_WESTERN = {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "iso8859-1", "windows-1252", "cp1252"}
# Headers the receiving servers add on the way: the same mail delivered twice differs only here.
TRACE_HEADERS = {
    "received", "return-path", "delivered-to", "x-original-to", "authentication-results", "received-spf",
    "arc-seal", "arc-message-signature", "arc-authentication-results", "x-spam-status", "x-spam-score",
    "x-spam-flag", "x-spam-level", "x-virus-scanned", "x-envelope-from", "x-envelope-to",
}
SIGNATURE_TYPES = {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
UUENCODED = re.compile(rb"^begin [0-7]{3,4} (?P<name>[^\r\n]+)\r?\n(?P<data>.*?)^end\s*$", re.M | re.S)
ADDRESS = re.compile(r"[^\s<>,;:\"()\[\]@]+@[^\s<>,;:\"()\[\]@]+\.[^\s<>,;:\"()\[\]@]+")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MESSAGE_ID_MAX = 255
# Out-of-office replies and receipts that carry none of the standard headers, by their subject.
AUTOMATIC_SUBJECT = re.compile(
    r"^\s*(?:automatic reply|auto[- ]?reply|auto[- ]?response|out of (?:the )?office|autosvar|automatiskt svar|"
    r"frånvaro(?:meddelande|nde)?|poissaolo(?:viesti)?|automaattinen vastaus|abwesenheit(?:snotiz)?|"
    r"automatische antwort|réponse automatique|read|läst|luettu|gelesen|lu|delivered|levererat|toimitettu|"
    r"undeliverable|undelivered mail|olevererbart|delivery status notification|mail delivery failed|"
    r"returned mail|non remis|unzustellbar)\s*:",
    re.I,
)


def _stray_bytes_as_cp1252(error: UnicodeDecodeError):
    """A byte that breaks UTF-8 is read alone as Windows-1252 (or Latin-1 where that has none)."""
    raw = error.object[error.start : error.end]
    out = []
    for byte in raw:
        try:
            out.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            out.append(bytes([byte]).decode("latin-1"))
    return "".join(out), error.end


codecs.register_error("servicedesk-cp1252", _stray_bytes_as_cp1252)


def decode_text(payload: bytes, declared: str | None) -> str:
    """Bytes of a text as written: the declared charset when it reads cleanly (Western single-byte
    labels as Windows-1252, and as UTF-8 when the bytes are valid UTF-8), else UTF-8 with each
    stray byte read alone, so one bad byte never turns the rest into mojibake."""
    declared = (declared or "").strip().lower()
    candidates = []
    if declared in SINGLE_BYTE_WESTERN:
        candidates = ["utf-8", "cp1252"]
    elif declared:
        candidates = [declared, "utf-8"]
    else:
        candidates = ["utf-8"]
    for charset in candidates:
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", errors="servicedesk-cp1252")


def clean(text: str) -> str:
    """No NUL or other control characters (no database text column takes NUL)."""
    return CONTROL.sub("", text or "")


class _Text(HTMLParser):
    """HTML-only mail (Outlook) as plain text: tags dropped, blocks on lines of their own."""

    BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "table", "blockquote"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


@dataclass(frozen=True)
class File:
    filename: str
    content_type: str
    payload: bytes


@dataclass(frozen=True)
class Listed:
    """A part that is not stored as a file, and why (the raw mail keeps it)."""

    filename: str
    reason: str  # "signature", "encrypted", "empty", "unreadable"


@dataclass
class ParsedMail:
    message_id: str
    content_hash: str
    sender: str  # the one address of From, lower-cased; "" when there is none or it is unclear
    sender_problem: str  # why From gives no usable sender, or ""
    recipients: list[str]
    subject: str
    body: str
    automatic: str  # why it is automatic mail, or ""
    references: list[str]
    files: list[File] = field(default_factory=list)
    listed: list[Listed] = field(default_factory=list)
    authentication: dict[str, str] = field(default_factory=dict)  # method → result, from our server
    authenticated_by_us: bool = False  # an Authentication-Results header of our server was found
    arrived_at: datetime.datetime | None = None  # the topmost Received header's time


# Headers -----------------------------------------------------------------------------------


def _raw_headers(raw: bytes) -> list[tuple[str, bytes]]:
    """(lower-cased name, unfolded raw value) of each header line, in order."""
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    headers: list[tuple[str, bytes]] = []
    for line in re.split(rb"\r?\n", head):
        if line[:1] in (b" ", b"\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + b" " + line.strip())
        elif b":" in line:
            name, _sep, value = line.partition(b":")
            headers.append((name.strip().decode("ascii", "replace").lower(), value.strip()))
    return headers


def header_text(message, name: str, raw_headers: list[tuple[str, bytes]]) -> str:
    """A header as written: RFC 2047 words decoded, raw 8-bit text read as UTF-8 (or, failing
    that, Windows-1252) instead of replacement characters."""
    raw = next((value for key, value in raw_headers if key == name.lower()), None)
    if raw is None:
        return ""
    if all(byte < 128 for byte in raw):
        try:
            return clean(str(message.get(name) or ""))
        except Exception:  # noqa: BLE001 - a header the parser chokes on is read by hand below
            pass
    words = []
    for part, charset in email.header.decode_header(raw.decode("latin-1")):
        if isinstance(part, str):
            part = part.encode("latin-1")
        words.append(decode_text(part, charset))
    return clean(re.sub(r"\s+", " ", "".join(words))).strip()


def sender_of(raw_headers: list[tuple[str, bytes]]) -> tuple[str, str]:
    """(the sender's address, "") when From names exactly one address; else ("", why)."""
    values = [value for key, value in raw_headers if key == "from"]
    if not values:
        return "", "no From header"
    if len(values) > 1:
        return "", "several From headers"
    text = clean(decode_text(values[0], None))
    found = {address.lower().strip(".") for address in ADDRESS.findall(text)}
    if not found:
        return "", "no address in From"
    if len(found) > 1:
        return "", "several addresses in From: " + ", ".join(sorted(found))
    return found.pop()[:320], ""


def recipients_of(raw_headers: list[tuple[str, bytes]]) -> list[str]:
    found = []
    for key, value in raw_headers:
        if key in ("to", "cc", "delivered-to", "x-original-to", "envelope-to"):
            for address in ADDRESS.findall(clean(decode_text(value, None))):
                if address.lower() not in found:
                    found.append(address.lower())
    return found


def message_id_of(raw_headers: list[tuple[str, bytes]], raw: bytes) -> str:
    value = next((value for key, value in raw_headers if key == "message-id"), b"")
    text = clean(value.decode("latin-1")).strip()
    if not text:
        # Mail without an id still deserves to be taken once: its content names it.
        return "<sha256-" + hashlib.sha256(raw).hexdigest() + "@no-message-id>"
    if len(text) > MESSAGE_ID_MAX:
        return "<sha256-" + hashlib.sha256(text.encode()).hexdigest() + "@long-message-id>"
    return text


def content_hash(raw: bytes) -> str:
    """The mail without what the servers added on the way, so that the same mail delivered twice
    (to two of our addresses, or by the pipe and the mailbox) hashes alike, and a different mail
    that reuses a Message-ID does not."""
    blank = re.search(rb"\r?\n\r?\n", raw)
    head, body = (raw[: blank.start()], raw[blank.end() :]) if blank else (raw, b"")
    kept = []
    skipping = False
    for line in re.split(rb"\r?\n", head):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        name = line.partition(b":")[0].strip().decode("ascii", "replace").lower()
        skipping = name in TRACE_HEADERS
        if not skipping:
            kept.append(line)
    digest = hashlib.sha256(b"\n".join(kept))
    digest.update(b"\n\n")
    digest.update(body.replace(b"\r\n", b"\n"))
    return digest.hexdigest()


def references_of(raw_headers: list[tuple[str, bytes]]) -> list[str]:
    text = " ".join(
        clean(value.decode("latin-1")) for key, value in raw_headers if key in ("in-reply-to", "references")
    )
    return re.findall(r"<[^<>\s]+>", text)


def arrived_at(raw_headers: list[tuple[str, bytes]]) -> datetime.datetime | None:
    """When the topmost Received header says our server took the mail."""
    for key, value in raw_headers:
        if key == "received":
            stamp = value.decode("latin-1").rpartition(";")[2].strip()
            try:
                when = email.utils.parsedate_to_datetime(stamp)
            except (TypeError, ValueError, IndexError):
                return None
            return when if when.tzinfo else None
    return None


def authentication_results(raw_headers: list[tuple[str, bytes]], authserv_id: str) -> tuple[bool, dict[str, str]]:
    """The results our own server wrote (RFC 8601), the topmost header naming its authserv-id;
    any other Authentication-Results header could have been written by anyone."""
    for key, value in raw_headers:
        if key != "authentication-results":
            continue
        text = re.sub(r"\([^)]*\)", " ", clean(value.decode("latin-1")))
        server, _sep, rest = text.partition(";")
        if server.split()[0:1] != [authserv_id]:
            continue
        results: dict[str, str] = {}
        for clause in rest.split(";"):
            match = re.match(r"\s*([a-z0-9-]+)\s*=\s*([a-z]+)", clause, re.I)
            if match:
                method, result = match[1].lower(), match[2].lower()
                # Of several DKIM signatures, one that passes is enough.
                if results.get(method) != "pass":
                    results[method] = result
        return True, results
    return False, {}


def automatic_reason(message, subject: str) -> str:
    """RFC 3834 and the usual marks of out-of-office replies, receipts, bounces and list mail."""
    auto = (message.get("Auto-Submitted") or "no").strip().lower()
    if auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = (message.get("Precedence") or "").strip().lower()
    if precedence in {"bulk", "list", "junk", "auto_reply"}:
        return f"Precedence: {precedence}"
    for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "List-Id", "List-Unsubscribe",
                   "X-Autogenerated", "X-AutoReply-From", "X-Mail-Autoreply"):
        if message.get(header):
            return header
    if (message.get("Return-Path") or "").strip() == "<>":
        return "empty return path"
    ctype = message.get_content_type()
    if ctype == "multipart/report" or ctype == "message/disposition-notification":
        return ctype
    if AUTOMATIC_SUBJECT.match(subject):
        return "subject: " + subject[:60]
    return ""


# Parts -------------------------------------------------------------------------------------


def _filename(part, fallback: str) -> str:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001 - a malformed parameter still leaves the part
        name = None
    return clean(name or fallback).strip() or fallback


def _payload(part) -> bytes | None:
    try:
        return part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - an undecodable part is listed, the raw mail keeps it
        return None


def _is_attachment(part) -> bool:
    disposition = (part.get_content_disposition() or "").lower()
    return disposition == "attachment" or (disposition == "inline" and part.get_filename() is not None)


class _Walk:
    def __init__(self):
        self.plain: list[str] = []
        self.html: list[str] = []
        self.files: list[File] = []
        self.listed: list[Listed] = []

    def part(self, part) -> None:
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            self.attached_mail(part)
        elif part.is_multipart():
            self.multipart(part, ctype)
        elif ctype in ("text/plain", "text/html") and not _is_attachment(part):
            payload = _payload(part)
            if payload is None:
                self.listed.append(Listed(_filename(part, "text"), "unreadable"))
                return
            text = decode_text(payload, part.get_content_charset())
            text = self.uuencoded(text)
            (self.plain if ctype == "text/plain" else self.html).append(text)
        else:
            self.file(part)

    def multipart(self, part, ctype: str) -> None:
        subparts = part.get_payload() or []
        if ctype == "multipart/alternative":
            # The same content several ways: the plain text if there is one, else the richest.
            plain = [p for p in subparts if p.get_content_type() == "text/plain"]
            chosen = plain[-1] if plain else (subparts[-1] if subparts else None)
            for sub in subparts:
                if sub is chosen or sub.is_multipart():
                    self.part(sub)
        elif ctype == "multipart/encrypted":
            self.listed.append(Listed(_filename(part, "encrypted.asc"), "encrypted"))
        else:
            # mixed, related (an HTML body and its inline images), signed (the content and its
            # signature), report, and whatever else: every part is either text, a file or listed.
            for sub in subparts:
                if sub.get_content_type() in SIGNATURE_TYPES:
                    self.listed.append(Listed(_filename(sub, "signature"), "signature"))
                else:
                    self.part(sub)

    def attached_mail(self, part) -> None:
        inner = part.get_payload(0) if part.is_multipart() else None
        if inner is None:
            self.listed.append(Listed(_filename(part, "attached.eml"), "unreadable"))
            return
        try:
            data = inner.as_bytes(policy=email.policy.SMTP)
        except Exception:  # noqa: BLE001 - the raw mail keeps what cannot be written out again
            self.listed.append(Listed(_filename(part, "attached.eml"), "unreadable"))
            return
        subject = clean(str(inner.get("Subject") or "")).strip()
        name = _filename(part, (re.sub(r"[^\w .-]+", "", subject)[:60].strip() or "attached") + ".eml")
        if not name.lower().endswith(".eml"):
            name += ".eml"
        self.files.append(File(name, "message/rfc822", data))

    def file(self, part) -> None:
        payload = _payload(part)
        ctype = part.get_content_type()
        extension = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "application/pdf": ".pdf"}
        name = _filename(part, "attachment" + extension.get(ctype, ""))
        if payload is None:
            self.listed.append(Listed(name, "unreadable"))
        elif not payload:
            self.listed.append(Listed(name, "empty"))
        else:
            self.files.append(File(name, ctype, payload))

    def uuencoded(self, text: str) -> str:
        """Lotus Notes and old clients put files in the text as uuencode blocks: take them out."""
        data = text.encode("utf-8", "surrogateescape")
        if b"begin " not in data:
            return text
        for match in list(UUENCODED.finditer(data)):
            name = clean(match["name"].decode("utf-8", "replace")).strip() or "attachment"
            try:
                payload = b"".join(binascii.a2b_uu(line) for line in match["data"].splitlines() if line.strip())
            except binascii.Error:
                continue
            if payload:
                self.files.append(File(name, "application/octet-stream", payload))
            else:
                self.listed.append(Listed(name, "empty"))
            data = data.replace(match[0], b"")
        return data.decode("utf-8", "surrogateescape")

    def body(self) -> str:
        if self.plain:
            text = "\n\n".join(text.strip() for text in self.plain if text.strip())
        else:
            text = "\n\n".join(html_to_text(text) for text in self.html if text.strip())
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        return re.sub(r"\n{3,}", "\n\n", text)


def parse(raw: bytes, *, authserv_id: str = "") -> ParsedMail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    headers = _raw_headers(raw)
    subject = header_text(message, "Subject", headers)
    sender, problem = sender_of(headers)
    walk = _Walk()
    walk.part(message)
    authenticated, results = authentication_results(headers, authserv_id) if authserv_id else (False, {})
    return ParsedMail(
        message_id=message_id_of(headers, raw),
        content_hash=content_hash(raw),
        sender=sender,
        sender_problem=problem,
        recipients=recipients_of(headers),
        subject=subject,
        body=clean(walk.body()).strip(),
        automatic=automatic_reason(message, subject),
        references=references_of(headers),
        files=walk.files,
        listed=walk.listed,
        authentication=results,
        authenticated_by_us=authenticated,
        arrived_at=arrived_at(headers),
    )


def verdict(parsed: ParsedMail) -> str:
    """"pass", "fail" or "none" for the sender's address, from our server's results: DMARC when it
    was evaluated, else SPF and DKIM; "missing" when our server wrote no results."""
    if not parsed.authenticated_by_us:
        return "missing"
    results = parsed.authentication
    dmarc = results.get("dmarc")
    if dmarc in ("pass", "fail"):
        return dmarc
    if "fail" in (results.get("spf"), results.get("dkim")) and results.get("dkim") != "pass":
        return "fail"
    if "pass" in (results.get("spf"), results.get("dkim")):
        return "pass"
    return "none"
