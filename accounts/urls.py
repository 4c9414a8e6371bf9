"""The account pages of our own, before django-allauth's under accounts/; and allauth's pages
that this desk does not offer, answered 404 before allauth's patterns are reached (their names
stay, for allauth's own links): nobody signs up, users do not change their e-mail address here
(staff keep it), passwords are chosen and reset through the pages in config.accounts, and the
one sign-on provider is not connected by hand."""

from django.http import Http404
from django.urls import path, re_path

from accounts import views


def not_offered(request, *args, **kwargs):
    raise Http404


NOT_OFFERED = [
    r"^accounts/signup/",
    r"^accounts/email/",
    r"^accounts/confirm-email/",
    r"^accounts/inactive/",
    r"^accounts/password/set/",
    r"^accounts/password/reset/key/",
    r"^accounts/password/reset/confirm/",
    r"^accounts/password/reset/complete/",
    r"^accounts/login/code/",
    r"^accounts/reauthenticate/code/",
    r"^accounts/phone/",
    r"^accounts/3rdparty/$",
    r"^accounts/3rdparty/signup/",
    r"^accounts/social/",
]

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="account_login"),
    path("accounts/2fa/authenticate/", views.authenticate, name="mfa_authenticate"),
    path("accounts/second-factor/", views.second_factor_required, name="accounts-second-factor-required"),
    path("accounts/sessions/<int:pk>/end/", views.session_end, name="accounts-session-end"),
    path("accounts/token/", views.token, name="accounts-token"),
    path("accounts/token/new/", views.token_create, name="accounts-token-create"),
    path("accounts/token/revoke/", views.token_revoke, name="accounts-token-revoke"),
    *(re_path(pattern, not_offered, name="not-offered") for pattern in NOT_OFFERED),
]
