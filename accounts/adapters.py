"""How django-allauth signs people in here.

Nobody signs up: staff create customers' users (core.signin) and administrators create staff.
Single sign-on matches an existing user by a verified e-mail address; it makes someone staff
only when OIDC_STAFF_GROUPS names a group of the id_token's `groups` claim, and a staff user
whose token names none of them is refused while the setting is in use. An id_token whose `amr`
says a second factor was used stands for the desk's own second factor."""

from __future__ import annotations

import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.account.forms import LoginForm
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.internal.datakit import parse_bool_safely
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.web import client_ip

# RFC 8176 values that say more than a password was used.
SECOND_FACTOR_AMR = frozenset({"mfa", "otp", "hwk", "swk"})
PROVIDER = "oidc"
PROVIDER_ID = "desk"


def lockout_username(request, credentials=None) -> str | None:
    """The user name django-axes counts failures of: what was authenticated with (a password's
    or a second factor's), else the sign-in form's field."""
    if credentials:
        return credentials.get("username")
    data = getattr(request, "data", request.POST)
    return data.get("login") or data.get("username")


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

    def get_client_ip(self, request) -> str:
        return client_ip(request) or ""

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """Changing a factor asks for the password (or a factor) again, unless the user signed in
        moments ago: the staff user sent from sign-in to add a factor is not asked twice."""
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        request = context.request
        if request is None:
            return True
        records = get_authentication_records(request, request.user)
        return not (records and time.time() - records[-1]["at"] < account_settings.REAUTHENTICATION_TIMEOUT)


class PasswordLoginForm(LoginForm):
    """The sign-in form; with OIDC_ONLY_FOR_STAFF a staff user's password is refused."""

    def clean(self):
        cleaned = super().clean()
        if settings.OIDC_ONLY_FOR_STAFF and self.user is not None and self.user.is_staff:
            self.user = None
            raise ValidationError(
                _("Staff sign in with %(label)s, not with a password.") % {"label": settings.OIDC_LABEL}
            )
        return cleaned


class MFAAdapter(DefaultMFAAdapter):
    def is_mfa_enabled(self, user, types=None) -> bool:
        # During a sign-on whose provider asked for a second factor, the desk asks for none.
        if getattr(context.request, "second_factor_by_provider", False):
            return False
        return super().is_mfa_enabled(user, types=types)


def _refuse(request, reason: str):
    return ImmediateHttpResponse(
        render(request, "socialaccount/authentication_error.html", {"reason": reason}, status=403)
    )


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None) -> list[SocialApp]:
        """The one provider, from the settings (OIDC_*), read when asked: no table."""
        if not settings.OIDC_ISSUER or provider not in (None, PROVIDER, PROVIDER_ID):
            return []
        if client_id is not None and client_id != settings.OIDC_CLIENT_ID:
            return []
        app = SocialApp(
            provider=PROVIDER,
            provider_id=PROVIDER_ID,
            name=settings.OIDC_LABEL,
            client_id=settings.OIDC_CLIENT_ID,
            secret=settings.OIDC_CLIENT_SECRET,
            settings={
                "server_url": settings.OIDC_ISSUER,
                "oauth_pkce_enabled": True,
                "fetch_userinfo": True,
                "scope": list(settings.OIDC_SCOPES),
            },
        )
        return [app]

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return getattr(request, "sso_new_staff", False)

    def is_auto_signup_allowed(self, request, sociallogin) -> bool:
        return True

    def pre_social_login(self, request, sociallogin) -> None:
        claims = sociallogin.account.extra_data.get("id_token") or {}
        userinfo = sociallogin.account.extra_data.get("userinfo") or {}
        sent_nonce = (sociallogin.state or {}).get("nonce")
        if not claims or not sent_nonce or claims.get("nonce") != sent_nonce:
            raise _refuse(request, _("The sign-on's answer does not belong to this sign-in. Please start again."))
        email = claims.get("email") or userinfo.get("email") or ""
        verified = parse_bool_safely(claims.get("email_verified", userinfo.get("email_verified")))
        groups = claims.get("groups") or userinfo.get("groups") or []
        if isinstance(groups, str):
            groups = [groups]
        in_staff_group = bool(set(groups) & set(settings.OIDC_STAFF_GROUPS))

        user = sociallogin.user if sociallogin.is_existing else None
        if user is None:
            if not (email and verified):
                raise _refuse(request, _("The sign-on gave no verified e-mail address, so no user here can be found."))
            matches = list(get_user_model().objects.filter(email__iexact=email)[:2])
            if len(matches) > 1:
                raise _refuse(
                    request,
                    _("More than one user here has the address %(email)s: ask an administrator.") % {"email": email},
                )
            user = matches[0] if matches else None
        if user is None:
            if not in_staff_group:
                raise _refuse(
                    request, _("No user here has the address %(email)s: ask an administrator.") % {"email": email}
                )
            request.sso_new_staff = True
        else:
            if not user.is_active:
                raise _refuse(request, _("This user may no longer sign in."))
            if user.is_staff and settings.OIDC_STAFF_GROUPS and not in_staff_group:
                raise _refuse(
                    request, _("Your sign-on account is in none of the desk's staff groups: ask an administrator.")
                )
            if in_staff_group and not user.is_staff:
                user.is_staff = True
                user.save(update_fields=["is_staff"])
            if not sociallogin.is_existing:
                sociallogin.connect(request, user)

        amr = claims.get("amr") or []
        request.second_factor_by_provider = bool(set(amr) & SECOND_FACTOR_AMR)
        request.audit_sign_in_action = "sso_signed_in"
        request.audit_sign_in_detail = {"issuer": claims.get("iss", ""), "amr": list(amr)}

    def save_user(self, request, sociallogin, form=None):
        user = sociallogin.user
        user.is_staff = True
        return super().save_user(request, sociallogin, form)
