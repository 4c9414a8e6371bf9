"""Hostile input against every page of the portal and the desk, generated from the URL
configuration: whatever the query, the form or the path holds (NUL characters, numbers no
field can hold, huge, negative or foreign digits, markup), no page answers 5xx. A new page is
fuzzed from the day it is routed."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla import services as sla_services
from tests.test_isolation import routes
from tickets import satisfaction, services
from tickets.models import Channel

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
NOW = datetime.datetime(2026, 10, 20, 13, 0, tzinfo=MARIEHAMN)

# Parameters the pages read, and a few they never heard of.
NAMES = [
    "q",
    "terms",
    "status",
    "category",
    "urgent",
    "breached",
    "assignee",
    "customer",
    "contract",
    "page",
    "month",
    "format",
    "contract_q",
    "claim",
    "decision",
    "note",
    "granted_amount",
    "outside_cap",
    "action",
    "next",
    "message",
    "description",
    "a_number",
    "b_number",
    "fault_occurred_at",
    "received_at",
    "once",
    "ended_at",
    "language",
    "sort",
    "name",
    "query",
    "outage",
    "ticket",
    "duplicate_of",
    "classification",
    "not_fault_reason",
    "close_reason",
    "number",
    "kind",
    "started_at",
    "announced_at",
    "announced_via",
    "responsibility",
    "contracts",
    "tickets",
    "text",
    "state",
    "notify",
    "x\x00",
]
NASTY = st.sampled_from(
    [
        "\x00",
        "a\x00b",
        "1e309",
        "-1",
        "0",
        "9" * 40,
        "١٢",
        "²",
        "NaN",
        "inf",
        "2026-13",
        "2026-02-30T25:61",
        "0000-00",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "%00",
        "../../etc/passwd",
        " ",
        "",
        "ä" * 300,
        "open,closed,nonsense",
        "none",
        "true",
        "2026-10",
        "sv",
        "//evil.example/",
        "-due",
        "-assignee",
        "due",
        "q=" + "x" * 1200,
    ]
)
VALUES = st.one_of(NASTY, st.text(max_size=40))
PARAMS = st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=5)
PATH_TEXT = st.one_of(
    NASTY.filter(lambda value: value and "/" not in value and "%" not in value),
    st.text(st.characters(codec="utf-8", exclude_characters="/?#%"), min_size=1, max_size=20),
)

SKIPPED = {"logout", "set_language", "healthz"}  # sign-out, language cookie, probe: no input to fuzz


def pages():
    return [
        (name, text)
        for name, text, admin in routes()
        if not admin and not text.startswith(("api/", "tmf-api/")) and name not in SKIPPED and name is not None
    ]  # APIs: test_api_fuzz; unnamed: allauth's old addresses, answered 404 before it (accounts.urls)


@pytest.fixture
def world(customer_a_user, staff_user, contract_a):
    with time_machine.travel(NOW, tick=False):
        ticket = services.ticket_create(
            contract=contract_a,
            reported_by=customer_a_user,
            channel=Channel.WEB,
            a_number="018 12345",
            b_number="040 123 4567",
            fault_occurred_at=NOW - datetime.timedelta(minutes=5),
            description="Samtal kopplas inte fram.",
        )
        outage = sla_services.outage_register(
            started_at=NOW - datetime.timedelta(hours=1),
            kind="unplanned",
            responsibility="supplier",
            contracts=[contract_a],
            tickets=[ticket],
        )
    return {
        "number": ticket.number,
        "pk": contract_a.pk,
        "satisfaction_token": satisfaction.token_for(ticket),
        "attachment_id": 1,
        "action": "reply",
        "sla-outage": outage.pk,
        "desk-customer": contract_a.customer_id,
        "uidb64": "MQ",
        "token": "c0ffee-0123456789abcdef",
        "slug": contract_a.terms.slug,
        "watcher_id": 1,
        "score": "good",
        # allauth's links and the sign-on: nobody's object
        "key": "c0ffee",
        "uidb36": "1",
        "provider_id": "desk",
    }


def path_for(name: str, text: str, world: dict, hostile: str | None) -> str:
    """The page's address for the world's objects, a ticket number replaced by `hostile`."""
    kwargs = {key: world[key] for key in re.findall(r"<(?:\w+:)?(\w+)>", text)}
    owner = next((world[prefix] for prefix in ("sla-outage", "desk-customer") if name.startswith(prefix)), None)
    if "pk" in kwargs and owner is not None:
        kwargs["pk"] = owner
    if name == "satisfaction":  # a real link, so that its form is read
        kwargs["token"] = world["satisfaction_token"]
    if hostile is not None and "number" in kwargs:
        kwargs["number"] = hostile
    return reverse(name, kwargs=kwargs)


@pytest.mark.parametrize("role", ["staff", "customer"])
@pytest.mark.parametrize(("name", "text"), pages())
def test_no_page_answers_5xx_to_hostile_input(client, world, staff_user, customer_a_user, role, name, text):
    client.force_login(staff_user if role == "staff" else customer_a_user)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(query=PARAMS, form=PARAMS, path_text=st.one_of(st.none(), PATH_TEXT))
    def hostile(query, form, path_text):
        path = path_for(name, text, world, path_text)
        with time_machine.travel(NOW + datetime.timedelta(hours=1), tick=False):
            for response in (client.get(path, query), client.post(path, form)):
                assert response.status_code < 500, (path, query, form, response.status_code)

    hostile()
