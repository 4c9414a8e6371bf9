"""Passwords: forgotten (a link by e-mail) and changed when signed in; a user staff created
chooses theirs through the same link (core.signin). Django's own views with our templates;
links in the e-mails follow SITE_URL, never the Host header of the request."""

from __future__ import annotations

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.urls import path

from accounts.services import end_sessions


class ResetForm(PasswordResetForm):
    """Every active user with the address, those who never chose a password too (a user staff
    created whose first link ran out): all our users sign in here."""

    def get_users(self, email):
        User = get_user_model()
        return User.objects.filter(**{f"{User.get_email_field_name()}__iexact": email, "is_active": True})


class ResetView(auth_views.PasswordResetView):
    form_class = ResetForm
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)


class ChangeView(auth_views.PasswordChangeView):
    """A new password ends the user's other sessions; this one stays signed in."""

    def form_valid(self, form):
        before = self.request.session.session_key
        response = super().form_valid(form)  # the session goes on under a new key
        end_sessions(self.request.user, keep=before)
        UserSession.objects.filter(session_key=before).update(session_key=self.request.session.session_key)
        return response


class ResetConfirmView(auth_views.PasswordResetConfirmView):
    """A password chosen through the e-mailed link ends every session the user had."""

    def form_valid(self, form):
        response = super().form_valid(form)
        end_sessions(form.user)
        return response


urlpatterns = [
    path("accounts/password/reset/", ResetView.as_view(), name="password_reset"),
    path("accounts/password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        ResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"
    ),
    path("accounts/password/change/", ChangeView.as_view(), name="password_change"),
    path("accounts/password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]
