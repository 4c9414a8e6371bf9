"""STAFF_MFA_REQUIRED: a staff user signed in without a second factor reaches no staff page.

Without a factor they are taken to add one; with one (a session from before it was added, say)
they are asked for it. What they need for that stays open: the sign-in and account pages, the
language switch, static files and the health check. The API's tokens are not sessions and are
not affected; a staff session's call to the API is refused until the factor is given."""

from __future__ import annotations

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

SSO_SECOND_FACTOR = "accounts.second_factor_by_provider"
OPEN_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/healthz")
# Under accounts/, but a staff page all the same: a token made here would sign in without the factor.
GUARDED_PREFIXES = ("/accounts/token/",)


def second_factor_given(request: HttpRequest) -> bool:
    """This session's sign-in used a second factor: the desk's, or the provider's (`amr`)."""
    if request.session.get(SSO_SECOND_FACTOR):
        return True
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, request.user))  # type: ignore[arg-type]


class StaffSecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.STAFF_MFA_REQUIRED
            and (not request.path.startswith(OPEN_PREFIXES) or request.path.startswith(GUARDED_PREFIXES))
            and request.user.is_authenticated
            and request.user.is_staff
            and not second_factor_given(request)
        ):
            return self.refuse(request)
        return self.get_response(request)

    def refuse(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(("/api/", "/tmf-api/")):
            return JsonResponse(
                {"detail": _("Staff give a second factor at sign-in before using the API with a session.")},
                status=403,
            )
        has_factor = Authenticator.objects.filter(
            user_id=request.user.pk or 0, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
        ).exists()
        target = "mfa_reauthenticate" if has_factor else "accounts-second-factor-required"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
