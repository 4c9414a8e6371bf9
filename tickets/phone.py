"""Phone numbers of fault reports: read in any common written form, stored in E.164."""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contracts.validation import NUMBER_TYPES

Kind = phonenumbers.PhoneNumberType
KIND_NAMES = {
    Kind.FIXED_LINE: gettext_lazy("a fixed-line number"),
    Kind.MOBILE: gettext_lazy("a mobile number"),
    Kind.FIXED_LINE_OR_MOBILE: gettext_lazy("a fixed-line or mobile number"),
    Kind.TOLL_FREE: gettext_lazy("a toll-free number"),
    Kind.PREMIUM_RATE: gettext_lazy("a premium-rate number"),
    Kind.SHARED_COST: gettext_lazy("a shared-cost number"),
    Kind.VOIP: gettext_lazy("an IP telephony number"),
    Kind.PERSONAL_NUMBER: gettext_lazy("a personal number"),
    Kind.PAGER: gettext_lazy("a pager number"),
    Kind.UAN: gettext_lazy("a company number without a fixed location (UAN)"),
    Kind.VOICEMAIL: gettext_lazy("a voicemail access number"),
}


class PhoneNumberError(ValueError):
    pass


def to_e164(
    text: str,
    *,
    default_region: str | None,
    allowed_regions: list[str] | None = None,
    allowed_types: list[str] | None = None,
    reference: str = "",
) -> str:
    """`018-123 45` read in Finland → `+3581812345`. A national form is read in `default_region`
    (the country of the contract's terms); `allowed_regions` and `allowed_types` restrict the
    number's country and kind (T §3.1: Swedish fixed and mobile numbers only); `reference` is
    the terms' clause saying so, cited as " (T §3.1)" at the end of the refusal."""
    text = (text or "").strip()
    if not text:
        raise PhoneNumberError(_("Enter a phone number."))
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise PhoneNumberError(
            _("%(text)s is not a phone number. Write it as e.g. 018-123 45 or +358 18 12345.") % {"text": text}
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneNumberError(_("%(text)s is not a valid phone number.") % {"text": text})
    if allowed_regions:
        region = phonenumbers.region_code_for_number(number)
        if region not in allowed_regions:
            names = ", ".join(allowed_regions)
            raise PhoneNumberError(
                _("%(text)s is a number in %(region)s; these terms only cover numbers in: %(names)s%(ref)s.")
                % {"text": text, "region": region or _("an unknown country"), "names": names, "ref": reference}
            )
    if allowed_types:
        kind = phonenumbers.number_type(number)
        if kind not in {NUMBER_TYPES[name] for name in allowed_types}:
            raise PhoneNumberError(
                _("%(text)s is %(kind)s; these terms only cover %(kinds)s%(ref)s.")
                % {
                    "text": text,
                    "kind": KIND_NAMES.get(kind, _("a number of another kind")),
                    "kinds": _kinds_text(allowed_types),
                    "ref": reference,
                }
            )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


KIND_PLURALS = {
    "fixed_line": gettext_lazy("fixed-line numbers"),
    "mobile": gettext_lazy("mobile numbers"),
    "fixed_line_or_mobile": gettext_lazy("fixed-line or mobile numbers"),
    "toll_free": gettext_lazy("toll-free numbers"),
    "premium_rate": gettext_lazy("premium-rate numbers"),
    "shared_cost": gettext_lazy("shared-cost numbers"),
    "voip": gettext_lazy("IP telephony numbers"),
    "personal_number": gettext_lazy("personal numbers"),
    "pager": gettext_lazy("pager numbers"),
    "uan": gettext_lazy("company numbers without a fixed location (UAN)"),
    "voicemail": gettext_lazy("voicemail access numbers"),
}


def _kinds_text(kinds: list[str]) -> str:
    if {"fixed_line", "mobile"} <= set(kinds):
        kinds = [k for k in kinds if k != "fixed_line_or_mobile"]  # said by the two
    names = [str(KIND_PLURALS[k]) for k in kinds]
    if len(names) == 1:
        return names[0]
    return _("%(first)s and %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}
