from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import accounts
from config.health import healthz
from tickets import views as ticket_views

# The admin's own sign-in leads to the product's: two factors and single sign-on hold there too.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("", ticket_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("", include("tickets.urls")),
    path("", include("sla.urls")),
    *accounts.urlpatterns,
    path("", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include("contracts.api.urls")),
    path("api/", include("tickets.api.urls")),
    path("api/", include("sla.api.urls")),
    path("api/", include("audit.api.urls")),
    path("tmf-api/troubleTicketManagement/v5/", include("tmf621.urls")),
    # The same under the base path of the v5 document's `servers` entry, for clients built from it.
    path("tmf-api/troubleTicket/v5/", include(("tmf621.urls", "tmf621"), namespace="tmf621-spec-path")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script as a file: the policy allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

handler404 = "config.middleware.not_found"
