"""Answers for the moments the service cannot answer normally."""

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found

RETRY_AFTER_SECONDS = 30


def client_ip(request: HttpRequest) -> str | None:
    """The visitor's address: behind our TLS proxy the one it appended to X-Forwarded-For (the
    last entry; earlier ones are whatever the client claimed), else the socket's."""
    if settings.BEHIND_TLS_PROXY:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if forwarded and forwarded[-1]:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR")


class DatabaseUnavailableMiddleware:
    """While the database is away (restarting, failing over) every request gets 503 with
    Retry-After instead of a 500; connections are checked again on the next request
    (CONN_HEALTH_CHECKS), so the service recovers by itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        message = _("The service is briefly unavailable. Nothing you sent was stored; please try again in a minute.")
        if request.path.startswith("/api/") or request.path.startswith("/healthz"):
            response = JsonResponse({"detail": message}, status=503)
        else:
            response = HttpResponse(
                render_to_string("503.html", {"message": message}, request=None), status=503
            )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 for an address no route matches: JSON under /api/, as every other API answer."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return page_not_found(request, exception)
