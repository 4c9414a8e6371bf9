"""Single sign-on in a real Chromium against a real OpenID provider (oidc-provider, on loopback):
a staff member of the operator's directory signs in to the desk through it."""

import pytest
from django.contrib.auth import get_user_model

from audit.models import AuditEvent
from tests.oidc_server import Account
from tests.test_browser import CHROMIUM, browser, plain_http_cookies  # noqa: F401 - fixtures, found by their names

pytestmark = pytest.mark.django_db(transaction=True)

LABEL = "Operator sign-in"


@pytest.fixture
def sign_on(settings, live_server, oidc_provider_for):
    def start(*accounts):
        provider = oidc_provider_for(live_server.url + "/accounts/oidc/desk/login/callback/", accounts=list(accounts))
        settings.SITE_URL = live_server.url
        settings.OIDC_ISSUER = provider.issuer
        settings.OIDC_CLIENT_ID = provider.client_id
        settings.OIDC_CLIENT_SECRET = provider.client_secret
        settings.OIDC_LABEL = LABEL
        settings.OIDC_SCOPES = ["openid", "email", "profile", "groups"]
        settings.OIDC_STAFF_GROUPS = ["desk-staff"]
        settings.STAFF_MFA_REQUIRED = True
        return provider

    return start


def sign_in_through_the_provider(browser, live_server, login: str, password: str):  # noqa: F811
    context = browser.new_context(locale="en-GB")
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(f"{live_server.url}/desk/")
    page.get_by_role("button", name=LABEL).click()
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: url.startswith(live_server.url) and "/accounts/oidc/" not in url)
    return page


def test_a_staff_member_whose_provider_asked_for_a_second_factor_goes_straight_to_the_desk(
    browser,  # noqa: F811
    live_server,
    sign_on,
):
    sign_on(
        Account("mika", "mika-pass-9", "mika@operator.example", name="Mika", groups=["desk-staff"], amr=["pwd", "mfa"])
    )
    page = sign_in_through_the_provider(browser, live_server, "mika", "mika-pass-9")
    assert page.url == f"{live_server.url}/desk/"
    assert page.get_by_role("link", name="Queue").is_visible()
    mika = get_user_model().objects.get(email="mika@operator.example")
    assert mika.is_staff  # a member of the staff group, new here
    (signed_in,) = AuditEvent.objects.filter(action="sso_signed_in", actor=mika)
    assert signed_in.detail["amr"] == ["pwd", "mfa"]


def test_a_sign_on_without_a_second_factor_is_asked_for_the_desks_own(browser, live_server, sign_on):  # noqa: F811
    get_user_model().objects.create_user(
        "linnea", email="Linnea@Operator.example", password="x-unused-42", is_staff=True
    )
    sign_on(Account("linnea", "linnea-pass-7", "linnea@operator.example", groups=["desk-staff"]))
    page = sign_in_through_the_provider(browser, live_server, "linnea", "linnea-pass-7")
    assert page.url.startswith(f"{live_server.url}/accounts/second-factor/?next=")
    assert page.get_by_role("heading", name="Add a second factor").is_visible()
    # The sign-on found the existing user by the verified address: no second user was made.
    assert get_user_model().objects.filter(email__iexact="linnea@operator.example").count() == 1
