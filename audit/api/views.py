from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.permissions import BasePermission

from audit.api.serializers import AuditEventSerializer
from audit.models import Action, AuditEvent
from core.api import params
from core.api.fields import EARLIEST_PATTERN

TIME = {"type": "string", "format": "date-time", "pattern": EARLIEST_PATTERN}


class ReadsAuditLog(BasePermission):
    """Administrators: superusers, and staff given the permission "Can view audit event".
    Customers never, whatever permissions they were given."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        return user.is_superuser or user.has_perm("audit.view_auditevent")


@extend_schema_view(
    get=extend_schema(
        summary="The audit log, newest first (administrators)",
        description="Sign-ins, failed sign-ins and sign-outs, second factors, API tokens, staff viewing a "
        "ticket, an attachment, a customer or a billing export, personal data exported or erased, and changes "
        "of users' rights: when, who (`actor_name`: the user name then, or the one tried for a failed sign-in), "
        "from which address, about which customer, ticket or user, and what. Rows are never changed; they are "
        "removed after `AUDIT_RETENTION_DAYS`.",
        parameters=[
            OpenApiParameter(
                "actor",
                {"type": "string", "pattern": r"\S"},
                description="The user name of who acted (or tried to sign in as)",
            ),
            OpenApiParameter("action", str, enum=Action.values),
            OpenApiParameter("customer", int, description="The customer's id"),
            OpenApiParameter("since", TIME, description="From this time on (inclusive)"),
            OpenApiParameter("until", TIME, description="Before this time"),
        ],
    )
)
class AuditEventList(generics.ListAPIView):
    serializer_class = AuditEventSerializer
    permission_classes = [ReadsAuditLog]
    filter_backends: list = []
    queryset = AuditEvent.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        query = self.request.query_params
        params.check(
            query,
            actor=params.not_blank,
            action=params.one_of(*Action.values),
            customer=params.an_id,
            since=params.a_time,
            until=params.a_time,
        )
        events = AuditEvent.objects.all()
        if "actor" in query:
            events = events.filter(actor_name=query["actor"].strip())
        if "action" in query:
            events = events.filter(action=query["action"])
        if "customer" in query:
            events = events.filter(customer_id=int(query["customer"]))
        if "since" in query:
            events = events.filter(at__gte=params.time_of(query["since"]))
        if "until" in query:
            events = events.filter(at__lt=params.time_of(query["until"]))
        return events.order_by("-at", "-id")
