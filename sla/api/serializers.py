import datetime

from rest_framework import serializers

from contracts.api.fields import AwareDateTimeField
from contracts.models import Contract
from sla.claims import claim_deadline, damages_cap
from sla.models import Claim, Outage, OutageKind, Responsibility
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


class ClaimSerializer(serializers.ModelSerializer):
    contract = serializers.PrimaryKeyRelatedField(queryset=Contract.objects.none())
    tickets = serializers.SlugRelatedField(
        many=True, slug_field="number", queryset=Ticket.objects.none(), help_text="Ticket numbers."
    )
    month = serializers.CharField(required=False, allow_null=True, help_text="YYYY-MM")
    deadline = serializers.SerializerMethodField()
    damages_cap = serializers.SerializerMethodField()

    class Meta:
        model = Claim
        fields = [
            "id", "contract", "month", "discovered_on", "description", "tickets", "filed_at", "status",
            "decision_note", "decided_at", "deadline", "damages_cap",
        ]
        read_only_fields = ["id", "filed_at", "status", "decision_note", "decided_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["contract"].queryset = Contract.objects.visible_to(request.user)
            self.fields["tickets"].child_relation.queryset = Ticket.objects.visible_to(request.user)

    def to_representation(self, claim):
        data = super().to_representation(claim)
        data["month"] = claim.month.strftime("%Y-%m") if claim.month else None
        return data

    def validate_month(self, value):
        if value in (None, ""):
            return None
        try:
            return datetime.datetime.strptime(value, "%Y-%m").date()
        except ValueError:
            raise serializers.ValidationError("Give the month as YYYY-MM.") from None

    def get_deadline(self, claim) -> str | None:
        deadline = claim_deadline(claim.contract, claim.discovered_on)
        return deadline.isoformat() if deadline else None

    def get_damages_cap(self, claim) -> dict:
        cap = damages_cap(claim)
        return {key: (str(value) if value is not None and key != "currency" else value) for key, value in cap.items()}


class ClaimDecisionSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    note = serializers.CharField()
