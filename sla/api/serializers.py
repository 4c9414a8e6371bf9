from typing import cast

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contracts.models import Contract, NoticeChannel
from core.api.fields import AwareDateTimeField, NumberField, StrictFields, UndecidedChoiceField
from core.months import MONTH_PATTERN, MonthError, month_text, parse_month
from sla.claims import claim_deadline, damages_cap
from sla.models import Claim, ClaimKind, Outage, OutageKind, OutsideCap, Responsibility
from sla.selectors import touches_contracts, unsettled
from tickets.models import Ticket


class OutageSerializer(StrictFields, serializers.ModelSerializer):
    contracts = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Contract.objects.all(),
        required=False,
        help_text="Empty: every active contract of `service`.",
    )
    service = serializers.SlugField(
        max_length=60,
        required=False,
        allow_null=True,
        help_text="The service the outage belongs to: the slug of its terms (`GET /api/terms/`). With `contracts` "
        "empty the outage concerns every active contract of that service and no other, and shows on that service's "
        "status page only; left out (or null), a desk whose active contracts are all of one service takes that one. With "
        "`contracts`, their service (contracts of two services are refused). Read: null for a service-wide outage "
        "registered before outages had a service and not yet placed by staff (it counts against every service).",
    )
    tickets = serializers.PrimaryKeyRelatedField(many=True, queryset=Ticket.objects.all(), required=False)
    started_at = AwareDateTimeField()
    ended_at = AwareDateTimeField(required=False, allow_null=True)
    announced_at = AwareDateTimeField(required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=OutageKind.choices)
    responsibility = UndecidedChoiceField(
        choices=Responsibility.choices,
        help_text="Who answers for it. Read: null while an outage drafted by monitoring waits for staff to decide; "
        "deciding it confirms the outage.",
    )
    announced_via = serializers.ChoiceField(
        choices=NoticeChannel.choices,
        required=False,
        allow_blank=True,
        help_text="How planned work was announced: the notice counts from when the customer has it, the terms' "
        "`notice_receipt_days_*` after it was sent (D §25.2); left out with `announced_at`: e-mail.",
    )
    unsettled_tickets = serializers.SerializerMethodField(
        help_text="D §10.4: linked tickets classified as not the supplier's Fault while the outage counts as the "
        "supplier's, not yet settled by staff. The month cannot be billed while any is listed.",
    )

    class Meta:
        model = Outage
        fields = [
            "id",
            "contracts",
            "service",
            "service_wide",
            "started_at",
            "ended_at",
            "kind",
            "responsibility",
            "announced_at",
            "announced_via",
            "description",
            "tickets",
            "short_notice_terms",
            "unsettled_tickets",
            "confirmation_note",
            "confirmed_at",
            "source",
            "external_id",
            "confirmed",
            "discarded_at",
            "discard_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "service_wide",
            "source",
            "external_id",
            "confirmed",
            "discarded_at",
            "discard_reason",
            "short_notice_terms",
            "confirmation_note",
            "confirmed_at",
            "created_at",
            "updated_at",
        ]

    def get_unsettled_tickets(self, outage) -> list[str]:
        return unsettled(outage)

    def to_representation(self, outage):
        data = super().to_representation(outage)
        data["service"] = outage.service or None
        return data


class OutageDiscardSerializer(StrictFields, serializers.Serializer):
    reason = serializers.CharField(max_length=4000, help_text="Why it was a false alarm.")


class OutageLineSerializer(StrictFields, serializers.Serializer):
    id = serializers.IntegerField(source="outage.pk")
    started_at = serializers.DateTimeField(source="outage.started_at")
    ended_at = serializers.DateTimeField(source="outage.ended_at", allow_null=True)
    kind = serializers.CharField(source="outage.kind")
    responsibility = serializers.CharField(source="outage.responsibility")
    description = serializers.CharField(source="outage.description")
    confirmed = serializers.BooleanField(source="outage.confirmed")
    counted_minutes = serializers.DecimalField(max_digits=12, decimal_places=4)
    excluded_reason = serializers.CharField(allow_null=True)


class AvailabilitySerializer(StrictFields, serializers.Serializer):
    contract = serializers.IntegerField(source="contract.pk")
    month = serializers.CharField()
    terms = serializers.CharField(source="terms.slug")
    terms_version = serializers.IntegerField(source="terms.version")
    period_minutes = serializers.IntegerField()
    unavailable_minutes = serializers.DecimalField(max_digits=12, decimal_places=4)
    unavailable_seconds = serializers.IntegerField()
    unconfirmed_minutes = serializers.DecimalField(
        max_digits=12,
        decimal_places=4,
        help_text="What the outages drafted by monitoring and not yet confirmed by staff would count as the "
        "supplier's: pending, and in no other figure.",
    )
    availability_percent = serializers.DecimalField(max_digits=9, decimal_places=4)
    target_percent = serializers.DecimalField(max_digits=7, decimal_places=4, allow_null=True)
    discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    monthly_fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    discount_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    outages = OutageLineSerializer(many=True)


class CapSerializer(StrictFields, serializers.Serializer):
    applies = serializers.BooleanField(help_text="A damages claim within the cap (not outside it by D §19.4).")
    cap = serializers.DecimalField(
        source="remaining",
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        help_text="What is left of the aggregate cap for this claim (D §19.2–19.3).",
    )
    total = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    annual_fees = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    granted_before = serializers.DecimalField(max_digits=12, decimal_places=2)
    discounts_given = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()


@extend_schema_field({"type": "string", "nullable": True, "pattern": MONTH_PATTERN, "description": "YYYY-MM"})
class MonthField(serializers.CharField):
    """A month written YYYY-MM, read by the serializer's validate_month."""


class ClaimSerializer(StrictFields, serializers.ModelSerializer):
    contract = serializers.PrimaryKeyRelatedField(queryset=Contract.objects.none())
    tickets = NumberField(many=True, slug_field="number", queryset=Ticket.objects.none(), help_text="Ticket numbers.")
    kind = serializers.ChoiceField(choices=ClaimKind.choices, default=ClaimKind.DISCOUNT)
    month = MonthField(required=False, allow_null=True)
    outage = serializers.PrimaryKeyRelatedField(
        queryset=Outage.objects.none(), required=False, allow_null=True, help_text="The outage claimed for."
    )
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="The amount claimed, in the terms' currency."
    )
    currency = serializers.CharField(source="contract.terms.currency", read_only=True)
    deadline = serializers.SerializerMethodField()
    damages_cap = serializers.SerializerMethodField()

    class Meta:
        model = Claim
        fields = [
            "id",
            "contract",
            "kind",
            "month",
            "outage",
            "amount",
            "currency",
            "discovered_on",
            "window_from",
            "description",
            "tickets",
            "filed_at",
            "status",
            "granted_amount",
            "outside_cap",
            "decision_note",
            "decided_at",
            "deadline",
            "damages_cap",
        ]
        read_only_fields = [
            "id",
            "window_from",
            "filed_at",
            "status",
            "granted_amount",
            "outside_cap",
            "decision_note",
            "decided_at",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            contracts = Contract.objects.visible_to(request.user)
            cast(serializers.PrimaryKeyRelatedField, self.fields["contract"]).queryset = contracts
            tickets = cast(serializers.ManyRelatedField, self.fields["tickets"])
            tickets.child_relation.queryset = Ticket.objects.visible_to(request.user)
            cast(serializers.PrimaryKeyRelatedField, self.fields["outage"]).queryset = Outage.objects.filter(
                touches_contracts(contracts)
            ).distinct()

    def to_representation(self, claim):
        data = super().to_representation(claim)
        data["month"] = month_text(claim.month) if claim.month else None
        return data

    def validate_month(self, value):
        if value in (None, ""):
            return None
        try:
            return parse_month(value)
        except MonthError as error:
            raise serializers.ValidationError(str(error)) from None

    def get_deadline(self, claim) -> str | None:
        deadline = claim_deadline(claim.contract, claim.window_from)
        return deadline.isoformat() if deadline else None

    @extend_schema_field(CapSerializer)
    def get_damages_cap(self, claim) -> dict:
        return CapSerializer(damages_cap(claim, self.context.get("claim_book"))).data


class ClaimDecisionSerializer(StrictFields, serializers.Serializer):
    accept = serializers.BooleanField()
    note = serializers.CharField()
    granted_amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="When accepting: the amount granted (default: the amount claimed).",
    )
    outside_cap = serializers.ChoiceField(
        choices=OutsideCap.choices,
        required=False,
        allow_blank=True,
        help_text="When accepting damages: the D §19.4 reason the cap does not apply.",
    )


class OutageConfirmationSerializer(StrictFields, serializers.Serializer):
    note = serializers.CharField(help_text="Why the outage is the supplier's although its tickets say otherwise.")
