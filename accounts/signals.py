"""What follows a sign-in, a second factor's change or a wrong code.

- A sign-on whose provider used a second factor marks the session (accounts.middleware).
- Adding a factor proves it at once: the session counts as signed in with it.
- Adding, removing or renewing a factor ends the user's other sessions, as a new password does.
- A wrong code counts towards the sign-in lockout as a wrong password does (django-axes hears of
  it as a failed sign-in of that user name from that address)."""

from __future__ import annotations

from allauth.account.internal.flows.login import record_authentication
from allauth.mfa import signals as mfa_signals
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from accounts.middleware import SSO_SECOND_FACTOR
from accounts.services import end_sessions
from audit.models import Action
from audit.services import record


def end_other_sessions(request, user) -> int:
    return end_sessions(user, keep=request.session.session_key if request is not None else None)


@receiver(user_logged_in)
def _provider_second_factor(sender, request, user, **kwargs) -> None:
    if request is not None and getattr(request, "second_factor_by_provider", False):
        request.session[SSO_SECOND_FACTOR] = True


def _factor_changed(action: Action, request, user, authenticator, **detail) -> None:
    """A factor added, removed or renewed: the user's other sessions end, and the log says so."""
    ended = end_other_sessions(request, user)
    record(
        action,
        request=request,
        subject_user=user,
        what=authenticator.type,
        detail={**detail, "other_sessions_ended": ended},
    )


@receiver(mfa_signals.authenticator_added)
def _factor_added(sender, request, user, authenticator, **kwargs) -> None:
    record_authentication(request, user, "mfa", type=authenticator.type)
    _factor_changed(Action.SECOND_FACTOR_ADDED, request, user, authenticator)


@receiver(mfa_signals.authenticator_removed)
def _factor_removed(sender, request, user, authenticator, **kwargs) -> None:
    _factor_changed(Action.SECOND_FACTOR_REMOVED, request, user, authenticator)


@receiver(mfa_signals.authenticator_reset)
def _factor_renewed(sender, request, user, authenticator, **kwargs) -> None:
    # New recovery codes: the old ones are gone, as a removed factor is.
    _factor_changed(Action.SECOND_FACTOR_ADDED, request, user, authenticator, renewed=True)


@receiver(mfa_signals.authentication_failed)
def _wrong_code(sender, request, user, **kwargs) -> None:
    user_login_failed.send(
        sender=__name__,
        credentials={"username": user.get_username()},
        request=request,
        second_factor=True,
    )
