"""The official TMF621 v5.0.1 document (tmf621/openapi/) as a validator of our answers and
event payloads, component by component.

jsonschema knows nothing of OpenAPI's `discriminator`, and TMF's `oneOf`s (AttachmentRef or
Attachment, PartyRef or PartyRoleRef) are ambiguous without it: every reference also matches
the value schema. So each `oneOf` with a discriminator becomes "the schema its `@type` names",
as an OpenAPI tool reads it. Characteristics are checked against their own subtype as well
(`StringCharacteristic`, …), which the document leaves to the discriminator too."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import jsonschema
import yaml

SPEC_PATH = Path(__file__).resolve().parent.parent / "tmf621" / "spec" / "TMF621-Trouble_Ticket-v5.0.1.oas.yaml"


@functools.cache
def spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text())


def _by_discriminator(node):
    if isinstance(node, list):
        return [_by_discriminator(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _by_discriminator(value) for key, value in node.items()}
    if "oneOf" in node and "discriminator" in node:
        mapping = node["discriminator"]["mapping"]
        node.pop("oneOf")
        node["required"] = sorted({*node.get("required", []), "@type"})
        node["properties"] = {**node.get("properties", {}), "@type": {"enum": sorted(mapping)}}
        node["allOf"] = [
            {"if": {"properties": {"@type": {"const": name}}}, "then": {"$ref": ref}} for name, ref in mapping.items()
        ]
    return node


@functools.cache
def _components() -> dict:
    return _by_discriminator(copy.deepcopy(spec()["components"]))


def validate(instance, component: str) -> None:
    """Raise jsonschema.ValidationError unless `instance` is a valid `component`."""
    schema = {"$ref": f"#/components/schemas/{component}", "components": _components()}
    jsonschema.Draft202012Validator(schema).validate(instance)
    for item in _characteristics(instance):
        validate_subtype(item)


def validate_subtype(item: dict) -> None:
    schema = {"$ref": f"#/components/schemas/{item['@type']}", "components": _components()}
    jsonschema.Draft202012Validator(schema).validate(item)


def _characteristics(instance):
    if isinstance(instance, dict):
        for key, value in instance.items():
            if key == "troubleTicketCharacteristic":
                yield from value
            else:
                yield from _characteristics(value)
    elif isinstance(instance, list):
        for value in instance:
            yield from _characteristics(value)
