from django.urls import path
from rest_framework.routers import DefaultRouter

from sla.api.monitoring import AlertmanagerWebhook, GenericWebhook
from sla.api.views import AvailabilityView, ClaimViewSet, OutageViewSet

router = DefaultRouter()
router.register("outages", OutageViewSet, basename="outage")
router.register("claims", ClaimViewSet, basename="claim")

urlpatterns = [
    path("contracts/<int:pk>/availability/", AvailabilityView.as_view(), name="contract-availability"),
    path("monitoring/alertmanager/", AlertmanagerWebhook.as_view(), name="monitoring-alertmanager"),
    path("monitoring/generic/", GenericWebhook.as_view(), name="monitoring-generic"),
    *router.urls,
]
