"""The request being answered, where the signal receivers can see it (audit.services.current_request)."""

from django.http import HttpRequest, HttpResponse

from audit.services import current_request


class CurrentRequestMiddleware:
    """After the authentication middleware: a receiver that records a change (a user's rights, an
    API token) knows who made it and from which address. Cleared again when the answer leaves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)
