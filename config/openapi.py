"""The error answers every API operation can give, written into the OpenAPI schema so that
integrators (and the schema tests) know them: 400 with field messages, 401 without credentials,
403 for staff-only operations, 404 for objects that are not yours, 503 while the database is
away."""

import re

from drf_spectacular import openapi
from rest_framework import serializers

from core.api.fields import EARLIEST_PATTERN, NO_NUL, AwareDateTimeField, StrictFields
from core.idempotency import is_idempotent

# The largest id a path or filter takes (core.api.params.whole_number: at most 18 digits).
LARGEST_ID = 10**18 - 1
# Not blank as DRF reads it (a text trimmed of spaces before it is checked), and no NUL either.
NOT_BLANK = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
DECIMAL_PATTERN = re.compile(r"\^-\?(?:0\?|\\d\{0,(\d+)\})\(\?:\\(.)\\d\{0,(\d+)\}\)\?\$")

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
FIELD_ERRORS = {
    "type": "object",
    "description": 'Messages per field, e.g. {"a_number": ["Enter a valid phone number."]}; '
    "`non_field_errors` for the whole request.",
    "additionalProperties": {},
}


def text_pattern(pattern: str | None, not_blank: bool = False) -> str:
    """The pattern of a text the server takes: a validator's own pattern (ours all name the
    characters they take, none a NUL), else any text without NUL, not blank where it must not be."""
    if pattern and pattern != r"\S":
        return pattern
    return NOT_BLANK if not_blank or pattern == r"\S" else NO_NUL


def _answer(description: str, name: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }


def document_errors(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"], schemas["FieldErrors"] = ERROR, FIELD_ERRORS
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.setdefault("400", _answer("The request is not valid: what is wrong, per field.", "FieldErrors"))
            responses.setdefault("401", _answer("No or unknown credentials.", "Error"))
            responses.setdefault("403", _answer("Not allowed for this user (staff-only operations).", "Error"))
            responses.setdefault("404", _answer("No such object or page, or not yours.", "Error"))
            if method in ("post", "put", "patch", "delete") and "409" in responses:
                responses["409"].setdefault("content", _answer("", "Error")["content"])
            responses.setdefault(
                "503", _answer("The database is briefly away; retry after Retry-After seconds.", "Error")
            )
    return result


def _strict_decimal(schema: dict) -> None:
    """drf-spectacular's decimal pattern also matches "", "-" and "."; DRF reads none of them as a
    number."""
    match = DECIMAL_PATTERN.fullmatch(schema.get("pattern", ""))
    if match:
        whole = rf"\d{{1,{match[1]}}}" if match[1] else "0"
        separator, places = re.escape(match[2]), match[3]
        schema["pattern"] = rf"^-?(?:{whole}(?:{separator}\d{{0,{places}}})?|{separator}\d{{1,{places}}})$"


def _visit(node) -> None:
    if isinstance(node, list):
        for item in node:
            _visit(item)
    elif isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "decimal":
            _strict_decimal(node)
        for value in node.values():
            _visit(value)


def _free_text(schema: dict) -> bool:
    return schema.get("type") == "string" and "enum" not in schema and "format" not in schema


def state_server_rules(result, generator, request, public):
    """The rules the server checks, written into the schema, so that a request the schema calls
    valid is one the server reads: ids and integer filters of our own API from 1 to LARGEST_ID (a
    page beyond the last answers 404), texts in a query or path without NUL, decimals with at
    least one digit."""
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter["in"] in ("path", "query") and schema.get("type") == "integer":
                    schema.setdefault("minimum", 1)
                    schema.setdefault("maximum", LARGEST_ID)
                if parameter["in"] in ("path", "query") and _free_text(schema):
                    schema["pattern"] = text_pattern(schema.get("pattern"))
    _visit(result.get("components", {}).get("schemas", {}))
    return result


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "description": (
        "Any unique string of visible ASCII (a UUID, say). Send the same key again with the same body "
        "within 24 hours and you get the first answer again (with `Idempotent-Replayed: true`) instead "
        "of a second object; the same key with another body answers 422. A request that failed keeps "
        "nothing: retry it with the same key."
    ),
}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, with the `Idempotency-Key` header and its answers on the
    operations that take it, `additionalProperties: false` on the bodies whose serializer
    refuses unknown fields (StrictFields), and the texts and times a body takes (text_pattern,
    EARLIEST_PATTERN)."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # A value that is required when written but may be undecided when read (UndecidedChoiceField).
        if direction == "response" and getattr(field, "null_in_answers", False):
            schema["nullable"] = True
            if "enum" in schema:
                schema["enum"] = [*schema["enum"], None]
        return schema

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction != "request":
            return schema
        if isinstance(serializer, StrictFields):
            schema["additionalProperties"] = False
        for name, field in getattr(serializer, "fields", {}).items():
            prop = schema.get("properties", {}).get(name)
            if isinstance(field, AwareDateTimeField) and prop and prop.get("type") == "string":
                prop["pattern"] = EARLIEST_PATTERN
                continue
            if isinstance(field, serializers.ManyRelatedField) and isinstance(
                field.child_relation, serializers.SlugRelatedField
            ):
                items = (prop or {}).get("items", {})
                if _free_text(items):
                    items["pattern"] = text_pattern(items.get("pattern"))
                continue
            if not isinstance(field, serializers.CharField) or not prop or prop.get("type") != "string":
                continue
            # DRF trims a text before it checks it is not blank: "  " is blank too. This runs
            # after drf-spectacular has written the field's validators' patterns.
            not_blank = field.trim_whitespace and not field.allow_blank
            if _free_text(prop):
                prop["pattern"] = text_pattern(prop.get("pattern"), not_blank)
            elif not_blank and "enum" not in prop:
                prop.setdefault("pattern", r"\S")
        return schema

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is not None and is_idempotent(self.view):
            operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
            responses = operation.setdefault("responses", {})
            responses["422"] = _answer("This Idempotency-Key was already used for a different request.", "Error")
        return operation
