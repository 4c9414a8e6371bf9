"""The project's URLs plus a view that does nothing: the ceiling of the server and middleware."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

import config.urls


def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [path("bench/trivial", trivial), *config.urls.urlpatterns]
