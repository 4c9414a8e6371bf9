"""Our /api/schema/ documents the TMF621 operations we serve with the official document's own
operations and components (tmf621/spec/), so an integrator reads the same names there as in
TM Forum's specification: TroubleTicket_RES, TroubleTicket_FVO, TroubleTicket_MVO, Hub, ...

Two changes, both for validators that do not read OpenAPI's `discriminator`: TMF's `Error` is
`TMF621Error` here (our own API's errors are `Error`), and a `oneOf` with a discriminator is an
`anyOf` (AttachmentRef or Attachment, PartyRef or PartyRoleRef: every reference also matches
the value schema, so "exactly one" never holds without the discriminator)."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import yaml
from django.urls import reverse

from core.api.fields import NO_NUL
from tmf621.selectors import MAX_LIMIT, MAX_OFFSET

SPEC = Path(__file__).resolve().parent / "spec" / "TMF621-Trouble_Ticket-v5.0.1.oas.yaml"
RENAMED = {"Error": "TMF621Error"}
# The official operations we serve, and the answers our DELETE gives instead of deleting.
SERVED = {
    "/troubleTicket": ("get", "post"),
    "/troubleTicket/{id}": ("get", "patch", "delete"),
    "/hub": ("post",),
    "/hub/{id}": ("get", "delete"),
}
DELETE_ANSWERS = ("401", "403", "404", "405")
PATCH_MEDIA = ("application/merge-patch+json", "application/json")


# The bounds our list takes (tmf621.selectors.paging), where the document states none, and the
# query parameters of the document we do not read (cursor paging, JSONPath filters, sorting),
# which our list refuses by name. No text parameter takes a NUL character, on any address of ours
# (config.middleware.RefuseNulMiddleware).
PAGING = {"offset": (0, MAX_OFFSET), "limit": (1, MAX_LIMIT)}
UNREAD = ("before", "after", "filter", "sort")


def as_served(operation: dict) -> dict:
    """The operation with the query parameters we read, `offset` and `limit` within our bounds,
    and texts in its query and path without NUL."""
    parameters = []
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "query" and parameter.get("name") in UNREAD:
            continue
        if parameter.get("in") == "query" and parameter.get("name") in PAGING:
            lowest, highest = PAGING[parameter["name"]]
            parameter = {**parameter, "schema": {**parameter["schema"], "minimum": lowest, "maximum": highest}}
        schema = parameter.get("schema", {})
        if parameter.get("in") in ("query", "path") and schema.get("type") == "string" and "pattern" not in schema:
            parameter = {**parameter, "schema": {**schema, "pattern": NO_NUL}}
        parameters.append(parameter)
    if "parameters" in operation:
        operation["parameters"] = parameters
    return operation


@functools.cache
def official() -> dict:
    return yaml.safe_load(SPEC.read_text())


def _schema_name(ref: str) -> str:
    name = ref.rsplit("/", 1)[1]
    return RENAMED.get(name, name)


class _Copier:
    """Copies parts of the official document, resolving its shared responses, bodies,
    parameters and headers in place and collecting the schemas they need."""

    def __init__(self) -> None:
        self.components = official()["components"]
        self.needed: set[str] = set()

    def copy(self, node):
        if isinstance(node, list):
            return [self.copy(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if ref and ref.startswith("#/components/schemas/"):
            self.needed.add(ref.rsplit("/", 1)[1])
            return {"$ref": "#/components/schemas/" + _schema_name(ref)}
        if ref:
            kind, name = ref.split("/")[2:4]
            return self.copy(self.components[kind][name])
        copied = {}
        for key, value in node.items():
            if key == "examples":
                continue  # they point at the document's examples, which we do not copy
            if key == "mapping":
                self.needed.update(target.rsplit("/", 1)[1] for target in value.values())
                value = {name: "#/components/schemas/" + _schema_name(target) for name, target in value.items()}
            copied["anyOf" if key == "oneOf" and "discriminator" in node else key] = self.copy(value)
        return copied

    def schemas(self) -> dict:
        done: dict = {}
        while self.needed - set(done):
            name = sorted(self.needed - set(done))[0]
            done[name] = self.copy(self.components["schemas"][name])
        return {RENAMED.get(name, name): schema for name, schema in done.items()}


def _operations(copier: _Copier, path: str, methods: tuple[str, ...], security) -> dict:
    operations = {}
    for method in methods:
        operation = as_served(copier.copy(official()["paths"][path][method]))
        if method == "patch":
            content = operation["requestBody"]["content"]
            operation["requestBody"]["content"] = {media: content[media] for media in PATCH_MEDIA}
        if path == "/troubleTicket/{id}" and method == "delete":
            operation["description"] = (
                "A trouble ticket is never deleted: the customer cancels it and the "
                "desk closes it, both by PATCH of its status. Always 405 for your tickets."
            )
            operation["responses"] = {code: operation["responses"][code] for code in DELETE_ANSWERS}
        operation["tags"] = ["TMF621 " + tag for tag in operation.get("tags", [])]
        if security:
            operation["security"] = security
        operations[method] = operation
    return operations


def add_tmf621(result, generator, request, public):
    """drf-spectacular postprocessing hook: the TMF621 operations and their components."""
    base = reverse("tmf621-ticket-list").removesuffix("/troubleTicket")
    security = next(
        (
            operation.get("security")
            for operations in result.get("paths", {}).values()
            for operation in operations.values()
            if isinstance(operation, dict) and "security" in operation
        ),
        None,
    )
    copier = _Copier()
    paths = result.setdefault("paths", {})
    for path, methods in SERVED.items():
        paths[base + path] = _operations(copier, path, methods, copy.deepcopy(security))
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in copier.schemas().items():
        assert name not in schemas, f"TMF621 component {name} would replace one of our own"
        schemas[name] = schema
    return result
