import copy
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

# No text takes a NUL character (no database text column can hold one): DRF's CharField refuses it
# in a body, config.middleware.RefuseNulMiddleware in a query or path parameter of every address.
NO_NUL = r"^[^\u0000]*$"
# Every time the API takes lies in 2000 or later (core.validation.check_time refuses an earlier
# one as a typing error): a year from 2000 on, and on 1 January 2000 a time in UTC or west of it
# (a time east of UTC that day may still be 1999 in UTC). The request schema states it
# (config.openapi.AutoSchema); an answer writes the time in the desk's zone, where midnight UTC
# of that day reads 01:00+01:00.
EARLIEST_PATTERN = r"^(?!2000-01-01[^+]*\+(?!00:?00$))[2-9][0-9]{3}-"


class UndecidedChoiceField(serializers.ChoiceField):
    """A choice a client must make when it writes, which an object may not have made yet when it
    is read (answered as null): the schema says so of answers only."""

    null_in_answers = True

    def to_representation(self, value):
        return None if value in ("", None) else super().to_representation(value)


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time that must carry its offset: a naive one is refused, never guessed.
    The services check that it lies in 2000 or later (core.validation.check_time)."""

    default_error_messages = {
        "naive": _("Give the time with its offset, e.g. 2026-10-02T14:05:00+02:00."),
    }

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


class NumberField(serializers.SlugRelatedField):
    """An object named by a text (a ticket's number) that refuses a NUL before the database is
    asked: PostgreSQL's text takes none and would fail the whole request."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


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


class FieldsBuiltOnce(_Serializer):
    """A serializer whose fields are worked out once per class (from the model, for a model
    serializer), then copied for each instance: DRF works a model's out again for every serializer
    it makes, half the CPU of serialising one ticket, and deep-copies each field (it makes it
    again from its arguments), a tenth of a fault report's. Its fields must depend on the class
    alone, not on the context.

    A field is copied shallowly: what it was made with (choices, validators, messages) is only
    read after, and binding gives the copy a name, parent and source of its own. A nested
    serializer is copied deeply, as DRF does, since its fields are bound to it."""

    def get_fields(self):
        built = type(self).__dict__.get("_fields_built")
        if built is None:
            built = super().get_fields()
            setattr(type(self), "_fields_built", built)  # never bound: each instance binds copies
        return {name: _copied(field) for name, field in built.items()}


def _copied(field: serializers.Field) -> serializers.Field:
    if isinstance(field, serializers.BaseSerializer):
        return copy.deepcopy(field)
    return copy.copy(field)


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
