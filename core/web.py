"""Small helpers shared by the pages of every app."""

import datetime
import functools

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed

from core.api.authentication import TokenAuthentication
from core.months import MonthError, first_of, parse_month


def apply_errors(form, error: ValidationError) -> None:
    """Show a service's field-keyed errors on the form's fields (or above it)."""
    for field, texts in error.message_dict.items():
        for message in texts:
            form.add_error(field if field in form.fields else None, message)


def month_asked(request: HttpRequest) -> datetime.date:
    """The month a page's `?month=YYYY-MM` names, this month when none is; a month written
    wrong is said so above the page, which shows this month."""
    text = request.GET.get("month")
    if text:
        try:
            return parse_month(text)
        except MonthError as error:
            messages.error(request, str(error))
    return first_of(timezone.localdate())


def signed_in_or_token(view):
    """Like login_required, for a file an API client follows a link to: a session, or the
    API's `Authorization: Token …` header, signs the reader in; neither answers 401."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated and request.headers.get("Authorization", "").startswith("Token "):
            try:
                found = TokenAuthentication().authenticate(request)
            except AuthenticationFailed:
                found = None
            if found is not None:
                request.user = found[0]
        if not request.user.is_authenticated:
            if "Authorization" in request.headers:
                return HttpResponse(status=401, headers={"WWW-Authenticate": "Token"})
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper
