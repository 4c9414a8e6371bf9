from django.urls import path
from rest_framework.routers import DefaultRouter

from sla.api.views import AvailabilityView, OutageViewSet

router = DefaultRouter()
router.register("outages", OutageViewSet, basename="outage")

urlpatterns = [
    path("contracts/<int:pk>/availability/", AvailabilityView.as_view(), name="contract-availability"),
    *router.urls,
]
