from django.urls import path

from audit.api.views import AuditEventList

urlpatterns = [
    path("audit-events/", AuditEventList.as_view(), name="audit-event-list"),
]
