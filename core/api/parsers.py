"""The API's JSON: strict about what cannot be meant."""

import json

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def _finite_or_text(text: str):
    """A number too large for a float (1e309) stays the text it was, so the field it was given
    for refuses it by name instead of the whole request failing."""
    number = float(text)
    return number if number not in (float("inf"), float("-inf")) else text


class StrictJSONParser(JSONParser):
    """JSON as DRF reads it, but nested at most 32 deep and without infinite numbers."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", "utf-8")
        try:
            data = json.loads(
                stream.read().decode(encoding), parse_float=_finite_or_text, parse_constant=self._refuse_constant
            )
        except RecursionError:
            raise ParseError(
                _("JSON parse error - nested deeper than %(depth)d levels.") % {"depth": MAX_DEPTH}
            ) from None
        except ValueError as error:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": error}) from None
        if _depth(data) > MAX_DEPTH:
            raise ParseError(_("JSON parse error - nested deeper than %(depth)d levels.") % {"depth": MAX_DEPTH})
        return data

    @staticmethod
    def _refuse_constant(name: str):
        raise ValueError(_("%(name)s is not a number JSON allows.") % {"name": name})


def _depth(data) -> int:
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(value, dict):
            stack.extend((item, level + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, level + 1) for item in value)
    return deepest
