"""Changes to a user's sign-in that more than one page makes."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.db import transaction

from audit.models import Action
from audit.services import record


def end_sessions(user, *, keep: str | None = None) -> int:
    """End the user's sessions but the one named `keep`; how many were ended."""
    ended = 0
    for session in UserSession.objects.filter(user_id=user.pk).exclude(session_key=keep or ""):
        session.end()
        ended += 1
    return ended


def reset_second_factors(user, *, request=None) -> bool:
    """An administrator's reset of a lost factor: every factor of the user's goes, with the
    recovery codes, and so do the user's sessions; the audit log names the administrator.
    Whether the user had any."""
    with transaction.atomic():
        kinds = sorted(set(Authenticator.objects.filter(user_id=user.pk).values_list("type", flat=True)))
        removed, _counts = Authenticator.objects.filter(user_id=user.pk).delete()
        ended = end_sessions(user)
        if removed:
            record(
                Action.SECOND_FACTOR_RESET,
                request=request,
                subject_user=user,
                what=", ".join(kinds),
                detail={"sessions_ended": ended},
            )
    return bool(removed)
