"""The account pages of our own: the second code under the sign-in lockout, the page that asks a
staff user for a second factor, and a staff user's API token."""

from __future__ import annotations

from allauth.account.internal import stagekit
from allauth.account.views import LoginView as AllauthLoginView
from allauth.mfa.base import views as mfa_views
from allauth.usersessions.models import UserSession
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rest_framework.authtoken.models import Token

from audit.models import Action
from audit.services import record


class LoginView(AllauthLoginView):
    """The one sign-in page: a password, and the single sign-on button when one is configured."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["oidc_label"] = settings.OIDC_LABEL if settings.OIDC_ISSUER else ""
        return context


def authenticate(request: HttpRequest) -> HttpResponseBase:
    """allauth's second step of the sign-in, refused while the user name and address are locked
    out: wrong codes count as wrong passwords, so five of them end the attempt."""
    pending = stagekit.unstash_login(request, peek=True)
    username = pending.user.get_username() if pending is not None and pending.user is not None else None
    if username is not None and (locked := _locked_out(request, username)) is not None:
        return locked
    response = mfa_views.authenticate(request)
    if username is not None and request.method == "POST" and (locked := _locked_out(request, username)) is not None:
        return locked
    return response


def _locked_out(request: HttpRequest, username: str) -> HttpResponse | None:
    """The lockout answer, the pending sign-in ended, when the pair is locked; else None."""
    credentials = {"username": username}
    if not AxesProxyHandler.is_locked(request, credentials):
        return None
    stagekit.clear_login(request)
    return get_lockout_response(request, credentials=credentials)


@login_required
def second_factor_required(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/second_factor_required.html")


@login_required
def token(request: HttpRequest) -> HttpResponse:
    """A staff user's API token: when it was made and last used; make a new one, or revoke it."""
    if not request.user.is_staff:
        raise Http404
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    found = Token.objects.filter(user=request.user).select_related("use").first()
    return render(
        request, "accounts/token.html", {"token": found, "new_key": request.session.pop("accounts.new_token", "")}
    )


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise Http404
    Token.objects.filter(user=request.user).delete()
    made = Token.objects.create(user=request.user)
    # Shown once, on the page the browser is sent to; never again.
    request.session["accounts.new_token"] = made.key
    messages.success(request, _("A new token was made. Copy it now: it is not shown again."))
    return redirect("accounts-token")


@login_required
@require_POST
def token_revoke(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise Http404
    deleted, _ignored = Token.objects.filter(user=request.user).delete()
    if deleted:
        messages.success(request, _("The token was revoked: integrations using it are refused from now on."))
    return redirect("accounts-token")


@login_required
@require_POST
def session_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End one of the user's own sessions (another user's: 404)."""
    session = get_object_or_404(UserSession, pk=pk, user_id=request.user.pk)
    if session.session_key == request.session.session_key:
        return redirect("account_logout")
    session.end()
    record(Action.SESSION_ENDED, request=request, subject_user=request.user, detail={"ip": session.ip or ""})
    messages.success(request, _("The session was ended."))
    return redirect("usersessions_list")
