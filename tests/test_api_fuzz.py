"""Hostile input against the API, generated from its own OpenAPI schema (schemathesis): no
request, however malformed, gets a 5xx, and every response matches what the schema promises."""

import json

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

RAW = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
schema = schemathesis.openapi.from_dict(RAW)
schema.app = get_wsgi_application()
schema.base_url = "http://localhost"


# What a schema cannot say of a request the server refuses by name (400): whether an object it
# names exists and is the caller's, a check digit, and rules between fields. A schema-valid
# request refused for anything else, or also for anything else, is a failure.
NOT_IN_THE_SCHEMA = {
    "contract": "a contract that exists and is the caller's",
    "contracts": "contracts that exist and are the caller's",
    "customer": "a customer that exists",
    "terms": "terms that exist (by slug or id)",
    "outage": "an outage that exists and concerns the caller's contracts",
    "tickets": "tickets that exist and are the caller's",
    "org_number": "the organisation number's check digit",
    "announced_at": "only planned work is announced",
    "month": "a month that has begun",
    "effective_from": "today or later",
    "password": "Django's password validators (length, commonness, likeness to the user's name)",
    "username": "a user name nobody has taken",
    "slug": "a slug no terms have yet",
    "started_at": "a fault has begun, planned work begins within a year",
    "ended_at": "after the start, and a fault's end has passed",
    "announced_via": "only with announced_at",
    # OpenAPI 3.0 cannot constrain an object's keys: an alert's label names without NUL.
    "alerts": "the names of an alert's labels and annotations hold no NUL character",
    "service": "a service (terms slug) that exists, or none where the desk has one service only",
    "received_at": "only staff set the arrival time, and it has passed",
    "channel": "only staff choose a channel other than web or api",
    "holiday_country": "a country for holiday-free weekdays and working days",
    "holiday_subdivision": "a subdivision of the holiday country",
    "holiday_categories": "categories the holiday country's calendar knows",
    "support_closes": "after support opens",
    "availability_period": "with an availability target, and only then",
    "discount_ladder": "thresholds falling and percents rising from step to step, the first at most the target",
    "maintenance_windows": "each window starts before it ends",
    "planned_work_notice_working_days": "not with calendar days, and with a holiday country",
    "delivery_cancellation_days": "not before the delivery deadline",
    # Django's URLValidator and EmailValidator: case-insensitive expressions with an IDNA fallback,
    # which neither `format: uri` or `format: email` nor an ECMA pattern can say exactly.
    "status_page_url": "an http, https, ftp or ftps address that Django's URL validator takes",
    "email": "an address Django's e-mail validator takes (a top-level domain of two letters or more)",
}


# TMF621's own bodies, whose rules TM Forum's components cannot say: a new ticket names an
# existing contract of the caller's and takes fewer fields than TroubleTicket_FVO offers; a hub's
# callback is an http or https URL of a public host we may call (tmf621/hub.py).
TMF621_BODIES = {
    "POST /tmf-api/troubleTicketManagement/v5/troubleTicket",
    "POST /tmf-api/troubleTicketManagement/v5/hub",
}


def schema_valid_requests_are_taken(ctx, response, case):
    if case.operation.label in TMF621_BODIES:
        return None
    if response.status_code == 422 and "Idempotency-Key" in response.text:
        return None  # an Idempotency-Key an earlier example sent with another body
    if response.status_code == 400 and case.meta.generation.mode.is_positive:
        named = set(response.json())
        if named and named <= set(NOT_IN_THE_SCHEMA):
            return None
    return positive_data_acceptance(ctx, response, case)


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.parametrize("role", ["staff", "customer"])
def test_the_api_keeps_its_schema_under_hostile_input(case, role, tokens):
    case.call_and_validate(
        headers={"Authorization": f"Token {tokens[role]}", "Accept-Language": "en"},
        excluded_checks=[positive_data_acceptance],
        additional_checks=[schema_valid_requests_are_taken],
    )


@pytest.fixture
def admin_token(in_process, admin_user, customer_a, staff_user):
    """An administrator's token, and a log with rows of every shape: addresses of both kinds, a
    customer, a ticket, details."""
    from django.test import RequestFactory
    from rest_framework.authtoken.models import Token

    from audit import services as audit

    audit.record("sign_in_failed", request=RequestFactory().get("/", REMOTE_ADDR="2001:db8::7"), actor_name="kim")
    audit.record(
        "viewed",
        request=RequestFactory().get("/", REMOTE_ADDR="192.0.2.7"),
        actor=staff_user,
        customer=customer_a,
        ticket_number="DST-2026-000001",
        detail={"file": "trace.log"},
    )
    return Token.objects.create(user=admin_user).key


# The audit log answers administrators alone (403 to the staff and customer above): read as one.
@schema.include(path="/api/audit-events/").parametrize()
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_audit_log_keeps_its_schema_for_an_administrator(case, admin_token):
    case.call_and_validate(
        headers={"Authorization": f"Token {admin_token}", "Accept-Language": "en"},
        excluded_checks=[positive_data_acceptance],
        additional_checks=[schema_valid_requests_are_taken],
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("urgent=perhaps", "urgent"),
        ("customer=abc", "customer"),
        ("contract=0", "contract"),
        ("status=open,nonsense", "status"),
        ("page_size=0", "page_size"),
        ("page_size=5000", "page_size"),
        ("customer=1&customer=2", "customer"),
    ],
)
def test_a_filter_the_api_cannot_read_is_refused_by_name(staff_api, query, field):
    response = staff_api.get(f"/api/tickets/?{query}")
    assert response.status_code == 400 and field in response.json()


def test_an_unknown_api_address_answers_json_and_form_posts_are_refused(staff_api, contract_a):
    missing = staff_api.get("/api/tickets/1.5/")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not found."}
    form = staff_api.post("/api/tickets/", {"contract": contract_a.pk}, format="multipart")
    assert form.status_code == 415 and "multipart/form-data" in form.json()["detail"]


def test_times_before_2000_are_typing_errors(staff_api, contract_a):
    response = staff_api.post(
        "/api/tickets/",
        {
            "contract": contract_a.pk,
            "a_number": "018 12345",
            "b_number": "040 123 4567",
            "fault_occurred_at": "0607-12-25T11:24:16Z",
            "description": "Fel",
        },
    )
    assert response.status_code == 400 and response.json()["fault_occurred_at"] == ["Give a time in 2000 or later."]
    outage = staff_api.post(
        "/api/outages/",
        {"started_at": "1999-12-31T23:59:59Z", "kind": "unplanned", "responsibility": "supplier", "service_wide": True},
    )
    assert outage.status_code == 400 and outage.json()["started_at"] == ["Give a time in 2000 or later."]


def test_huge_bodies_are_refused_without_a_trace(staff_api, client, customer_a_user, contract_a):
    from tickets.models import Ticket

    huge = "x" * (3 * 1024 * 1024)
    response = staff_api.post("/api/tickets/", {"contract": contract_a.pk, "description": huge})
    assert response.status_code == 400
    client.force_login(customer_a_user)
    page = client.post("/portal/report/", {"contract": contract_a.pk, "description": huge}, HTTP_ACCEPT_LANGUAGE="en")
    assert "at most 20000 characters (it has 3145728)" in page.content.decode()
    assert not Ticket.objects.exists()


def test_deep_pages_take_their_ids_first_and_large_counts_are_remembered_briefly(
    staff_api, contract_a, customer_a_user, monkeypatch
):
    import datetime

    import time_machine
    from django.core.cache import caches

    from core.api import pagination
    from tickets import services
    from tickets.models import Channel

    monkeypatch.setattr(pagination, "IDS_FIRST_FROM", 2)
    monkeypatch.setattr(pagination, "COUNT_CACHE_FROM", 3)
    caches["counts"].clear()
    start = datetime.datetime(2026, 10, 1, 8, 0, tzinfo=datetime.UTC)

    def report(minutes):
        with time_machine.travel(start + datetime.timedelta(minutes=minutes), tick=False):
            return services.ticket_create(
                contract=contract_a,
                reported_by=customer_a_user,
                channel=Channel.WEB,
                a_number="018 12345",
                b_number="040 123 4567",
                fault_occurred_at=start,
                description=f"Fel {minutes}",
            ).number

    numbers = [report(minutes) for minutes in range(6)]
    newest_first = list(reversed(numbers))
    with time_machine.travel(start + datetime.timedelta(hours=1), tick=False):
        pages = [staff_api.get(f"/api/tickets/?page_size=2&page={page}").json() for page in (1, 2, 3)]
        assert [[t["number"] for t in page["results"]] for page in pages] == [
            newest_first[0:2],
            newest_first[2:4],
            newest_first[4:6],
        ]
        assert pages[1]["results"][0]["customer"] == contract_a.customer_id
        report(30)
        assert staff_api.get("/api/tickets/?page_size=2").json()["count"] == 6  # remembered
    with time_machine.travel(start + datetime.timedelta(hours=1, seconds=31), tick=False):
        assert staff_api.get("/api/tickets/?page_size=2").json()["count"] == 7
