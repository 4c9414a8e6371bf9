"""E-mail as real clients write it, byte for byte: Outlook, Apple Mail, Gmail, Thunderbird with
S/MIME and PGP, Lotus Notes, alarm boxes, other help desks, auto-responders. Each function
returns a whole RFC 5322 message; the shapes follow the public mail-parsing test suites (RT,
MimeKit, mail-parser, django-helpdesk) and captures of those clients."""

import base64
import binascii

# A 1×1 PNG and a minimal PDF, real files that the upload rules recognise by their content.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
CONTACT = "anna@alfa.example"


def b64(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return "\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))


def headers(
    *,
    sender=f"Anna Eriksson <{CONTACT}>",
    subject="Fel på växeln",
    message_id="<m1@alfa.example>",
    to="support@desk.example",
    extra="",
    mailer="Microsoft Outlook 16.0",
) -> str:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Thu, 01 Oct 2026 12:55:00 +0300\r\n"
        f"Message-ID: {message_id}\r\nX-Mailer: {mailer}\r\n{extra}MIME-Version: 1.0\r\n"
    )


def plain(body: str, **kw) -> bytes:
    return (
        headers(**kw)
        + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + body
        + "\r\n"
    ).encode()


def forwarded_as_attachment() -> bytes:
    """Outlook's "Forward as attachment": the alarm mail from the PBX rides along whole."""
    inner = (
        "From: pbx-alarm@alfa.example\r\nTo: it@alfa.example\r\nSubject: Trunk SIP-1 down\r\n"
        "Date: Thu, 01 Oct 2026 12:40:00 +0300\r\nMessage-ID: <alarm-1@pbx.alfa.example>\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\nTrunk SIP-1 lost registration at 12:39:58.\r\n"
    )
    return (
        headers(subject="VB: Trunk SIP-1 down") + 'Content-Type: multipart/mixed; boundary="_004_outlook_"\r\n\r\n'
        '--_004_outlook_\r\nContent-Type: text/plain; charset="iso-8859-1"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
        "Larmet fr=E5n v=E4xeln, se bifogat.\r\nA-nummer: 018 12345\r\nB-nummer: 040 123 4567\r\nTidpunkt: 2026-10-01 12:40\r\n"
        '--_004_outlook_\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename="Trunk SIP-1 down.eml"\r\n\r\n'
        + inner
        + "\r\n--_004_outlook_--\r\n"
    ).encode()


def smime_signed() -> bytes:
    """Thunderbird with an S/MIME certificate: the content (text and a log) sits in the first part
    of multipart/signed, the signature in the second."""
    return (
        headers(mailer="Mozilla Thunderbird")
        + 'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="ms01"\r\n\r\n'
        "This is a cryptographically signed message in MIME format.\r\n\r\n--ms01\r\n"
        'Content-Type: multipart/mixed; boundary="mixed02"\r\n\r\n'
        "--mixed02\r\nContent-Type: text/plain; charset=UTF-8; format=flowed\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Samtal bryts efter 30 sekunder, logg bifogad.\r\n"
        '--mixed02\r\nContent-Type: text/plain; charset=UTF-8; name="sip-trace.log"\r\n'
        'Content-Disposition: attachment; filename="sip-trace.log"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + b64(b"INVITE sip:100@pbx SIP/2.0\r\nBYE sip:100@pbx SIP/2.0\r\n")
        + '\r\n--mixed02--\r\n\r\n--ms01\r\nContent-Type: application/pkcs7-signature; name="smime.p7s"\r\n'
        'Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="smime.p7s"\r\n\r\n'
        + b64(b"0\x82\x05\x00signature-bytes")
        + "\r\n--ms01--\r\n"
    ).encode("utf-8")


def pgp_signed() -> bytes:
    """PGP/MIME (RFC 3156), as Thunderbird and Mutt send it."""
    return (
        headers(mailer="Mutt/2.2")
        + 'Content-Type: multipart/signed; micalg=pgp-sha256; protocol="application/pgp-signature"; boundary="pgp1"\r\n\r\n'
        "--pgp1\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Disposition: inline\r\n\r\n"
        'Queue 3 does not ring.\r\n\r\n--pgp1\r\nContent-Type: application/pgp-signature; name="signature.asc"\r\n'
        "Content-Description: OpenPGP digital signature\r\n\r\n-----BEGIN PGP SIGNATURE-----\r\n\r\n"
        "iQEzBAEBCAAdFiEE\r\n-----END PGP SIGNATURE-----\r\n\r\n--pgp1--\r\n"
    ).encode()


def outlook_pasted_screenshot() -> bytes:
    """A screenshot pasted into Outlook: multipart/related inside multipart/alternative, the image
    referred to by Content-ID from the HTML."""
    return (
        headers(subject="Felmeddelande i appen") + 'Content-Type: multipart/alternative; boundary="_000_alt_"\r\n\r\n'
        '--_000_alt_\r\nContent-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + b64("Se skärmbilden:\r\n\r\n[cid:image001.png@01DB1234]\r\n".encode())
        + '\r\n--_000_alt_\r\nContent-Type: multipart/related; boundary="_005_rel_"; type="text/html"\r\n\r\n'
        '--_005_rel_\r\nContent-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
        '<html><body><p>Se sk=C3=A4rmbilden:</p><img src=3D"cid:image001.png@01DB1234"></body></html>\r\n'
        '--_005_rel_\r\nContent-Type: image/png; name="image001.png"\r\nContent-Description: image001.png\r\n'
        'Content-Disposition: inline; filename="image001.png"; size=68\r\nContent-ID: <image001.png@01DB1234>\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n" + b64(PNG) + "\r\n--_005_rel_--\r\n\r\n--_000_alt_--\r\n"
    ).encode()


def apple_mail_inline_pdf() -> bytes:
    """Apple Mail puts a PDF inline between two pieces of text."""
    return (
        headers(mailer="Apple Mail (2.3774.600.62)") + 'Content-Type: multipart/mixed; boundary="Apple-Mail=_1"\r\n\r\n'
        "--Apple-Mail=_1\r\nContent-Transfer-Encoding: 7bit\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "Fakturan ni bad om:\r\n\r\n--Apple-Mail=_1\r\nContent-Disposition: inline; filename=faktura.pdf\r\n"
        'Content-Type: application/pdf; x-unix-mode=0644; name="faktura.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + b64(PDF)
        + "\r\n--Apple-Mail=_1\r\nContent-Transfer-Encoding: 7bit\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "Hälsningar, Anna\r\n--Apple-Mail=_1--\r\n"
    ).encode()


def attachment_only() -> bytes:
    """A scanner's mail: no text at all, one PDF."""
    return (
        headers(subject="Skannat dokument", mailer="RICOH IM C3000")
        + 'Content-Type: multipart/mixed; boundary="scan"\r\n\r\n'
        '--scan\r\nContent-Type: application/pdf; name="scan0001.pdf"\r\nContent-Disposition: attachment; '
        'filename="scan0001.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + b64(PDF) + "\r\n--scan--\r\n"
    ).encode()


def uuencoded_part() -> bytes:
    """An old client's attachment with Content-Transfer-Encoding: x-uuencode."""
    encoded = "".join(binascii.b2a_uu(PNG[i : i + 45]).decode() for i in range(0, len(PNG), 45))
    return (
        headers(mailer="Eudora 7") + 'Content-Type: multipart/mixed; boundary="uu"\r\n\r\n'
        "--uu\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nBild bifogad.\r\n"
        '--uu\r\nContent-Type: image/png; name="bild.png"\r\nContent-Disposition: attachment; filename="bild.png"\r\n'
        "Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 bild.png\r\n"
        + encoded.replace("\n", "\r\n")
        + "`\r\nend\r\n--uu--\r\n"
    ).encode()


def lotus_notes_uuencoded_in_text() -> bytes:
    """Lotus Notes writes an image into the text itself as a uuencode block."""
    encoded = "".join(binascii.b2a_uu(PNG[i : i + 45]).decode() for i in range(0, len(PNG), 45))
    return (
        headers(mailer="Lotus Notes Release 8.5.3") + "Content-Type: text/plain; charset=US-ASCII\r\n\r\n"
        "Telefonen visar detta:\r\n\r\nbegin 644 display.png\r\n"
        + encoded.replace("\n", "\r\n")
        + "`\r\nend\r\n\r\nMvh Anna\r\n"
    ).encode()


def empty_attachment() -> bytes:
    return (
        headers() + 'Content-Type: multipart/mixed; boundary="e"\r\n\r\n'
        "--e\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLoggen är bifogad.\r\n"
        '--e\r\nContent-Type: text/plain; name="tom.log"\r\nContent-Disposition: attachment; filename="tom.log"\r\n\r\n'
        "\r\n--e--\r\n"
    ).encode()


def utf8_with_one_bad_byte() -> bytes:
    return headers().encode() + (
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"V\xc3\xa4xeln \xc3\xa4r nere sedan 12:40 \x96 ingen n\xc3\xa5r oss.\r\n"
    )


def raw_8bit_subject() -> bytes:
    """A subject written in raw UTF-8, without RFC 2047 words, as some phones send it."""
    return (
        b"From: anna@alfa.example\r\nTo: support@desk.example\r\nSubject: V\xc3\xa4xeln \xc3\xa4r nere i G\xc3\xb6teborg\r\n"
        b"Message-ID: <raw8@alfa.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\nSe rubriken.\r\n"
    )


def windows_1252_labelled_latin_1() -> bytes:
    return headers().encode() + (
        b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"Kunden s\xe4ger \x93det ringer inte\x94 \x96 fakturan p\xe5 120 \x80 st\xe4mmer.\r\n"
    )


def nul_in_headers() -> bytes:
    return (
        b"From: Anna <anna@alfa.example\x00>\r\nTo: support@desk.example\r\nSubject: Fel\x00\r\n"
        b"Message-ID: <nul\x00@alfa.example>\r\nContent-Type: text/plain\r\n\r\nSamtal bryts.\r\n"
    )


def with_authentication(result: str, *, authserv="mx.desk.example", message_id="<auth@alfa.example>") -> bytes:
    return plain(
        "Samtal bryts.",
        message_id=message_id,
        extra=f"Authentication-Results: {authserv};\r\n {result}\r\n",
    )


def auto_reply(subject: str, sender=CONTACT) -> bytes:
    """An out-of-office reply without Auto-Submitted or Precedence (Outlook on a POP account,
    small ISPs' webmail)."""
    return plain(
        "Jag är på semester till och med 12 oktober.",
        subject=subject,
        sender=f"Anna <{sender}>",
        message_id="<ooo-1@alfa.example>",
    )


def read_receipt(subject: str) -> bytes:
    """Outlook's read receipt: multipart/report with a disposition notification."""
    return (
        headers(subject=f"Läst: {subject}", message_id="<mdn-1@alfa.example>")
        + 'Content-Type: multipart/report; report-type=disposition-notification; boundary="mdn"\r\n\r\n'
        "--mdn\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDitt meddelande har lästs.\r\n"
        "--mdn\r\nContent-Type: message/disposition-notification\r\n\r\n"
        "Final-Recipient: rfc822;anna@alfa.example\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n"
        "--mdn--\r\n"
    ).encode()


def other_help_desk_answer(round_: int) -> bytes:
    """Another help desk's automatic "we got your case" answer, with no automatic headers."""
    return plain(
        f"Tack för ditt ärende. Vi återkommer. Ärende #{1000 + round_}",
        sender="Support <support@other-desk.example>",
        subject=f"Ditt ärende #{1000 + round_} har registrerats",
        message_id=f"<case-{round_}@other-desk.example>",
    )
