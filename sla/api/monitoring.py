"""Webhooks of the operator's monitoring: Prometheus Alertmanager's, exactly as it sends it, and
a generic one of the same meaning for Zabbix, Nagios and the rest (see README)."""

import datetime

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.authentication import TokenAuthentication
from core.api.fields import NO_NUL, AwareDateTimeField, ExactInteger, ExactSlug, ExactText, StrictFields
from sla import monitoring
from sla.models import OutageSource

# Alertmanager writes an alert with no end as year 1 (Go's zero time); any time before this is
# no time an outage can have.
EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


class BearerTokenAuthentication(TokenAuthentication):
    """The same API tokens, sent as `Authorization: Bearer <key>` (Alertmanager's
    `http_config.authorization` with its default type)."""

    keyword = "Bearer"


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerAuth"
    priority = 1  # before drf-spectacular's own scheme of TokenAuthentication and its subclasses

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The same API token as `Authorization: Token <key>`, sent as `Bearer <key>`.",
        }


class ReportsAlerts(BasePermission):
    """Staff, or a monitoring user given the permission to report alerts (and nothing else)."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (user.is_staff or user.has_perm("sla.report_alerts")))


def _without_nul(pairs: dict) -> dict:
    # Prometheus's label names and values never hold one, and a database's text cannot.
    if any("\x00" in name or "\x00" in value for name, value in pairs.items()):
        raise serializers.ValidationError("A label or annotation may not hold a NUL character.")
    return pairs


def _when(value: datetime.datetime | None) -> datetime.datetime | None:
    return value if value is not None and value >= EARLIEST else None


@extend_schema_field(
    {"type": "object", "additionalProperties": {"type": "string", "pattern": NO_NUL}},
    component_name=None,
)
class Labels(serializers.DictField):
    """An alert's labels or annotations: names and values are texts without a NUL character
    (OpenAPI 3.0 can say so of the values only)."""

    child = ExactText(allow_blank=True, trim_whitespace=False)

    def to_internal_value(self, data):
        return _without_nul(super().to_internal_value(data))


class AlertmanagerAlertSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[monitoring.FIRING, monitoring.RESOLVED])
    labels = Labels()
    annotations = Labels(required=False, default=dict)
    startsAt = AwareDateTimeField()
    endsAt = serializers.DateTimeField(required=False, allow_null=True)
    generatorURL = ExactText(required=False, allow_blank=True)
    fingerprint = ExactText(max_length=200)

    def validate_startsAt(self, value):
        if _when(value) is None:
            raise serializers.ValidationError("An alert's start must be in 2000 or later.")
        return value


class AlertmanagerSerializer(serializers.Serializer):
    """Alertmanager's webhook body (version 4). Fields it adds in later versions are ignored."""

    version = ExactText()
    status = serializers.ChoiceField(choices=[monitoring.FIRING, monitoring.RESOLVED])
    receiver = ExactText(required=False, allow_blank=True)
    groupKey = ExactText(required=False, allow_blank=True)
    truncatedAlerts = ExactInteger(required=False, min_value=0)
    groupLabels = serializers.DictField(child=ExactText(allow_blank=True), required=False)
    commonLabels = serializers.DictField(child=ExactText(allow_blank=True), required=False)
    commonAnnotations = serializers.DictField(child=ExactText(allow_blank=True), required=False)
    externalURL = ExactText(required=False, allow_blank=True)
    alerts = AlertmanagerAlertSerializer(many=True, allow_empty=True)

    def notices(self) -> list[monitoring.Notice]:
        return [
            monitoring.Notice(
                source=OutageSource.ALERTMANAGER,
                fingerprint=alert["fingerprint"],
                status=alert["status"],
                starts_at=alert["startsAt"],
                ends_at=_when(alert.get("endsAt")) if alert["status"] == monitoring.RESOLVED else None,
                labels=dict(alert["labels"]),
                annotations=dict(alert["annotations"]),
            )
            for alert in self.validated_data["alerts"]
        ]


class GenericAlertSerializer(StrictFields, serializers.Serializer):
    """One alert of any monitoring system that can call a webhook (Zabbix, Nagios, scripts)."""

    id = ExactText(max_length=200, help_text="The monitoring system's own id of the problem.")
    service = ExactSlug(max_length=60, help_text="The slug of the service's terms.")
    contract = ExactInteger(
        min_value=1, required=False, allow_null=True, help_text="Only this contract of the service."
    )
    status = serializers.ChoiceField(choices=[monitoring.FIRING, monitoring.RESOLVED])
    started_at = AwareDateTimeField()
    ended_at = AwareDateTimeField(required=False, allow_null=True, help_text="With `resolved`: when it ended.")
    summary = ExactText(max_length=4000, required=False, allow_blank=True)

    def validate(self, data):
        if data["started_at"] < EARLIEST:
            raise serializers.ValidationError({"started_at": "A problem's start must be in 2000 or later."})
        if data["status"] == monitoring.RESOLVED and not data.get("ended_at"):
            raise serializers.ValidationError({"ended_at": "A resolved problem needs its end."})
        if data.get("ended_at") and data["ended_at"] < data["started_at"]:
            raise serializers.ValidationError({"ended_at": "A problem cannot end before it starts."})
        return data

    def notices(self) -> list[monitoring.Notice]:
        data = self.validated_data
        labels = {"service": data["service"]}
        if data.get("contract"):
            labels["contract"] = str(data["contract"])
        return [
            monitoring.Notice(
                source=OutageSource.GENERIC,
                fingerprint=data["id"],
                status=data["status"],
                starts_at=data["started_at"],
                ends_at=data.get("ended_at") if data["status"] == monitoring.RESOLVED else None,
                labels=labels,
                summary=data.get("summary", ""),
            )
        ]


OUTCOME = inline_serializer(
    "MonitoringOutcome",
    {
        "drafted": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
        "ended": serializers.IntegerField(),
        "reopened": serializers.IntegerField(),
        "unrouted": serializers.IntegerField(help_text="Alerts no route places: kept for staff on the outage board."),
        "outages": serializers.ListField(child=serializers.IntegerField()),
    },
)


class _Webhook(APIView):
    authentication_classes = [TokenAuthentication, BearerTokenAuthentication]
    permission_classes = [ReportsAlerts]
    serializer_class: type[serializers.Serializer]

    def post(self, request: Request) -> Response:
        body = self.serializer_class(data=request.data)
        body.is_valid(raise_exception=True)
        outcome = monitoring.take(body.notices())  # type: ignore[attr-defined]
        # Alertmanager retries only 5xx: a well-formed body is always taken (an alert no route
        # places is kept for staff: 202).
        return Response(outcome.as_dict(), status=status.HTTP_202_ACCEPTED if outcome.unrouted else status.HTTP_200_OK)


class AlertmanagerWebhook(_Webhook):
    """Prometheus Alertmanager's webhook receiver (`webhook_configs`), with an API token of a staff
    or monitoring user."""

    serializer_class = AlertmanagerSerializer

    @extend_schema(
        summary="Alerts from Prometheus Alertmanager become unconfirmed outages",
        request=AlertmanagerSerializer,
        responses={200: OUTCOME, 202: OUTCOME},
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class GenericWebhook(_Webhook):
    """One problem from any monitoring system, by the same rules as Alertmanager's alerts."""

    serializer_class = GenericAlertSerializer

    @extend_schema(
        summary="A problem from any monitoring system becomes an unconfirmed outage",
        request=GenericAlertSerializer,
        responses={200: OUTCOME, 202: OUTCOME},
    )
    def post(self, request: Request) -> Response:
        return super().post(request)
