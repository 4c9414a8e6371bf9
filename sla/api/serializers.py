from rest_framework import serializers

from contracts.api.fields import AwareDateTimeField
from contracts.models import Contract
from sla.models import Outage, OutageKind, Responsibility
from tickets.models import Ticket


class OutageSerializer(serializers.ModelSerializer):
    contracts = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Contract.objects.all(), required=False,
        help_text="Empty: every active contract.",
    )
    tickets = serializers.PrimaryKeyRelatedField(many=True, queryset=Ticket.objects.all(), required=False)
    started_at = AwareDateTimeField()
    ended_at = AwareDateTimeField(required=False, allow_null=True)
    announced_at = AwareDateTimeField(required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=OutageKind.choices)
    responsibility = serializers.ChoiceField(choices=Responsibility.choices)

    class Meta:
        model = Outage
        fields = [
            "id", "contracts", "service_wide", "started_at", "ended_at", "kind", "responsibility",
            "announced_at", "description", "tickets", "short_notice_terms", "created_at", "updated_at",
        ]
        read_only_fields = ["id", "service_wide", "short_notice_terms", "created_at", "updated_at"]


class OutageLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="outage.pk")
    started_at = serializers.DateTimeField(source="outage.started_at")
    ended_at = serializers.DateTimeField(source="outage.ended_at", allow_null=True)
    kind = serializers.CharField(source="outage.kind")
    responsibility = serializers.CharField(source="outage.responsibility")
    description = serializers.CharField(source="outage.description")
    counted_minutes = serializers.DecimalField(max_digits=12, decimal_places=4)
    excluded_reason = serializers.CharField(allow_null=True)


class AvailabilitySerializer(serializers.Serializer):
    contract = serializers.IntegerField(source="contract.pk")
    month = serializers.CharField()
    terms = serializers.CharField(source="terms.slug")
    terms_version = serializers.IntegerField(source="terms.version")
    period_minutes = serializers.IntegerField()
    unavailable_minutes = serializers.DecimalField(max_digits=12, decimal_places=4)
    unavailable_seconds = serializers.IntegerField()
    availability_percent = serializers.DecimalField(max_digits=9, decimal_places=4)
    target_percent = serializers.DecimalField(max_digits=7, decimal_places=4, allow_null=True)
    discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    monthly_fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    discount_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    outages = OutageLineSerializer(many=True)
