"""The account pages of our own, before django-allauth's under accounts/."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="account_login"),
    path("accounts/2fa/authenticate/", views.authenticate, name="mfa_authenticate"),
    path("accounts/second-factor/", views.second_factor_required, name="accounts-second-factor-required"),
    path("accounts/sessions/<int:pk>/end/", views.session_end, name="accounts-session-end"),
    path("accounts/token/", views.token, name="accounts-token"),
    path("accounts/token/new/", views.token_create, name="accounts-token-create"),
    path("accounts/token/revoke/", views.token_revoke, name="accounts-token-revoke"),
]
