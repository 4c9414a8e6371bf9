"""The sign-on's two addresses: off to the provider, and back with a code.

The id_token is always checked against the provider's JWKS (allauth skips the signature when the
token came straight from the token endpoint, which the specification allows; we check it anyway),
with issuer, audience and expiry; the issuer the discovery document names must be the one
configured. The redirect URI is SITE_URL's."""

from __future__ import annotations

from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.conf import settings
from django.http import Http404, HttpRequest
from django.urls import reverse


class DeskOIDCAdapter(OpenIDConnectOAuth2Adapter):
    def _decode_id_token(self, app: SocialApp, id_token: str) -> dict:
        issuer = self.openid_config["issuer"]
        if issuer.rstrip("/") != settings.OIDC_ISSUER:
            raise OAuth2Error(f"the provider names its issuer {issuer!r}, not {settings.OIDC_ISSUER!r}")
        return jwtkit.verify_and_decode(
            credential=id_token,
            keys_url=self.openid_config["jwks_uri"],
            issuer=issuer,
            audience=app.client_id,
            lookup_kid=jwtkit.lookup_kid_jwk,
            verify_signature=True,
        )

    def get_callback_url(self, request: HttpRequest, app) -> str:
        # The address registered at the provider: from SITE_URL, never from the Host header.
        return settings.SITE_URL.rstrip("/") + reverse("oidc_callback", kwargs={"provider_id": self.provider_id})


@login_not_required
def login(request: HttpRequest, provider_id: str):
    try:
        return OAuth2LoginView.adapter_view(DeskOIDCAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None


@login_not_required
def callback(request: HttpRequest, provider_id: str):
    try:
        return OAuth2CallbackView.adapter_view(DeskOIDCAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None
