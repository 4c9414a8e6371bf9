"""Signing in as an operator's security officer would want it: one sign-in page, a second factor
that staff cannot skip, wrong codes under the same lockout as wrong passwords, no code taken twice,
sessions a user sees and ends, and API tokens staff see and revoke."""

import base64
import datetime
import hashlib
import hmac
import re
import struct
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.test import Client
from rest_framework.authtoken.models import Token

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "Staff-Secret-4711"
NOON = datetime.datetime(2026, 12, 7, 11, 0, 5, tzinfo=datetime.UTC)


def totp(secret: str, at: datetime.datetime, step: int = 30) -> str:
    """RFC 6238 with SHA-1 and six digits, written out from the RFC (section 4 and RFC 4226 5.3)."""
    counter = int(at.timestamp()) // step
    digest = hmac.new(base64.b32decode(secret, casefold=True), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def test_the_reference_totp_matches_rfc_6238_appendix_b():
    # RFC 6238, Appendix B: the SHA-1 seed "12345678901234567890", 8 digits there, so compare the last six.
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp(secret, datetime.datetime.fromtimestamp(59, datetime.UTC)) == "287082"  # 94287082
    assert totp(secret, datetime.datetime.fromtimestamp(1111111109, datetime.UTC)) == "081804"  # 07081804


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        "linnea", email="linnea@operator.example", password=PASSWORD, is_staff=True
    )


@pytest.fixture
def required(settings):
    settings.STAFF_MFA_REQUIRED = True


def english() -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    return client


def password_sign_in(client: Client, username: str, password: str = PASSWORD, next_url: str = "/desk/"):
    return client.post("/accounts/login/", {"login": username, "password": password, "next": next_url})


def enrol_totp(client: Client) -> str:
    """Add an authenticator app from the enrolment page as a user would: read the secret, type a code."""
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    html = page.content.decode()
    uri = re.search(r"otpauth://totp/[^\"'<\s]+", html)[0].replace("&amp;", "&")
    secret = parse_qs(urlsplit(uri).query)["secret"][0]
    assert secret in html  # the secret shown as text too, for an app without a camera
    assert "data:image/svg+xml;base64," in html  # and as a QR code
    done = client.post("/accounts/2fa/totp/activate/", {"code": totp(secret, NOON)})
    assert done.status_code == 302, done.content.decode()[:2000]
    return secret


def test_desk_and_admin_signed_out_lead_to_the_products_own_sign_in(client):
    for path in ("/desk/", "/admin/"):
        answer = client.get(path, follow=True)
        assert answer.redirect_chain[-1][0].startswith("/accounts/login/?next=")
        assert 'name="login"' in answer.content.decode()


def test_a_customer_signs_in_with_a_password_alone(client, customer_a_user, required):
    customer_a_user.set_password(PASSWORD)
    customer_a_user.save()
    answer = password_sign_in(client, customer_a_user.username, next_url="/portal/")
    assert answer.status_code == 302 and answer["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200


@pytest.mark.django_db(transaction=True)
@time_machine.travel(NOON, tick=False)
def test_staff_must_add_a_second_factor_before_any_staff_page_and_give_it_at_every_sign_in(staff, required):
    client = english()
    assert password_sign_in(client, "linnea").status_code == 302
    for path in ("/desk/", "/admin/", "/desk/sla/", "/accounts/token/"):
        answer = client.get(path)
        assert answer.status_code == 302 and answer["Location"].startswith("/accounts/second-factor/?next=")
    assert client.post("/accounts/token/new/").status_code == 302 and not Token.objects.filter(user=staff).exists()
    refused = client.get("/api/tickets/")
    assert refused.status_code == 403 and "second factor" in refused.json()["detail"]
    page = client.get("/accounts/second-factor/?next=/desk/").content.decode()
    assert "/accounts/2fa/totp/activate/" in page and "/accounts/2fa/webauthn/add/" in page

    secret = enrol_totp(client)
    assert Authenticator.objects.filter(user=staff, type="recovery_codes").exists()  # ten, made with the first factor
    added = AuditEvent.objects.filter(action="second_factor_added", subject_user=staff).order_by("id")
    assert [event.what for event in added] == ["totp", "recovery_codes"] and added[0].actor == staff
    assert client.get("/desk/").status_code == 200  # the code just typed counts for this session

    # The next sign-in asks for the code after the password.
    later = english()
    with time_machine.travel(NOON + datetime.timedelta(minutes=5), tick=False):
        asked = password_sign_in(later, "linnea")
        assert asked["Location"] == "/accounts/2fa/authenticate/"
        assert "login" in later.get("/desk/")["Location"]  # not signed in yet
        given = later.post("/accounts/2fa/authenticate/", {"code": totp(secret, NOON + datetime.timedelta(minutes=5))})
        assert given.status_code == 302 and given["Location"] == "/desk/"
        assert later.get("/desk/").status_code == 200


@time_machine.travel(NOON, tick=False)
def test_a_code_is_never_accepted_twice(staff, required):
    client = english()
    password_sign_in(client, "linnea")
    secret = enrol_totp(client)
    at = NOON + datetime.timedelta(minutes=2)
    with time_machine.travel(at, tick=False):
        first = english()
        password_sign_in(first, "linnea")
        assert first.post("/accounts/2fa/authenticate/", {"code": totp(secret, at)})["Location"] == "/desk/"
        second = english()
        password_sign_in(second, "linnea")
        again = second.post("/accounts/2fa/authenticate/", {"code": totp(secret, at)})
        assert again.status_code == 200 and "Incorrect code" in again.content.decode()
        assert "login" in second.get("/desk/")["Location"]


@time_machine.travel(NOON, tick=False)
def test_wrong_codes_count_towards_the_sign_in_lockout(staff, required, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = english()
    password_sign_in(client, "linnea")
    secret = enrol_totp(client)
    at = NOON + datetime.timedelta(minutes=3)
    with time_machine.travel(at, tick=False):
        guesser = english()
        password_sign_in(guesser, "linnea")
        wrong = "000000" if totp(secret, at) != "000000" else "111111"
        assert guesser.post("/accounts/2fa/authenticate/", {"code": wrong}).status_code == 200
        assert guesser.post("/accounts/2fa/authenticate/", {"code": wrong}).status_code == 200
        locked = guesser.post("/accounts/2fa/authenticate/", {"code": wrong})
        assert locked.status_code == 429
        failed = AuditEvent.objects.filter(action="sign_in_failed", actor_name="linnea")
        assert failed.count() == 3 and all(event.detail == {"second_factor": True} for event in failed)
        # The attempt is over; the right code no longer signs in, nor does the right password.
        assert guesser.post("/accounts/2fa/authenticate/", {"code": totp(secret, at)})["Location"].startswith(
            "/accounts/login/"
        )
        assert password_sign_in(guesser, "linnea").status_code == 429


@time_machine.travel(NOON, tick=False)
def test_a_recovery_code_signs_in_once(staff, required):
    client = english()
    password_sign_in(client, "linnea")
    enrol_totp(client)
    codes = Authenticator.objects.get(user=staff, type="recovery_codes").wrap().get_unused_codes()
    assert len(codes) == 10
    first = english()
    password_sign_in(first, "linnea")
    assert first.post("/accounts/2fa/authenticate/", {"code": codes[0]})["Location"] == "/desk/"
    second = english()
    password_sign_in(second, "linnea")
    assert second.post("/accounts/2fa/authenticate/", {"code": codes[0]}).status_code == 200


@pytest.mark.django_db(transaction=True)
@time_machine.travel(NOON, tick=False)
def test_factors_are_listed_and_removed_and_a_change_ends_the_other_sessions(staff, required):
    other = english()
    password_sign_in(other, "linnea")
    client = english()
    password_sign_in(client, "linnea")
    assert UserSession.objects.filter(user=staff).count() == 2
    enrol_totp(client)
    # Adding a factor ended the session on the other device; this one goes on.
    assert "login" in other.get("/desk/")["Location"]
    assert UserSession.objects.filter(user=staff).count() == 1
    index = client.get("/accounts/2fa/").content.decode()
    assert "Authenticator App" in index and "Recovery Codes" in index
    removed = client.post("/accounts/2fa/totp/deactivate/")
    assert removed.status_code == 302
    assert not Authenticator.objects.filter(user=staff, type="totp").exists()


def test_a_user_sees_their_sessions_and_ends_one(client, customer_a_user):
    customer_a_user.set_password(PASSWORD)
    customer_a_user.save()
    phone = english()
    password_sign_in(phone, customer_a_user.username, next_url="/portal/")
    password_sign_in(client, customer_a_user.username, next_url="/portal/")
    page = client.get("/accounts/sessions/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.count("<tr") == 3  # a header and the two sessions
    assert "This session" in page
    other = UserSession.objects.get(user=customer_a_user, session_key=phone.session.session_key)
    ended = client.post(f"/accounts/sessions/{other.pk}/end/")
    assert ended.status_code == 302
    assert phone.get("/portal/")["Location"].startswith("/accounts/login/")
    assert client.get("/portal/").status_code == 200
    assert AuditEvent.objects.filter(action="session_ended", subject_user=customer_a_user).count() == 1


def test_a_new_password_ends_the_other_sessions(client, customer_a_user):
    customer_a_user.set_password(PASSWORD)
    customer_a_user.save()
    phone = english()
    password_sign_in(phone, customer_a_user.username, next_url="/portal/")
    password_sign_in(client, customer_a_user.username, next_url="/portal/")
    changed = client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": "Another-Secret-8812", "new_password2": "Another-Secret-8812"},
    )
    assert changed.status_code == 302
    assert phone.get("/portal/")["Location"].startswith("/accounts/login/")
    assert client.get("/portal/").status_code == 200
    assert UserSession.objects.filter(user=customer_a_user).count() == 1


def test_signing_out_ends_the_session(client, customer_a_user):
    customer_a_user.set_password(PASSWORD)
    customer_a_user.save()
    password_sign_in(client, customer_a_user.username, next_url="/portal/")
    key = client.session.session_key
    assert client.post("/accounts/logout/").status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get("/portal/")["Location"].startswith("/accounts/login/")


def test_staff_see_their_token_with_its_last_use_and_revoke_it(client, staff):
    client.force_login(staff)
    made = client.post("/accounts/token/new/", follow=True, HTTP_ACCEPT_LANGUAGE="en")
    key = Token.objects.get(user=staff).key
    assert key in made.content.decode()
    assert key not in client.get("/accounts/token/").content.decode()  # shown once
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    with time_machine.travel(NOON, tick=False):
        assert api.get("/api/tickets/").status_code == 200
    page = client.get("/accounts/token/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "2026-12-07" in page and "never" not in page
    client.post("/accounts/token/revoke/")
    assert api.get("/api/tickets/").status_code == 401


def test_a_customer_has_no_token_page(client, customer_a_user):
    client.force_login(customer_a_user)
    assert client.get("/accounts/token/").status_code == 404
    assert client.post("/accounts/token/new/").status_code == 404
    assert not Token.objects.filter(user=customer_a_user).exists()


def test_with_sign_on_only_staff_passwords_are_refused(client, staff, customer_a_user, settings):
    settings.OIDC_ISSUER = "https://login.operator.example"
    settings.OIDC_CLIENT_ID, settings.OIDC_CLIENT_SECRET = "desk", "secret"
    settings.OIDC_LABEL = "Operator sign-in"
    settings.OIDC_ONLY_FOR_STAFF = True
    client = english()
    page = client.get("/accounts/login/").content.decode()
    assert "Operator sign-in" in page and 'action="/accounts/oidc/desk/login/"' in page
    refused = password_sign_in(client, "linnea")
    assert refused.status_code == 200 and "not with a password" in refused.content.decode()
    customer_a_user.set_password(PASSWORD)
    customer_a_user.save()
    assert password_sign_in(client, customer_a_user.username, next_url="/portal/").status_code == 302


def test_an_administrator_resets_a_lost_factor(admin_client, staff):
    Authenticator.objects.create(user=staff, type="totp", data={"secret": "x"})
    phone = english()
    password_sign_in(phone, "linnea")
    answer = admin_client.post(
        "/admin/auth/user/", {"action": "reset_factors", "_selected_action": [staff.pk]}, follow=True
    )
    assert answer.status_code == 200
    assert not Authenticator.objects.filter(user=staff).exists()
    assert not UserSession.objects.filter(user=staff).exists()
    (reset,) = AuditEvent.objects.filter(action="second_factor_reset")
    assert reset.subject_user == staff and reset.actor.is_superuser and reset.what == "totp"


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/signup/",
        "/accounts/email/",
        "/accounts/3rdparty/",
        "/accounts/password/set/",
        "/accounts/login/code/",
    ],
)
def test_what_the_desk_does_not_offer_is_not_there(client, customer_a_user, path):
    # Nobody signs up, and an address is changed by staff, not by its owner.
    client.force_login(customer_a_user)
    assert client.get(path).status_code == 404
