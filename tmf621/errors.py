"""Every refusal of the TMF621 API in the specification's `Error` shape (code, reason, message,
status, @type), whatever raised it: DRF, Django's Http404, or a service's ValidationError."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
}


class TmfError(exceptions.APIException):
    """A refusal with its HTTP status and the message the client shows."""

    def __init__(self, http_status: int, message: str) -> None:
        super().__init__(message)
        self.status_code = http_status


def body(http_status: int, message: str) -> dict:
    return {
        "@type": "Error",
        "code": f"ERR{http_status}",
        "reason": REASONS.get(http_status, "Error"),
        "message": message,
        "status": str(http_status),
    }


def answer(http_status: int, message: str, headers: dict | None = None) -> Response:
    return Response(body(http_status, message), status=http_status, headers=headers)


def _flatten(detail, prefix: str = "") -> list[str]:
    """DRF's nested error detail as "field: message" lines."""
    if isinstance(detail, dict):
        return [
            line
            for key, value in detail.items()
            for line in _flatten(value, "" if key in ("non_field_errors", NON_FIELD_ERRORS) else f"{key}: ")
        ]
    if isinstance(detail, list):
        return [line for value in detail for line in _flatten(value, prefix)]
    return [f"{prefix}{detail}"]


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        exc = exceptions.ValidationError(detail)
    if not isinstance(exc, exceptions.APIException):
        return None
    set_rollback()
    headers = {}
    # APIView.handle_exception has set these: the challenge of a 401, the wait of a 429.
    if auth_header := getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = auth_header
    if wait := getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(wait))
    return answer(exc.status_code, " ".join(_flatten(exc.detail)), headers)
