"""The e-mail that lets a user staff created choose a password: a one-time link (Django's password
reset token) rather than a password sent around."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


def send_first_sign_in_link(user, language: str) -> None:
    """The link lasts PASSWORD_RESET_TIMEOUT and stops working once a password is chosen."""
    context = {
        "user": user,
        "site_url": settings.SITE_URL,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
        "valid_days": settings.PASSWORD_RESET_TIMEOUT // 86400,
    }
    with translation.override(language):
        PasswordResetForm().send_mail(
            "registration/first_sign_in_subject.txt",
            "registration/first_sign_in_email.txt",
            context,
            settings.DEFAULT_FROM_EMAIL,
            user.email,
        )
