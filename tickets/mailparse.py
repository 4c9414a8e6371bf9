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
import email.errors
import email.header
import email.policy
import email.utils
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Read as Windows-1252, as browsers do (WHATWG): mail labelled ISO-8859-1 or us-ascii is most
# often written in Windows-1252, whose “ ” – € the Latin-1 table lacks.
SINGLE_BYTE_WESTERN = {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "iso8859-1", "windows-1252", "cp1252"}
# The headers the sender wrote that say what the mail is; whatever servers and filters add on
# the way (Received, DKIM-Filter, X-Spam-*, X-Rspamd-*, …) is left out of the content hash.
SENDER_HEADERS = {"from", "to", "cc", "subject", "date", "message-id", "in-reply-to", "references", "mime-version"}
SIGNATURE_TYPES = {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
UU_BEGIN = re.compile(r"begin [0-7]{3,4} (\S.*)")
UU_LINE = re.compile(r"[\x20-\x60]{1,62}")
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


def _stray_bytes_as_cp1252(error: UnicodeError) -> tuple[str, int]:
    """A byte that breaks UTF-8 is read alone as Windows-1252 (or Latin-1 where that has none)."""
    if not isinstance(error, UnicodeDecodeError):  # a decoding handler: nothing to say on encoding
        raise error
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
    authentication: list[tuple] = field(default_factory=list)  # (method, result, properties) from our server
    authenticated_by_us: bool = False  # an Authentication-Results header of our server was found
    arrived_at: datetime.datetime | None = None  # the topmost Received header's time


# Headers -----------------------------------------------------------------------------------


def raw_headers(raw: bytes) -> list[tuple[str, bytes]]:
    """(lower-cased name, unfolded raw value) of each header line, in order."""
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    headers: list[tuple[str, bytes]] = []
    for line in re.split(rb"\r?\n", head):
        if line[:1] in (b" ", b"\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + b" " + line.strip())
        elif b":" in line:
            key, _sep, value = line.partition(b":")
            headers.append((key.strip().decode("ascii", "replace").lower(), value.strip()))
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


def sender_of(message, raw_headers: list[tuple[str, bytes]]) -> tuple[str, str]:
    """(the sender's address, "") when From names exactly one plain address; else ("", why).
    Read by the standard library's RFC 5322 parser: a second address, an address hidden in a
    quoted local part (`"anna@alfa.example"@evil.example`), a header the parser calls invalid or
    a control character never yields a customer's address."""
    values = [value for key, value in raw_headers if key == "from"]
    if not values:
        return "", "no From header"
    if len(values) > 1:
        return "", "several From headers"
    if CONTROL.search(values[0].decode("latin-1")):
        return "", "control characters in From"
    try:
        header = message["From"]
        addresses, defects = header.addresses, header.defects
    except Exception:  # noqa: BLE001 - a From the parser cannot read names nobody
        return "", "unreadable From"
    if any(isinstance(defect, email.errors.InvalidHeaderDefect) for defect in defects):
        return "", "invalid From: " + clean(str(header))[:200]
    if len(addresses) != 1:
        return "", ("several addresses in From: " if addresses else "no address in From: ") + clean(str(header))[:200]
    local, domain = addresses[0].username, addresses[0].domain
    if not local or not domain or "." not in domain or "@" in local or '"' in local or " " in local:
        return "", "no plain address in From: " + clean(str(header))[:200]
    return f"{local}@{domain}".lower()[:320], ""


def addresses_in(text: str) -> list[str]:
    """Plain addresses in a header value, in linear time (no regular expression that could
    backtrack on a hostile header)."""
    found = []
    for token in re.split(r"[\s,;<>\"()\[\]]+", text):
        local, at, domain = token.strip(".").partition("@")
        if at and local and "." in domain and "@" not in domain:
            found.append(token.strip(".").lower())
    return found


def recipients_of(raw_headers: list[tuple[str, bytes]]) -> list[str]:
    found = []
    for key, value in raw_headers:
        if key in ("to", "cc", "delivered-to", "x-original-to", "envelope-to"):
            for address in addresses_in(clean(decode_text(value[:4000], None))):
                if address not in found:
                    found.append(address)
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
    """The mail as its sender wrote it: the headers that say what it is (and its Content-*
    headers) and the body with line endings made alike. The same mail delivered twice (to two of
    our addresses, by the pipe and the mailbox, through different filters) hashes alike; a
    different mail that reuses a Message-ID does not."""
    blank = re.search(rb"\r?\n\r?\n", raw)
    body = raw[blank.end() :] if blank else b""
    kept = sorted(
        (name, re.sub(rb"\s+", b" ", value))
        for name, value in raw_headers(raw)
        if name in SENDER_HEADERS or name.startswith("content-")
    )
    digest = hashlib.sha256()
    for name, value in kept:
        digest.update(name.encode() + b":" + value + b"\n")
    digest.update(b"\n")
    digest.update(body.replace(b"\r\n", b"\n").rstrip(b"\n"))
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
            # "-0000" (RFC 5322: the time is UTC, the local zone unknown) parses without a zone.
            return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)
    return None


def _without_comments(text: str) -> str:
    """RFC 8601 text without its (nested) comments, quoted strings kept whole."""
    out, depth, quoted, escaped = [], 0, False, False
    for char in text:
        if escaped:
            escaped = False
            if not depth:
                out.append(char)
        elif char == "\\":
            escaped = True
            if not depth:
                out.append(char)
        elif quoted:
            out.append(char)
            quoted = char != '"'
        elif char == '"' and not depth:
            quoted = True
            out.append(char)
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif not depth:
            out.append(char)
    return "".join(out)


def _clauses(text: str) -> list[str]:
    """Split on semicolons outside quoted strings."""
    parts: list[str] = []
    current: list[str] = []
    quoted, escaped = False, False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


RESULT = re.compile(r"\s*([a-z0-9-]+)\s*=\s*([a-z]+)", re.I)
PROPERTY = re.compile(r'([a-z0-9-]+\.[a-z0-9-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;]+)', re.I)


def authentication_results(raw_headers: list[tuple[str, bytes]], authserv_id: str) -> tuple[bool, list[tuple]]:
    """Every result our own server wrote (RFC 8601): all Authentication-Results headers naming its
    authserv-id (the server removes such headers arriving from outside, §5), as
    (method, result, {property: value}) in order."""
    found, results = False, []
    for key, value in raw_headers:
        if key != "authentication-results":
            continue
        clauses = _clauses(_without_comments(clean(value.decode("latin-1"))))
        server = clauses[0].split()
        if not server or server[0].lower() != authserv_id.lower():
            continue
        found = True
        for clause in clauses[1:]:
            match = RESULT.match(clause)
            if match:
                properties = {
                    name.lower(): raw.strip('"').lower() for name, raw in PROPERTY.findall(clause[match.end() :])
                }
                results.append((match[1].lower(), match[2].lower(), properties))
    return found, results


def automatic_reason(message, subject: str) -> str:
    """RFC 3834 and the usual marks of out-of-office replies, receipts, bounces and list mail."""
    auto = (message.get("Auto-Submitted") or "no").strip().lower()
    if auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = (message.get("Precedence") or "").strip().lower()
    if precedence in {"bulk", "list", "junk", "auto_reply"}:
        return f"Precedence: {precedence}"
    for header in (
        "X-Autoreply",
        "X-Autorespond",
        "X-Auto-Response-Suppress",
        "List-Id",
        "List-Unsubscribe",
        "X-Autogenerated",
        "X-AutoReply-From",
        "X-Mail-Autoreply",
    ):
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
        self.texts: list[tuple[str, str]] = []  # ("plain" | "html", text) in the mail's order
        self.files: list[File] = []
        self.listed: list[Listed] = []

    def part(self, part, *, files_only: bool = False) -> None:
        """Take a part: its text into the body (unless `files_only`: another alternative of the
        same content is the body), its files as files, the rest listed with why."""
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            self.attached_mail(part)
        elif part.is_multipart():
            self.multipart(part, ctype, files_only=files_only)
        elif ctype.startswith("multipart/") or (ctype in ("text/plain", "text/html") and not _is_attachment(part)):
            # (A multipart whose boundary is missing is read as the text it then is.)
            if not files_only:
                self.text(part, "html" if ctype == "text/html" else "plain")
        elif ctype in ("application/pkcs7-mime", "application/x-pkcs7-mime"):
            smime = (part.get_param("smime-type") or "").lower()
            self.listed.append(
                Listed(_filename(part, "smime.p7m"), "opaque_signed" if smime == "signed-data" else "encrypted")
            )
        else:
            self.file(part)

    def text(self, part, kind: str) -> None:
        payload = _payload(part)
        if payload is None:
            self.listed.append(Listed(_filename(part, "text"), "unreadable"))
            return
        text = self.uuencoded(decode_text(payload, part.get_content_charset()))
        if text.strip():
            self.texts.append((kind, text))

    def multipart(self, part, ctype: str, *, files_only: bool) -> None:
        subparts = part.get_payload() or []
        if ctype == "multipart/alternative":
            # The same content several ways: the plain text when it says something, else the
            # richest. An invitation or other file among the alternatives is kept as a file.
            chosen = self.chosen_alternative(subparts)
            for sub in subparts:
                if sub is chosen:
                    self.part(sub, files_only=files_only)
                elif sub.is_multipart():
                    self.part(sub, files_only=True)
                elif sub.get_content_type() not in ("text/plain", "text/html"):
                    self.file(sub)
        elif ctype == "multipart/encrypted":
            self.listed.append(Listed(_filename(part, "encrypted.asc"), "encrypted"))
        else:
            # mixed, related (an HTML body and its inline images), signed (the content and its
            # signature), report, and whatever else: every part is either text, a file or listed.
            for sub in subparts:
                if sub.get_content_type() in SIGNATURE_TYPES:
                    self.listed.append(Listed(_filename(sub, "signature"), "signature"))
                else:
                    self.part(sub, files_only=files_only)

    @staticmethod
    def chosen_alternative(subparts):
        for sub in subparts:
            if sub.get_content_type() == "text/plain" and (
                decode_text(_payload(sub) or b"", sub.get_content_charset()).strip()
            ):
                return sub
        rich = [sub for sub in subparts if sub.get_content_type() == "text/html" or sub.is_multipart()]
        return rich[-1] if rich else (subparts[-1] if subparts else None)

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
        extension = {"text/calendar": ".ics", "image/jpeg": ".jpg"}.get(ctype) or mimetypes.guess_extension(ctype) or ""
        name = _filename(part, ("invite" if ctype == "text/calendar" else "attachment") + extension)
        if payload is None:
            self.listed.append(Listed(name, "unreadable"))
        elif not payload:
            self.listed.append(Listed(name, "empty"))
        else:
            self.files.append(File(name, ctype, payload))

    def uuencoded(self, text: str) -> str:
        """Lotus Notes and old clients put files in the text as uuencode blocks: take them out.
        Read line by line, so that no text, however hostile, costs more than one pass."""
        if "begin " not in text:
            return text
        lines = text.splitlines()
        kept: list[str] = []
        i = 0
        while i < len(lines):
            match = UU_BEGIN.fullmatch(lines[i].strip())
            j = i + 1
            while match and j < len(lines) and lines[j].strip() != "end" and UU_LINE.fullmatch(lines[j].rstrip()):
                j += 1
            if not match or j >= len(lines) or lines[j].strip() != "end":
                kept.append(lines[i])
                i += 1
                continue
            try:
                payload = b"".join(binascii.a2b_uu(line.rstrip()) for line in lines[i + 1 : j] if line.strip())
            except binascii.Error:
                kept.append(lines[i])
                i += 1
                continue
            name = clean(match[1]).strip() or "attachment"
            if payload:
                self.files.append(File(name, "application/octet-stream", payload))
            else:
                self.listed.append(Listed(name, "empty"))
            i = j + 1
        return "\n".join(kept)

    def body(self) -> str:
        text = "\n\n".join((value.strip() if kind == "plain" else html_to_text(value)) for kind, value in self.texts)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        return re.sub(r"\n{3,}", "\n\n", text)


def parse(raw: bytes, *, authserv_id: str = "") -> ParsedMail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    headers = raw_headers(raw)
    subject = header_text(message, "Subject", headers)
    sender, problem = sender_of(message, headers)
    walk = _Walk()
    walk.part(message)
    authenticated, results = authentication_results(headers, authserv_id) if authserv_id else (False, [])
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


def _aligned(domain: str, other: str) -> bool:
    """Relaxed alignment (RFC 7489): the same domain, or one a subdomain of the other."""
    domain, other = domain.lower().strip("."), other.lower().strip(".").rpartition("@")[2]
    return bool(domain and other) and (domain == other or domain.endswith("." + other) or other.endswith("." + domain))


def verdict(parsed: ParsedMail) -> str:
    """What our server's results say of the From address: "fail" when DMARC failed (any DMARC
    failure, whatever else it says), or without DMARC when SPF or DKIM for the From domain failed
    (softfail too); "pass" when DMARC passed for the From domain, or without DMARC when SPF or
    DKIM passed for it; "none" when nothing was checked for that domain; "missing" when our server
    wrote no results. A pass for some other domain proves nothing about the sender."""
    if not parsed.authenticated_by_us:
        return "missing"
    domain = parsed.sender.rpartition("@")[2]
    results = parsed.authentication
    dmarc = [(result, props) for method, result, props in results if method == "dmarc"]
    if any(result == "fail" for result, _props in dmarc):
        return "fail"
    if any(result == "pass" and _aligned(domain, props.get("header.from", "")) for result, props in dmarc):
        return "pass"
    for_sender = [
        (method, result)
        for method, result, props in results
        if (method == "spf" and _aligned(domain, props.get("smtp.mailfrom", "") or props.get("smtp.helo", "")))
        or (method == "dkim" and _aligned(domain, props.get("header.d", "") or props.get("header.i", "")))
    ]
    if any(result == "pass" for _method, result in for_sender):
        return "pass"
    if any(result in ("fail", "softfail") for _method, result in for_sender):
        return "fail"
    return "none"
