"""Phone numbers of fault reports: read in any common written form, stored in E.164."""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext as _


class PhoneNumberError(ValueError):
    pass


def to_e164(text: str, *, default_region: str | None, allowed_regions: list[str] | None = None) -> str:
    """`018-123 45` read in Finland → `+3581812345`. A national form is read in `default_region`
    (the country of the contract's terms); `allowed_regions` restricts the number's country
    (T §3.1: Swedish numbers only)."""
    text = (text or "").strip()
    if not text:
        raise PhoneNumberError(_("Enter a phone number."))
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise PhoneNumberError(
            _("%(text)s is not a phone number. Write it as e.g. 018-123 45 or +358 18 12345.")
            % {"text": text}
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneNumberError(_("%(text)s is not a valid phone number.") % {"text": text})
    if allowed_regions:
        region = phonenumbers.region_code_for_number(number)
        if region not in allowed_regions:
            names = ", ".join(allowed_regions)
            raise PhoneNumberError(
                _(
                    "%(text)s is a number in %(region)s; these terms only cover numbers in: "
                    "%(names)s."
                )
                % {"text": text, "region": region or _("an unknown country"), "names": names}
            )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
