"""What every request goes through: answers for the moments the service cannot answer normally,
input no view could store refused, and the headers that keep pages private and scripts ours."""

import sys
from http import HTTPStatus
from urllib.parse import urlsplit

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found

RETRY_AFTER_SECONDS = 30
# Our API, and TM Forum's TMF621 beside it (tmf621), whose errors have TMF's Error shape.
API_PREFIXES = ("/api/", "/tmf-api/")
TMF_PREFIX = "/tmf-api/"


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES)


def api_error(request: HttpRequest, status: int, message: str, field: str = "detail") -> JsonResponse:
    """An error as the API speaks it: {"detail": …} (or {field: [...]}) for ours, TMF's Error
    (code, reason, message, status) under /tmf-api/."""
    body: dict[str, str | list[str]]
    if request.path.startswith(TMF_PREFIX):
        body = {
            "@type": "Error",
            "code": f"ERR{status}",
            "reason": HTTPStatus(status).phrase,
            "message": message,
            "status": str(status),
        }
    else:
        body = {field: message if field == "detail" else [message]}
    return JsonResponse(body, status=status)


class DatabaseUnavailableMiddleware:
    """While the database is away (restarting, failing over, stalled) every request gets 503 with
    Retry-After instead of a 500; connections are checked again on the next request
    (CONN_HEALTH_CHECKS), so the service recovers by itself.

    Outermost, because the database is not only the view's: the session, the signed-in user and
    the sign-in lockout are read and saved by other middleware, whose errors Django turns into a
    500 where they happen. Each such error marks its request (got_request_exception), and the
    500 it made is answered as the database's 503 on the way out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "database_unavailable", False) and response.status_code >= 500:
            return database_unavailable(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        request.database_unavailable = True  # type: ignore[attr-defined]
        return database_unavailable(request)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    message = _("The service is briefly unavailable. Nothing you sent was stored; please try again in a minute.")
    response: HttpResponse
    if is_api(request) or request.path.startswith("/healthz"):
        response = api_error(request, 503, message)
    else:
        response = HttpResponse(render_to_string("503.html", {"message": message}, request=None), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@receiver(got_request_exception)
def _mark_database_unavailable(sender, request: HttpRequest | None = None, **kwargs) -> None:
    """Sent while Django handles an error raised anywhere in the request, the error at hand."""
    if request is not None and isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        request.database_unavailable = True  # type: ignore[attr-defined]


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 for an address no route matches: JSON under /api/, as every other API answer."""
    if is_api(request):
        return api_error(request, 404, _("Not found."))
    return page_not_found(request, exception)


class RefuseNulMiddleware:
    """A NUL character in the address or in a query or form parameter can go nowhere (no
    database text column takes it): the request is refused with 400 naming the parameter,
    before any view sees it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info:
            return _refuse(request, "detail", _("The address contains a NUL character."))
        sources = [request.GET, request.POST] if _is_form(request) else [request.GET]
        for source in sources:
            for name, values in source.lists():
                if "\x00" in name or any("\x00" in value for value in values):
                    shown = name.replace("\x00", "\\0")[:60]
                    return _refuse(
                        request, shown, _("The parameter %(name)s contains a NUL character.") % {"name": shown}
                    )
        return self.get_response(request)


def _refuse(request: HttpRequest, name: str, message: str) -> HttpResponse:
    if is_api(request):
        return api_error(request, 400, message, name)
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


def _is_form(request: HttpRequest) -> bool:
    """A page's form post. The API takes JSON only: its form posts are left unread, so that it
    answers them 415 as it should (a body read here would reach it empty)."""
    return (
        request.method == "POST"
        and not is_api(request)
        and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
    )


class PrivatePagesMiddleware:
    """What a signed-in user, the API or an attachment shows is nobody else's: no shared cache
    keeps it, no browser stores it (`Cache-Control: private, no-store`). And a Content-Security-
    Policy that runs only scripts served by the desk itself: an injected script never runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        private = is_api(request) or getattr(request, "user", None) is not None and (request.user.is_authenticated)
        if private and not request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            response["Cache-Control"] = "private, no-store"
        response.setdefault("Content-Security-Policy", content_security_policy())
        return response


def content_security_policy() -> str:
    """The policy; with single sign-on, the sign-in page's button may post on to the provider
    (form-action holds for the redirect after a form, too)."""
    if not settings.OIDC_ISSUER:
        return settings.CONTENT_SECURITY_POLICY
    issuer = urlsplit(settings.OIDC_ISSUER)
    return f"{settings.CONTENT_SECURITY_POLICY} {issuer.scheme}://{issuer.netloc}"
