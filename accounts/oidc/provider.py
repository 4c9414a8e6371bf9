"""Single sign-on by OpenID Connect: django-allauth's provider, with a nonce.

The authorization code flow with PKCE (S256) and `state` are allauth's; the `nonce` sent with the
request is kept with the state and compared with the id_token's in the adapter's
`pre_social_login` (accounts.adapters), where the state is known."""

from __future__ import annotations

import secrets

from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider

from accounts.oidc.views import DeskOIDCAdapter


class DeskOIDCProvider(OpenIDConnectProvider):
    id = "oidc"
    name = "OpenID Connect"
    package = "accounts.oidc"
    oauth2_adapter_class = DeskOIDCAdapter

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        nonce = secrets.token_urlsafe(32)
        auth_params = kwargs.pop("auth_params", None)
        if auth_params is None:
            auth_params = self.get_auth_params()
        auth_params = {**auth_params, "nonce": nonce}
        return super().redirect(request, process, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs)
