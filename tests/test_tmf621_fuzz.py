"""Schemathesis against TM Forum's own TMF621 document, its troubleTicket operations on our
server: no request generated from the specification, however hostile, gets a 5xx, and every
answer matches what the specification promises.

Three adjustments to the document, said in the README: a `oneOf` with a discriminator is an
`anyOf` (see tmf621/schema.py: without the discriminator every reference also matches the value
schema), PATCH offers only the merge-patch media types we take (JSON Patch answers 415), and
the list offers the query parameters we read, `offset` and `limit` within our bounds, and no text
parameter takes a NUL character, which every address of ours refuses (as our /api/schema/ says:
tmf621/schema.py)."""

import copy

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from tests.tmf621_spec import spec
from tmf621.schema import PATCH_MEDIA, as_served


def _anyof(node):
    if isinstance(node, list):
        return [_anyof(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        "anyOf" if key == "oneOf" and "discriminator" in node else key: _anyof(value) for key, value in node.items()
    }


def _document() -> dict:
    document = _anyof(copy.deepcopy(spec()))
    document["servers"] = [{"url": "http://localhost/tmf-api/troubleTicketManagement/v5"}]
    shared = document["components"]["parameters"]
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [
                    shared[parameter["$ref"].rsplit("/", 1)[1]] if "$ref" in parameter else parameter
                    for parameter in operation["parameters"]
                ]
                as_served(operation)
    patch = document["components"]["requestBodies"]["TroubleTicket_MVO"]["content"]
    document["components"]["requestBodies"]["TroubleTicket_MVO"]["content"] = {
        media: patch[media] for media in PATCH_MEDIA
    }
    return document


# Not operations of our server: /listener/* are the callbacks a client serves to receive the
# events we POST (tmf621/hub.py), and we keep no troubleTicketSpecification catalogue. The hub
# is fuzzed with the rest of our API, from our own schema (tests/test_api_fuzz.py).
NOT_SERVED_HERE = r"^/(?:listener/|troubleTicketSpecification|hub)"

schema = schemathesis.openapi.from_dict(_document()).exclude(path_regex=NOT_SERVED_HERE)
schema.app = get_wsgi_application()
schema.base_url = "http://localhost/tmf-api/troubleTicketManagement/v5"


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.parametrize("role", ["staff", "customer"])
def test_the_official_trouble_ticket_operations_hold_on_our_server(case, role, tokens):
    # A new ticket must name an existing contract of the caller's in relatedEntity, and the
    # document's TroubleTicket_FVO offers fields a new ticket does not take (status, note, ...):
    # a report the document calls valid may rightly be refused. Every other check applies.
    refusable = [positive_data_acceptance] if case.operation.label == "POST /troubleTicket" else []
    case.call_and_validate(
        headers={"Authorization": f"Token {tokens[role]}", "Accept-Language": "en"},
        excluded_checks=refusable,
    )
