"""Checks for contract terms and customer data, with messages naming the field at fault."""

from __future__ import annotations

import re
import zoneinfo
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

import holidays
import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from contracts.clauses import clean_clauses

HHMM = re.compile(r"^(\d{2}):(\d{2})$")


def default_holiday_categories() -> list[str]:
    return ["public"]


def days_off_categories(country: str) -> list[str]:
    """A country's real days off: its public holidays, and the days that are off de facto where
    the calendar knows them (Sweden: Midsommarafton, Julafton, Nyårsafton, the söndagsregeln)."""
    supported = holidays.country_holidays(country).supported_categories
    return ["public", "de_facto"] if "de_facto" in supported else ["public"]


# phonenumbers' kinds of number, by the names the terms use (T §3.1).
NUMBER_TYPES = {
    "fixed_line": phonenumbers.PhoneNumberType.FIXED_LINE,
    "mobile": phonenumbers.PhoneNumberType.MOBILE,
    "fixed_line_or_mobile": phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    "toll_free": phonenumbers.PhoneNumberType.TOLL_FREE,
    "premium_rate": phonenumbers.PhoneNumberType.PREMIUM_RATE,
    "shared_cost": phonenumbers.PhoneNumberType.SHARED_COST,
    "voip": phonenumbers.PhoneNumberType.VOIP,
    "personal_number": phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
    "pager": phonenumbers.PhoneNumberType.PAGER,
    "uan": phonenumbers.PhoneNumberType.UAN,
    "voicemail": phonenumbers.PhoneNumberType.VOICEMAIL,
}


def minutes_to_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def hhmm_to_minutes(value: str) -> int:
    """'08:30' → 510; '24:00' → 1440 (the end of the day)."""
    match = HHMM.match(value or "")
    if not match:
        raise ValueError(_("Enter a time as HH:MM, e.g. 08:30."))
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(_("%(value)s is not a time of day (00:00–24:00).") % {"value": value})
    return hours * 60 + minutes


# As validators, so that the API's fields check them too and its schema states their patterns.
TICKET_PREFIX = RegexValidator(r"^[A-Z]{2,8}\Z", _lazy("Use 2–8 capital letters A–Z, e.g. DST."))
CURRENCY = RegexValidator(r"^[A-Z]{3}\Z", _lazy("An ISO 4217 currency code such as EUR or SEK."))


def validate_ticket_prefix(value: str) -> None:
    TICKET_PREFIX(value or "")


@cache
def available_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@cache
def supported_holiday_countries() -> dict[str, list[str]]:
    return holidays.list_supported_countries()


# Organisation numbers -------------------------------------------------------------------------


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def _finnish_business_id_ok(digits: str) -> bool:
    weights = (7, 9, 10, 5, 8, 4, 2)
    remainder = sum(int(d) * w for d, w in zip(digits[:7], weights)) % 11
    if remainder == 1:
        return False
    check = 0 if remainder == 0 else 11 - remainder
    return check == int(digits[7])


def normalise_org_number(value: str) -> str:
    """Swedish organisationsnummer as NNNNNN-NNNN, Finnish Y-tunnus as NNNNNNN-N."""
    digits = re.sub(r"[\s-]", "", value or "")
    if len(digits) == 10 and digits.isdigit():
        return f"{digits[:6]}-{digits[6:]}"
    if len(digits) == 8 and digits.isdigit():
        return f"{digits[:7]}-{digits[7]}"
    return (value or "").strip()


def _phone(value: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(value or "", None)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def validate_phone(value: str) -> None:
    """A contact person's phone: any written form, with its country code."""
    if value and _phone(value) is None:
        raise ValidationError(
            _("Write the phone number with its country code, e.g. +46 8 123 456 78 (%(value)s is not one).")
            % {"value": value},
            code="phone",
        )


def normalise_phone(value: str) -> str:
    """A valid number in E.164 (`+46 8-123 456 78` → `+46812345678`); anything else as written,
    for `validate_phone` to refuse."""
    number = _phone(value)
    if number is None:
        return (value or "").strip()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_org_number(value: str) -> None:
    digits = re.sub(r"[\s-]", "", value or "")
    if not digits.isdigit() or len(digits) not in (8, 10):
        raise ValidationError(
            _(
                "Enter a Swedish organisation number (10 digits, e.g. 556677-8899) or a "
                "Finnish business ID (8 digits, e.g. 1234567-8)."
            )
        )
    if len(digits) == 10 and not _luhn_ok(digits):
        raise ValidationError(_("The check digit of this Swedish organisation number is wrong."))
    if len(digits) == 8 and not _finnish_business_id_ok(digits):
        raise ValidationError(_("The check digit of this Finnish business ID is wrong."))


# Terms ----------------------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def clean_discount_ladder(ladder: Any, target: Decimal | None) -> list[dict[str, str]]:
    """D §10.3: thresholds strictly falling, percents strictly rising. Returns the ladder with
    decimals written as strings."""
    if not isinstance(ladder, list):
        raise ValidationError(_('Give a list of steps like {"below": "99.8", "percent": "5"}.'))
    cleaned: list[dict[str, str]] = []
    previous: tuple[Decimal, Decimal] | None = None
    for index, step in enumerate(ladder, start=1):
        if not isinstance(step, dict) or set(step) != {"below", "percent"}:
            raise ValidationError(_('Step %(n)d must have exactly the keys "below" and "percent".') % {"n": index})
        below, percent = _decimal(step["below"]), _decimal(step["percent"])
        if below is None or not (0 < below <= 100):
            raise ValidationError(_("Step %(n)d: below must be a number above 0 and at most 100.") % {"n": index})
        if percent is None or not (0 < percent <= 100):
            raise ValidationError(_("Step %(n)d: percent must be a number above 0 and at most 100.") % {"n": index})
        if previous is not None:
            if below >= previous[0]:
                raise ValidationError(_("Step %(n)d: thresholds must fall strictly from step to step.") % {"n": index})
            if percent <= previous[1]:
                raise ValidationError(_("Step %(n)d: percents must rise strictly from step to step.") % {"n": index})
        elif target is not None and below > target:
            raise ValidationError(
                _("The first threshold (%(below)s) is above the availability target (%(target)s).")
                % {"below": below, "target": target}
            )
        previous = (below, percent)
        cleaned.append({"below": str(below), "percent": str(percent)})
    return cleaned


def clean_maintenance_windows(windows: Any) -> list[dict] | None:
    if windows is None:
        return None
    if not isinstance(windows, list):
        raise ValidationError(_("Give a list of windows, or nothing."))
    cleaned = []
    for index, window in enumerate(windows, start=1):
        if not isinstance(window, dict) or set(window) != {"weekdays", "start", "end"}:
            raise ValidationError(
                _('Window %(n)d must have exactly the keys "weekdays", "start" and "end".') % {"n": index}
            )
        days = window["weekdays"]
        if (
            not isinstance(days, list)
            or not days
            or any(isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 7 for d in days)
            or len(set(days)) != len(days)
        ):
            raise ValidationError(
                _("Window %(n)d: weekdays must be distinct numbers 1 (Monday) to 7 (Sunday).") % {"n": index}
            )
        try:
            start = hhmm_to_minutes(window["start"])
            end = hhmm_to_minutes(window["end"])
        except (ValueError, TypeError) as error:
            raise ValidationError(_("Window %(n)d: %(error)s") % {"n": index, "error": error})
        if start >= end:
            raise ValidationError(
                _("Window %(n)d: start must be before end (split a window over midnight in two).") % {"n": index}
            )
        cleaned.append({"weekdays": sorted(days), "start": window["start"], "end": window["end"]})
    return cleaned


def validate_terms(terms) -> None:
    """Every rule a terms version must satisfy; raises one ValidationError naming the fields."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if terms.timezone not in available_timezones():
        add(
            "timezone",
            _("Unknown time zone %(tz)s; use an IANA name such as Europe/Stockholm.") % {"tz": terms.timezone},
        )

    countries = supported_holiday_countries()
    country = terms.holiday_country or None
    if country is not None and country not in countries:
        add("holiday_country", _("No holiday calendar is known for country %(c)s.") % {"c": country})
    elif country is not None:
        subdivision = terms.holiday_subdivision or None
        if subdivision is not None and subdivision not in countries[country]:
            add(
                "holiday_subdivision",
                _("%(s)s is not a subdivision of %(c)s; known: %(known)s.")
                % {"s": subdivision, "c": country, "known": ", ".join(countries[country]) or "–"},
            )
        if not terms.holiday_categories:
            terms.holiday_categories = days_off_categories(country)
        categories = terms.holiday_categories
        supported = holidays.country_holidays(country).supported_categories
        if not isinstance(categories, list) or not categories or any(c not in supported for c in categories):
            add(
                "holiday_categories",
                _("Choose holiday categories among: %(known)s.") % {"known": ", ".join(supported)},
            )
    elif terms.holiday_subdivision:
        add("holiday_subdivision", _("A subdivision needs a holiday country."))
    elif not terms.holiday_categories:
        terms.holiday_categories = default_holiday_categories()
    if terms.support_days == "holiday_free_weekdays" and country is None:
        add("holiday_country", _("Holiday-free weekdays need a holiday country."))

    if terms.support_opens is not None and terms.support_closes is not None:
        if terms.support_closes > 1440:
            add("support_closes", _("Support cannot close after 24:00."))
        if terms.support_opens >= terms.support_closes:
            add("support_closes", _("Support must close after it opens."))

    a_countries = terms.a_number_countries
    if (
        not isinstance(a_countries, list)
        or not a_countries
        or any(not isinstance(c, str) or c not in phonenumbers.SUPPORTED_REGIONS for c in a_countries)
    ):
        add("a_number_countries", _('Give one or more ISO country codes, e.g. ["SE"].'))
    kinds = terms.a_number_types
    if kinds is None:
        terms.a_number_types = kinds = []
    # A JSON object or list in the list is no name: checked as such before it is looked up.
    if (
        not isinstance(kinds, list)
        or any(not isinstance(k, str) or k not in NUMBER_TYPES for k in kinds)
        or len(set(kinds)) != len(kinds)
    ):
        add("a_number_types", _("Choose kinds of number among: %(known)s.") % {"known": ", ".join(NUMBER_TYPES)})

    target = terms.availability_target
    if target is not None and not (0 < target <= 100):
        add("availability_target", _("The availability target is a percent above 0, at most 100."))
    if (target is None) != (not terms.availability_period):
        add("availability_period", _("An availability target and its period go together."))
    try:
        terms.discount_ladder = clean_discount_ladder(terms.discount_ladder, target)
    except ValidationError as error:
        add("discount_ladder", error.messages[0])
    else:
        if terms.discount_ladder and target is None:
            add("discount_ladder", _("A discount ladder needs an availability target."))

    try:
        terms.maintenance_windows = clean_maintenance_windows(terms.maintenance_windows)
    except ValidationError as error:
        add("maintenance_windows", error.messages[0])

    if terms.planned_work_notice_days is not None and terms.planned_work_notice_working_days is not None:
        add(
            "planned_work_notice_working_days",
            _("Give the notice for planned work in calendar days or in working days, not both."),
        )
    if terms.planned_work_notice_working_days is not None and country is None:
        add("planned_work_notice_working_days", _("Working days need a holiday country."))

    for field in ("late_delivery_discount_percent", "liability_cap_percent"):
        value = getattr(terms, field)
        if value is not None and not (0 <= value <= 100):
            add(field, _("A percent between 0 and 100."))
    if (
        terms.delivery_deadline_days is not None
        and terms.delivery_cancellation_days is not None
        and terms.delivery_cancellation_days < terms.delivery_deadline_days
    ):
        add(
            "delivery_cancellation_days",
            _("The right to cancel cannot come before the delivery deadline."),
        )
    try:
        CURRENCY(terms.currency or "")
    except ValidationError as error:
        add("currency", error.messages[0])
    try:
        terms.clauses = clean_clauses(terms.clauses)
    except ValidationError as error:
        add("clauses", error.messages[0])

    if errors:
        raise ValidationError(errors)
