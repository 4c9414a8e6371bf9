"""The OpenID provider the sign-on tests run against is the real thing: it publishes its
endpoints, requires PKCE with S256, signs id_tokens with a key from its JWKS that carry the
account's e-mail, groups, authentication methods and the client's nonce, and refuses a wrong
password."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import pytest
import requests

from tests import oidc_server
from tests.oidc_server import Account

CALLBACK = "http://127.0.0.1:9/accounts/oidc/desk/login/callback/"
ADA = Account(
    id="ada",
    password="ada-provider-pass",
    email="ada@operator.example",
    name="Ada Lovelace",
    groups=["noc", "desk-staff"],
    amr=["pwd", "mfa"],
)
BOB = Account(id="bob", password="bob-provider-pass", email="bob@operator.example", name="Bob")


@pytest.fixture(scope="module")
def provider():
    # One provider for the module: each test signs in with a session (cookie jar) of its own.
    oidc_server.require()
    with oidc_server.running(redirect_uris=[CALLBACK], accounts=[ADA, BOB]) as started:
        yield started


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def follow(session: requests.Session, response: requests.Response) -> requests.Response:
    """Follow the provider's own redirects, stopping at the one back to the client."""
    while response.is_redirect and not response.headers["Location"].startswith(CALLBACK):
        response = session.get(urljoin(response.url, response.headers["Location"]), allow_redirects=False)
    return response


def begin(session, discovery, provider, *, state, nonce, challenge) -> requests.Response:
    """Ask to sign in as the desk does; the provider answers with its login form."""
    response = session.get(
        discovery["authorization_endpoint"],
        params={
            "client_id": provider.client_id,
            "response_type": "code",
            "scope": "openid email profile groups",
            "redirect_uri": CALLBACK,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
    )
    return follow(session, response)


def sign_in(session, form_page, login, password) -> requests.Response:
    response = session.post(form_page.url, data={"login": login, "password": password}, allow_redirects=False)
    return follow(session, response)


def test_discovery_document_names_the_endpoints_and_s256(provider):
    discovery = provider.discovery()

    assert discovery["issuer"] == provider.issuer
    for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"):
        assert discovery[endpoint].startswith(provider.issuer + "/")
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert {"openid", "email", "profile", "groups"} <= set(discovery["scopes_supported"])
    assert discovery["id_token_signing_alg_values_supported"] == ["RS256"]
    assert requests.get(discovery["jwks_uri"], timeout=5).json()["keys"][0]["kty"] == "RSA"


def test_code_flow_with_pkce_gives_a_signed_id_token_with_the_accounts_claims(provider):
    discovery = provider.discovery()
    session = requests.Session()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    verifier, challenge = pkce_pair()

    form = begin(session, discovery, provider, state=state, nonce=nonce, challenge=challenge)
    assert form.status_code == 200
    assert 'name="login"' in form.text and 'name="password"' in form.text and "Sign in</button>" in form.text

    back = sign_in(session, form, ADA.id, ADA.password)
    assert back.status_code in (302, 303)
    query = parse_qs(urlsplit(back.headers["Location"]).query)
    assert query["state"] == [state]
    assert query["iss"] == [provider.issuer]

    token = requests.post(
        discovery["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
            "client_id": provider.client_id,
            "client_secret": provider.client_secret,
        },
        timeout=5,
    )
    assert token.status_code == 200, token.text

    signing_key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(token.json()["id_token"])
    claims = jwt.decode(
        token.json()["id_token"],
        signing_key.key,
        algorithms=["RS256"],
        audience=provider.client_id,
        issuer=provider.issuer,
        options={"require": ["exp", "iat", "sub", "nonce"]},
    )
    assert claims["sub"] == ADA.id
    assert claims["nonce"] == nonce
    assert claims["email"] == ADA.email and claims["email_verified"] is True
    assert claims["name"] == ADA.name
    assert claims["groups"] == ["noc", "desk-staff"]
    assert claims["amr"] == ["pwd", "mfa"]


def test_code_is_refused_without_its_verifier_and_accepted_with_basic_auth(provider):
    discovery = provider.discovery()
    session = requests.Session()
    verifier, challenge = pkce_pair()
    form = begin(session, discovery, provider, state="s", nonce="n", challenge=challenge)
    code = parse_qs(urlsplit(sign_in(session, form, BOB.id, BOB.password).headers["Location"]).query)["code"][0]
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    basic = (provider.client_id, provider.client_secret)

    refused = requests.post(discovery["token_endpoint"], data=exchange, auth=basic, timeout=5)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"

    # Signed in at the provider already, Bob comes straight back with a new code.
    verifier, challenge = pkce_pair()
    form = begin(session, discovery, provider, state="s", nonce="n", challenge=challenge)
    assert form.status_code in (302, 303)
    code = parse_qs(urlsplit(form.headers["Location"]).query)["code"][0]
    exchange |= {"code": code, "code_verifier": verifier}
    accepted = requests.post(discovery["token_endpoint"], data=exchange, auth=basic, timeout=5)
    assert accepted.status_code == 200, accepted.text
    claims = jwt.decode(accepted.json()["id_token"], options={"verify_signature": False})
    assert "amr" not in claims and claims["groups"] == []


@pytest.mark.parametrize(
    "pkce", [{}, {"code_challenge": "x" * 43, "code_challenge_method": "plain"}], ids=["without", "plain"]
)
def test_authorization_without_s256_pkce_is_refused(provider, pkce):
    params = {"client_id": provider.client_id, "response_type": "code", "scope": "openid", "redirect_uri": CALLBACK}
    response = requests.get(
        provider.discovery()["authorization_endpoint"], params=params | pkce, allow_redirects=False, timeout=5
    )

    assert response.is_redirect
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["invalid_request"]
    assert "code" not in query


def test_wrong_password_shows_the_form_again_and_gives_no_code(provider):
    discovery = provider.discovery()
    session = requests.Session()
    _verifier, challenge = pkce_pair()
    form = begin(session, discovery, provider, state="s", nonce="n", challenge=challenge)

    again = sign_in(session, form, ADA.id, "not-the-password")

    assert again.status_code == 200
    assert "Wrong login or password." in again.text and 'name="password"' in again.text
    assert sign_in(session, form, "nobody", ADA.password).status_code == 200
    back = sign_in(session, form, ADA.id, ADA.password)
    assert "code" in parse_qs(urlsplit(back.headers["Location"]).query)


def test_a_code_goes_only_to_the_redirect_uri_registered_for_the_test(oidc_provider_for):
    elsewhere = "http://127.0.0.1:9/elsewhere/callback/"
    started = oidc_provider_for(elsewhere, accounts=[ADA])
    authorize = started.discovery()["authorization_endpoint"]
    params = {"client_id": started.client_id, "response_type": "code", "scope": "openid"}
    params |= {"code_challenge": pkce_pair()[1], "code_challenge_method": "S256"}

    refused = requests.get(authorize, params=params | {"redirect_uri": CALLBACK}, allow_redirects=False, timeout=5)
    asked = requests.get(authorize, params=params | {"redirect_uri": elsewhere}, timeout=5)

    assert refused.status_code == 400 and "redirect_uri did not match" in refused.text
    assert asked.status_code == 200 and 'name="password"' in asked.text
