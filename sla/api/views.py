from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contracts.models import Contract
from core.api.permissions import StaffOnly
from core.idempotency import idempotent
from core.months import MONTH_PATTERN
from sla import claims, selectors, services
from sla.api.serializers import (
    AvailabilitySerializer,
    ClaimDecisionSerializer,
    ClaimSerializer,
    OutageConfirmationSerializer,
    OutageDiscardSerializer,
    OutageSerializer,
)
from sla.models import Claim, Outage


class OutageViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Outages (staff). PATCH `{"ended_at": …}` ends one; a change marks its months' reports stale."""

    serializer_class = OutageSerializer
    permission_classes = [StaffOnly]
    queryset = Outage.objects.prefetch_related("contracts", "tickets").order_by("-started_at", "-id")
    http_method_names = ["get", "post", "patch", "head", "options"]

    create = idempotent(mixins.CreateModelMixin.create)

    def perform_create(self, serializer):
        serializer.instance = services.outage_register(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.outage_update(
            outage=serializer.instance, changes=dict(serializer.validated_data), actor=self.request.user
        )

    @extend_schema(
        summary="Confirm the supplier's responsibility although linked tickets say otherwise (D §10.4)",
        request=OutageConfirmationSerializer,
        responses=OutageSerializer,
    )
    @action(detail=True, methods=["post"], url_path="confirm-responsibility")
    def confirm_responsibility(self, request: Request, pk: str, format: str | None = None) -> Response:
        outage = self.get_object()
        data = OutageConfirmationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outage = services.outage_confirm_responsibility(
            outage=outage, note=data.validated_data["note"], actor=request.user
        )
        return Response(
            self.get_serializer(Outage.objects.prefetch_related("contracts", "tickets").get(pk=outage.pk)).data
        )

    @extend_schema(
        summary="Discard an outage drafted by monitoring as a false alarm (kept, with the reason)",
        request=OutageDiscardSerializer,
        responses=OutageSerializer,
    )
    @action(detail=True, methods=["post"])
    def discard(self, request: Request, pk: str, format: str | None = None) -> Response:
        outage = self.get_object()
        data = OutageDiscardSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outage = services.outage_discard(outage=outage, reason=data.validated_data["reason"], actor=request.user)
        return Response(
            self.get_serializer(Outage.objects.prefetch_related("contracts", "tickets").get(pk=outage.pk)).data
        )


class AvailabilityView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="A contract's availability and discount for a month (D §10)",
        parameters=[
            OpenApiParameter(
                "month",
                {"type": "string", "pattern": MONTH_PATTERN},
                required=True,
                description="YYYY-MM, a month that has begun",
            )
        ],
        responses=AvailabilitySerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        # Another customer's contract is not found, never forbidden.
        contract = get_object_or_404(Contract.objects.visible_to(request.user).select_related("terms"), pk=pk)
        year, month = selectors.parse_month(request.query_params.get("month"), today=timezone.localdate())
        data = selectors.contract_month(contract, year, month, now=timezone.now())
        return Response(AvailabilitySerializer(data).data)


class ClaimViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Claims (D §20): customers file for their own contracts; staff decide."""

    serializer_class = ClaimSerializer
    permission_classes = [IsAuthenticated]
    queryset = Claim.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Claim.objects.none()
        contracts = Contract.objects.visible_to(self.request.user)
        return (
            Claim.objects.filter(contract__in=contracts)
            .select_related("contract__terms", "outage")
            .prefetch_related("contract__fees")
            .prefetch_related("tickets")
            .order_by("-filed_at", "-id")
        )

    create = idempotent(mixins.CreateModelMixin.create)

    def perform_create(self, serializer):
        serializer.instance = claims.claim_file(actor=self.request.user, **serializer.validated_data)

    def paginate_queryset(self, queryset):
        # The caps and deadlines of a page read their terms and decisions once for the page.
        page = super().paginate_queryset(queryset)
        if page is not None:
            self.claim_book = claims.ClaimBook(page)
        return page

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "claim_book": getattr(self, "claim_book", None)}

    @extend_schema(
        summary="Accept or reject a claim (staff)", request=ClaimDecisionSerializer, responses=ClaimSerializer
    )
    @action(detail=True, methods=["post"], permission_classes=[StaffOnly])
    def decide(self, request: Request, pk: str, format: str | None = None) -> Response:
        claim = self.get_object()
        data = ClaimDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        claim = claims.claim_decide(
            claim=claim,
            accept=data.validated_data["accept"],
            note=data.validated_data["note"],
            actor=request.user,
            granted_amount=data.validated_data.get("granted_amount"),
            outside_cap=data.validated_data.get("outside_cap", ""),
        )
        return Response(ClaimSerializer(claim, context=self.get_serializer_context()).data)
