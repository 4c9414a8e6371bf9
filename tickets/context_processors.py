"""What every page's header needs beyond the user."""

from __future__ import annotations

import functools

from django.http import HttpRequest

from tickets import staff_notices


def unread_notices(request: HttpRequest) -> dict:
    """The staff member's count of unread notices for the header: one query, made only when a
    template shows it (a callable that the template calls), and only for staff."""

    @functools.cache
    def count() -> int:
        user = request.user
        return staff_notices.unread_count(user) if user.is_authenticated and user.is_staff else 0

    return {"unread_notices": count}
