"""Tenant isolation, generated from the URL configuration.

Every route of the site (pages, API, admin) is requested with every method by a customer user of
customer B against customer A's objects, by customer A's own user on staff-only routes, and by
an anonymous visitor. B must get exactly what B gets for an object that does not exist (404 on
customer routes), never a byte of A's data, and A's objects must be unchanged afterwards. A new
route fails this test until it is classified below, so no endpoint is left out by forgetting it.
"""

import datetime
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver

from sla import claims as sla_claims
from sla import services as sla_services
from tickets import attachments, inbound, satisfaction, services
from tickets.models import Channel, InboundEmail, Satisfaction, SavedView, Ticket
from tmf621.models import Listener

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
NOW = datetime.datetime(2026, 10, 20, 13, 0, tzinfo=MARIEHAMN)
METHODS = ("get", "post", "put", "patch", "delete")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32  # the magic bytes are what the preview checks
SECRETS = ("Hemliga Alfa AB", "ALFA-SECRET-DESCRIPTION", "1812345", "alfa-secret.log", "ALFA-SECRET-MAIL")

# Who may use a route at all. "customer": customers use it for their own objects; "staff": staff
# only; "shared": every signed-in user reads it (contract terms are the same for all customers),
# only staff write; "public": anyone, signed in or not (it shows no customer data).
ROUTES = {
    "home": "customer",
    "portal": "customer",
    "portal-report": "customer",
    "portal-ticket": "customer",
    "portal-receipt": "customer",
    "attachment": "customer",
    "portal-claims": "customer",
    "portal-availability": "customer",
    "desk": "staff",
    "desk-phone-report": "staff",
    "desk-billable": "staff",
    "desk-inbox": "staff",
    "desk-inbox-raw": "staff",
    "desk-ticket": "staff",
    "desk-action": "staff",
    "sla-board": "staff",
    "sla-outage-end": "staff",
    "sla-outage-decide": "staff",
    "sla-outage-discard": "staff",
    "sla-contract": "staff",
    "sla-csv": "staff",
    "delivery": "staff",
    "desk-claims": "staff",
    "sla-billing": "staff",
    "sla-outage-confirm": "staff",
    "sla-ticket-outages": "staff",
    "desk-save-view": "staff",
    "desk-delete-view": "staff",
    "desk-bulk": "staff",
    "sla-outage-options": "staff",
    "sla-bulk-link": "staff",
    "desk-notices": "staff",
    "desk-notices-read": "staff",
    "desk-preferences": "staff",
    "portal-withdraw": "customer",
    "sla-outage-new": "staff",
    "sla-outage": "staff",
    "sla-outage-post-update": "staff",
    "status-page": "public",
    "status-feed": "public",
    "status-json": "public",
    "statuspage-summary": "public",
    "statuspage-status": "public",
    "statuspage-components": "public",
    "statuspage-incidents": "public",
    "statuspage-incidents-unresolved": "public",
    "statuspage-scheduled-maintenances": "public",
    "statuspage-scheduled-maintenances-upcoming": "public",
    "statuspage-scheduled-maintenances-active": "public",
    "sla-outage-edit": "staff",
    "desk-customers": "staff",
    "desk-customer": "staff",
    "portal-watcher-add": "customer",
    "portal-watcher-remove": "customer",
    "portal-satisfaction": "customer",
    "attachment-preview": "customer",
    "desk-satisfaction": "staff",
    "desk-watcher-remove": "staff",
    # The link in the resolved e-mail: whoever holds it answers for that ticket, without signing in;
    # it shows the ticket's number and nothing else of it.
    "satisfaction": "public",
    # Signing in (django-allauth's pages and ours, accounts/): the steps before one is signed in
    # answer anyone; a user's own factors, sessions and password are theirs; the API token is staff's.
    "account_login": "public",
    "account_logout": "public",
    "account_signup": "public",
    "account_inactive": "public",
    "account_email_verification_sent": "public",
    "account_confirm_email": "public",
    "account_confirm_login_code": "public",
    "account_reset_password": "public",
    "account_reset_password_done": "public",
    "account_reset_password_from_key": "public",
    "account_reset_password_from_key_done": "public",
    "mfa_authenticate": "public",
    "oidc_login": "public",
    "oidc_callback": "public",
    "socialaccount_login_cancelled": "public",
    "socialaccount_login_error": "public",
    "socialaccount_signup": "public",
    "not-offered": "public",
    None: "public",  # allauth's unnamed old addresses (accounts/social/…), answered 404 by not-offered first
    "account_change_password": "customer",
    "account_set_password": "customer",
    "account_email": "customer",
    "account_reauthenticate": "customer",
    "account_request_reauthentication_code": "customer",
    "account_confirm_reauthentication_code": "customer",
    "accounts-second-factor-required": "customer",
    "accounts-session-end": "customer",
    "usersessions_list": "customer",
    "socialaccount_connections": "customer",
    "mfa_index": "customer",
    "mfa_reauthenticate": "customer",
    "mfa_activate_totp": "customer",
    "mfa_deactivate_totp": "customer",
    "mfa_view_recovery_codes": "customer",
    "mfa_generate_recovery_codes": "customer",
    "mfa_download_recovery_codes": "customer",
    "mfa_list_webauthn": "customer",
    "mfa_add_webauthn": "customer",
    "mfa_edit_webauthn": "customer",
    "mfa_remove_webauthn": "customer",
    "mfa_reauthenticate_webauthn": "customer",
    "accounts-token": "staff",
    "accounts-token-create": "staff",
    "accounts-token-revoke": "staff",
    "set_language": "public",
    "schema": "public",
    "api-docs": "public",
    "healthz": "public",
    "password_reset": "public",
    "password_reset_done": "public",
    "password_reset_confirm": "public",
    "password_reset_complete": "public",
    "password_change": "customer",
    "password_change_done": "customer",
    "api-root": "customer",
    "terms-list": "shared",
    "terms-detail": "shared",
    "terms-versions": "shared",
    "customer-list": "customer",
    "customer-detail": "customer",
    "customer-users": "staff",
    "contract-list": "customer",
    "contract-detail": "customer",
    "contract-availability": "customer",
    "contract-fees": "staff",
    "ticket-list": "customer",
    "ticket-detail": "customer",
    "ticket-messages": "customer",
    "ticket-reply": "customer",
    "ticket-withdraw": "customer",
    "ticket-close": "customer",
    "ticket-classify": "staff",
    "ticket-request-info": "staff",
    "ticket-resolve": "staff",
    "ticket-start": "staff",
    "outage-list": "customer",
    "outage-detail": "customer",
    "outage-confirm-responsibility": "staff",
    "outage-discard": "staff",
    "monitoring-alertmanager": "staff",
    "monitoring-generic": "staff",
    "claim-list": "customer",
    "claim-detail": "customer",
    "claim-decide": "staff",
    # Administrators only (superusers, or staff given "Can view audit event"): staff-only and more.
    "audit-event-list": "staff",
    "tmf621-ticket-list": "customer",
    "tmf621-ticket": "customer",
    "tmf621-hub-list": "customer",
    "tmf621-hub": "customer",
}

# Routes naming one of A's objects that A's own user reads.
OWNER_READS = (
    "portal-ticket",
    "portal-receipt",
    "attachment",
    "attachment-preview",
    "portal-availability",
    "customer-detail",
    "contract-detail",
    "contract-availability",
    "ticket-detail",
    "ticket-messages",
    "claim-detail",
    "tmf621-ticket",
    "tmf621-hub",
)

# The admin's own sign-in and sign-out pages answer anyone.
ADMIN_PUBLIC = ("login", "logout")


def routes():
    """(name, regex or route text, is_admin) of every URL pattern, admin included."""
    found = []

    def walk(resolver, prefix, admin):
        for pattern in resolver.url_patterns:
            text = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern, text, admin or str(pattern.pattern) == "admin/")
            elif isinstance(pattern, URLPattern):
                found.append((pattern.name, text, admin))

    walk(get_resolver(), "", False)
    return found


@pytest.fixture
def world(customer_a, customer_b, contract_a, contract_b, customer_a_user, staff_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    customer_a.name = "Hemliga Alfa AB"
    customer_a.save()
    customer_a.contacts.create(name="Anna", email="anna@alfa.example", is_primary=True)
    with time_machine.travel(NOW, tick=False):
        ticket = services.ticket_create(
            contract=contract_a,
            reported_by=customer_a_user,
            channel=Channel.WEB,
            a_number="018 12345",
            b_number="040 123 4567",
            fault_occurred_at=NOW - datetime.timedelta(hours=1),
            description="ALFA-SECRET-DESCRIPTION",
            received_at=NOW,
        )
        checked = attachments.upload_problems([SimpleUploadedFile("alfa-secret.log", b"INVITE sip:1@pbx SIP/2.0\r\n")])[
            0
        ]
        attachment = attachments.store(ticket, checked, actor=customer_a_user)[0]
        checked = attachments.upload_problems([SimpleUploadedFile("alfa.png", PNG)])[0]
        image = attachments.store(ticket, checked, actor=customer_a_user)[0]
        colleague = customer_a.contacts.create(name="Bengt", email="bengt@alfa.example")
        watcher = services.watcher_add(ticket=ticket, actor=customer_a_user, contact=colleague)
        claim = sla_claims.claim_file(
            contract=contract_a,
            discovered_on=NOW.date(),
            description="ALFA-SECRET-DESCRIPTION claim",
            tickets=[ticket],
            month=datetime.date(2026, 10, 1),
            amount=Decimal("5.00"),
            actor=customer_a_user,
        )
        outage = sla_services.outage_register(
            started_at=NOW - datetime.timedelta(hours=3),
            ended_at=NOW - datetime.timedelta(hours=2),
            kind="unplanned",
            responsibility="supplier",
            description="ALFA-SECRET-DESCRIPTION outage",
            contracts=[contract_a],
            tickets=[ticket],
            actor=staff_user,
        )
        mail = inbound.receive(
            b"From: stranger@elsewhere.example\r\nSubject: ALFA-SECRET-MAIL\r\nMessage-ID: <s@x>\r\n\r\nhej\r\n"
        )
    objects = {
        "ticket": ticket,
        "attachment": attachment,
        "image": image,
        "watcher": watcher,
        "claim": claim,
        "outage": outage,
        "mail": mail,
        "contract": contract_a,
        "customer": customer_a,
        "terms": contract_a.terms,
        "view": SavedView.objects.create(user=staff_user, name="Mine", query="urgent=true"),
        "hub": Listener.objects.create(
            owner=customer_a_user,
            customer=customer_a,
            secret="x",
            callback="https://alfa.example/ALFA-SECRET-DESCRIPTION",
        ),
        "session": UserSession.objects.create(
            user=customer_a_user, session_key="alfa-session-key", ip="192.0.2.1", user_agent="ALFA-SECRET-BROWSER"
        ),
        "key": Authenticator.objects.create(
            user=customer_a_user, type=Authenticator.Type.WEBAUTHN, data={"name": "ALFA-SECRET-KEY", "credential": {}}
        ),
    }
    return objects


def snapshot(world):
    ticket = Ticket.objects.get(pk=world["ticket"].pk)
    claim = type(world["claim"]).objects.get(pk=world["claim"].pk)
    outage = type(world["outage"]).objects.get(pk=world["outage"].pk)
    return (
        ticket.status,
        ticket.category,
        ticket.assignee_id,
        ticket.messages.count(),
        ticket.attachments.count(),
        ticket.events.count(),
        list(ticket.watchers.values_list("pk", flat=True)),
        Satisfaction.objects.filter(ticket=ticket).exists(),
        claim.status,
        outage.ended_at,
        outage.description,
        InboundEmail.objects.get(pk=world["mail"].pk).outcome,
        world["contract"].terms.version,
    )


def kwargs_for(name: str, pattern: str, admin: bool, world, *, missing: bool) -> dict:
    """Fill a route's parameters with customer A's objects (or ones that do not exist)."""
    names = set(re.findall(r"<(?:\w+:)?(\w+)>", pattern)) | set(re.findall(r"\(\?P<(\w+)>", pattern))
    values = {}
    for key in names:
        if key == "format":
            values[key] = "json"
        elif admin:
            values[key] = {"app_label": "tickets", "object_id": "1", "content_type_id": "1", "url": "x"}.get(key, "1")
        elif key == "number":
            values[key] = "DST-2099-999999" if missing else world["ticket"].number
        elif key == "attachment_id":
            values[key] = 999999 if missing else world["image" if name == "attachment-preview" else "attachment"].pk
        elif key == "watcher_id":
            values[key] = 999999 if missing else world["watcher"].pk
        elif key == "token" and name == "satisfaction":
            # A's own link, for the owner and the intruder alike: it answers for whoever holds it.
            values[key] = satisfaction.token_for(world["ticket"])
        elif key == "score":
            values[key] = "good"
        elif key in ("ticket_id", "hub_id"):
            values[key] = 999999 if missing else world[key.removesuffix("_id")].pk
        elif key == "action":
            values[key] = "start"
        elif key in ("key", "uidb36", "provider_id"):  # allauth's links and the sign-on: nobody's object
            values[key] = {"key": "c0ffee", "uidb36": "1", "provider_id": "desk"}[key]
        elif key in ("uidb64", "token"):  # a password link: the same for everyone, and for nobody here
            values[key] = {"uidb64": "MQ", "token": "c0ffee-0123456789abcdef"}[key]
        elif key == "slug":  # a terms' public status page: the same for everyone
            values[key] = world["terms"].slug
        elif key == "slug_or_id":
            values[key] = "no-such-terms" if missing else world["terms"].slug
        elif key == "pk":
            owner = {
                "ticket": "ticket",
                "customer": "customer",
                "contract": "contract",
                "outage": "outage",
                "claim": "claim",
                "desk-inbox-raw": "mail",
                "sla-outage-end": "outage",
                "sla-outage-decide": "outage",
                "sla-outage-discard": "outage",
                "sla-outage-confirm": "outage",
                "sla-contract": "contract",
                "portal-availability": "contract",
                "desk-delete-view": "view",
                "sla-outage": "outage",
                "sla-outage-edit": "outage",
                "desk-customer": "customer",
                "sla-outage-post-update": "outage",
                "accounts-session-end": "session",
                "mfa_edit_webauthn": "key",
                "mfa_remove_webauthn": "key",
            }
            kind = owner.get(name) or owner.get(name.split("-")[0])
            assert kind, f"route {name!r} ({pattern}) has a pk the isolation matrix does not know: add it"
            values[key] = 999999 if missing else world[kind].pk
        else:
            raise AssertionError(f"route {name!r} ({pattern}) has a parameter {key!r}: add it to the matrix")
    return values


def path_of(pattern: str, values: dict) -> str:
    path = pattern.replace("<drf_format_suffix:format>", ".json")
    for key, value in values.items():
        path = re.sub(rf"\(\?P<{key}>[^)]*\)", str(value), path)
        path = re.sub(rf"<(?:\w+:)?{key}>", str(value), path)
    path = path.replace("^", "").replace("\\.", ".").replace("/?$", "").replace("$", "")
    return "/" + path


class Answer:
    """A response with its body read, streamed (file downloads) or not."""

    def __init__(self, response):
        self.status_code = response.status_code
        self.headers = response
        self.content = b"".join(response.streaming_content) if response.streaming else response.content

    def __getitem__(self, header):
        return self.headers[header]


def request(client, method: str, path: str) -> Answer:
    return Answer(getattr(client, method)(path, HTTP_ACCEPT_LANGUAGE="en"))


def denied(response, admin: bool) -> bool:
    if response.status_code in (401, 403, 404, 405):
        return True
    if response.status_code == 302:
        location = response["Location"]
        return location.startswith("/accounts/login/") or location.startswith("/admin/login/")
    return False


def test_every_route_is_classified():
    unknown = sorted({name for name, _pattern, admin in routes() if not admin and name not in ROUTES})
    assert unknown == [], f"classify these routes in tests/test_isolation.py ROUTES: {unknown}"


def test_customer_b_never_sees_or_changes_customer_a(client, world, django_user_model, customer_b):
    from tests.factories import CustomerUserFactory

    intruder = CustomerUserFactory(customer=customer_b, username="beta-user")
    client.force_login(intruder)
    before = snapshot(world)
    checked = 0
    with time_machine.travel(NOW + datetime.timedelta(minutes=5), tick=False):
        for name, pattern, admin in routes():
            if name in ("logout", "set_language") or (admin and name in ADMIN_PUBLIC):
                continue  # signing in or out, or switching language, is the intruder's own business
            own = path_of(pattern, kwargs_for(name, pattern, admin, world, missing=False))
            ghost = path_of(pattern, kwargs_for(name, pattern, admin, world, missing=True))
            for method in METHODS:
                response = request(client, method, own)
                body = response.content.decode(errors="replace")
                leaked = [secret for secret in SECRETS if secret in body]
                assert not leaked, f"{method.upper()} {own} showed customer A's {leaked}"
                assert response.status_code < 500, f"{method.upper()} {own}: {response.status_code}"
                if ROUTES.get(name) == "shared" and not admin:
                    if method != "get":
                        assert denied(response, admin), f"{method.upper()} {own} (staff writes): {response.status_code}"
                elif own != ghost:
                    # A's object answers exactly as one that does not exist: nothing to learn.
                    assert denied(response, admin), f"{method.upper()} {own}: {response.status_code}"
                    assert response.status_code == request(client, method, ghost).status_code, f"{method.upper()} {own}"
                elif ROUTES.get(name) == "staff" or admin:
                    assert denied(response, admin), f"{method.upper()} {own} (staff only): {response.status_code}"
                checked += 1
    assert snapshot(world) == before
    assert checked > 400


def test_customer_a_cannot_use_staff_routes_on_its_own_objects(client, world, customer_a_user):
    client.force_login(customer_a_user)
    before = snapshot(world)
    with time_machine.travel(NOW + datetime.timedelta(minutes=5), tick=False):
        for name, pattern, admin in routes():
            if (not admin and ROUTES.get(name) != "staff") or (admin and name in ADMIN_PUBLIC):
                continue
            path = path_of(pattern, kwargs_for(name, pattern, admin, world, missing=False))
            for method in METHODS:
                response = request(client, method, path)
                assert denied(response, admin), f"{method.upper()} {path}: {response.status_code}"
    assert snapshot(world) == before


def test_customer_a_uses_its_own_objects(client, world, customer_a_user):
    """The matrix is not vacuous: the owner reads every customer route that names an object."""
    client.force_login(customer_a_user)
    with time_machine.travel(NOW + datetime.timedelta(minutes=5), tick=False):
        readable = [name for name, _pattern, admin in routes() if not admin and name in OWNER_READS]
        assert sorted(set(readable)) == sorted(OWNER_READS)
        for name, pattern, admin in routes():
            if admin or name not in OWNER_READS or "format" in pattern:
                continue
            path = path_of(pattern, kwargs_for(name, pattern, admin, world, missing=False))
            response = request(client, "get", path + ("?month=2026-10" if "availability" in name else ""))
            assert response.status_code == 200, path
            body = response.content.decode(errors="replace")
            assert (
                any(secret in body for secret in SECRETS)
                or world["ticket"].number in body
                or name
                in (
                    "attachment",
                    "attachment-preview",
                    "portal-availability",
                    "contract-availability",
                    "contract-detail",
                    "ticket-messages",
                )
            ), path


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    before = snapshot(world)
    for name, pattern, admin in routes():
        if (ROUTES.get(name) == "public" and not admin) or (admin and name in ADMIN_PUBLIC):
            continue
        path = path_of(pattern, kwargs_for(name, pattern, admin, world, missing=False))
        for method in METHODS:
            response = request(client, method, path)
            body = response.content.decode(errors="replace")
            assert not [s for s in SECRETS if s in body], path
            if path.startswith("/api/"):
                assert response.status_code == 401, f"{method.upper()} {path}: {response.status_code}"
            elif name == "home" and method == "get":
                assert response.status_code == 302
            else:
                assert denied(response, admin) and response.status_code != 200, f"{method.upper()} {path}"
    assert snapshot(world) == before
