"""A passkey in a real Chromium, with its virtual authenticator (the DevTools protocol's WebAuthn
domain): a staff member adds one, signs out, and signs in again with it as the second factor."""

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model

from tests.test_browser import CHROMIUM, browser, plain_http_cookies  # noqa: F401 - fixtures, found by their names

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Staff-Secret-4711"


def test_a_passkey_is_added_and_then_signs_in(browser, live_server, settings):  # noqa: F811
    settings.STAFF_MFA_REQUIRED = True
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True  # the live server speaks plain HTTP on localhost
    staff = get_user_model().objects.create_user(
        "linnea", email="linnea@operator.example", password=PASSWORD, is_staff=True
    )
    context = browser.new_context(locale="en-GB")
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    context.set_default_timeout(15000)
    page = context.new_page()
    devtools = context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    authenticator = devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )["authenticatorId"]

    page.goto(f"{live_server.url}/desk/")
    page.fill("#id_login", "linnea")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/second-factor/**")
    page.get_by_role("link", name="Use a passkey or security key").click()
    page.fill("input[name=name]", "Laptop")
    page.get_by_role("button", name="Add").click()
    page.wait_for_url(lambda url: "/accounts/2fa/webauthn/add/" not in url)
    assert Authenticator.objects.filter(user=staff, type="webauthn").count() == 1
    assert len(devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]) == 1
    page.goto(f"{live_server.url}/desk/")
    assert page.url == f"{live_server.url}/desk/"  # the passkey just made counts for this session

    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{live_server.url}/desk/")
    page.fill("#id_login", "linnea")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.get_by_role("button", name="Use a security key").click()
    page.wait_for_url(f"{live_server.url}/desk/")
    assert page.get_by_role("link", name="Queue").is_visible()
