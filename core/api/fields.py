from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class UndecidedChoiceField(serializers.ChoiceField):
    """A choice a client must make when it writes, which an object may not have made yet when it
    is read (answered as null): the schema says so of answers only."""

    null_in_answers = True

    def to_representation(self, value):
        return None if value in ("", None) else super().to_representation(value)


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time that must carry its offset: a naive one is refused, never guessed."""

    default_error_messages = {
        "naive": _("Give the time with its offset, e.g. 2026-10-02T14:05:00+02:00."),
    }

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


if TYPE_CHECKING:
    # A mixin of serializers: what it reads of them, for mypy; at run time it stands alone.
    _Serializer = serializers.Serializer
else:
    _Serializer = object


class StrictFields(_Serializer):
    """A serializer that refuses body fields it does not know, naming each, so an integrator's
    typo (`dicsovered_on`) is never dropped quietly. Known read-only fields are still ignored, so
    an object read, changed and sent back is taken."""

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = sorted(str(name) for name in data.keys() if name not in self.fields)
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)


class _Exact:
    """A field that takes a value only of the JSON type its schema names: a number is no text, and
    a text no number (DRF would turn either into the other)."""

    json_type: type | tuple[type, ...] = str

    def to_internal_value(self, data):
        if not isinstance(data, self.json_type) or isinstance(data, bool):
            self.fail("invalid")  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class ExactText(_Exact, serializers.CharField):
    default_error_messages = {"invalid": _("Not a valid string.")}


class ExactSlug(_Exact, serializers.SlugField):
    default_error_messages = {"invalid": _("Not a valid string.")}


class ExactInteger(_Exact, serializers.IntegerField):
    json_type = int
