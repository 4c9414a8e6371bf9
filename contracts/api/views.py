from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from contracts import services
from contracts.api.serializers import (
    ContractFeeChangeSerializer,
    ContractSerializer,
    CustomerSerializer,
    CustomerUserSerializer,
    ServiceTermsSerializer,
)
from contracts.models import ContactPerson, Contract, Customer, Notice, ServiceTerms
from core.api import params
from core.api.permissions import StaffOnly, StaffWritesSignedInReads
from core.idempotency import idempotent


@extend_schema_view(
    list=extend_schema(summary="Terms in force, one per contract template"),
    retrieve=extend_schema(summary="One terms record: by slug the version in force, by id that exact version"),
    create=extend_schema(summary="Add a contract template's terms (staff)"),
    update=extend_schema(summary="Change terms (staff): a version in use is kept and a new version is made"),
    partial_update=extend_schema(
        summary="Change some terms (staff): a version in use is kept and a new version is made"
    ),
)
class ServiceTermsViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ServiceTermsSerializer
    permission_classes = [StaffWritesSignedInReads]
    lookup_field = "slug_or_id"
    lookup_value_regex = "[-a-zA-Z0-9_]+"

    queryset = ServiceTerms.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ServiceTerms.objects.none()
        if self.action == "list":
            return ServiceTerms.objects.in_force()
        return ServiceTerms.objects.all()

    def get_object(self) -> ServiceTerms:
        key = self.kwargs[self.lookup_field]
        if params.whole_number(key):
            terms = ServiceTerms.objects.filter(pk=int(key)).first()
        else:
            terms = ServiceTerms.objects.version_in_force(key) or (
                ServiceTerms.objects.filter(slug=key).order_by("version").first()
            )
        if terms is None:
            raise Http404
        self.check_object_permissions(self.request, terms)
        return terms

    create = idempotent(mixins.CreateModelMixin.create)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.terms_create(**data)

    def update(self, request: Request, *args, **kwargs) -> Response:
        partial = kwargs.pop("partial", False)
        terms = self.get_object()
        serializer = self.get_serializer(terms, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        effective_from = changes.pop("effective_from", None)
        revised = services.terms_revise(terms=terms, changes=changes, effective_from=effective_from, actor=request.user)
        code = status.HTTP_201_CREATED if revised.pk != terms.pk else status.HTTP_200_OK
        return Response(self.get_serializer(revised).data, status=code)

    @extend_schema(
        summary="Every version of a contract template, newest first",
        responses=inline_serializer(
            "ServiceTermsVersionsPage",
            {
                "count": serializers.IntegerField(),
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": ServiceTermsSerializer(many=True),
            },
        ),
    )
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, slug_or_id: str, format: str | None = None) -> Response:
        terms = self.get_object()
        page = self.paginate_queryset(ServiceTerms.objects.filter(slug=terms.slug).order_by("-version"))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class CustomerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Customers. Staff see and create all; a customer user sees its own customer only."""

    serializer_class = CustomerSerializer
    permission_classes = [StaffWritesSignedInReads]
    filterset_fields = ["org_number"]

    queryset = Customer.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Customer.objects.none()
        queryset = Customer.objects.prefetch_related(
            Prefetch("contacts", queryset=ContactPerson.objects.order_by("-is_primary", "name"))
        )
        user = self.request.user
        if not user.is_staff:
            assert user.is_authenticated  # StaffWritesSignedInReads: reading needs a signed-in user
            queryset = queryset.filter(memberships__user=user)
        return queryset

    create = idempotent(mixins.CreateModelMixin.create)

    def perform_create(self, serializer):
        serializer.instance = services.customer_create(**serializer.validated_data)

    @extend_schema(methods=["get"], summary="The customer's users (staff)", responses=CustomerUserSerializer(many=True))
    @extend_schema(
        methods=["post"],
        summary="Add a user of this customer (staff)",
        request=CustomerUserSerializer,
        responses={201: CustomerUserSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        permission_classes=[StaffOnly],
        serializer_class=CustomerUserSerializer,
    )
    def users(self, request: Request, pk: str) -> Response:
        customer = self.get_object()
        if request.method == "POST":
            serializer = CustomerUserSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            user = services.customer_user_create(customer=customer, **serializer.validated_data)
            return Response(CustomerUserSerializer(user).data, status=status.HTTP_201_CREATED)
        users = (
            get_user_model()
            .objects.filter(customer_membership__customer=customer)
            .select_related("customer_membership")
            .order_by("username")
        )
        page = self.paginate_queryset(users)
        return self.get_paginated_response(CustomerUserSerializer(page, many=True).data)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("customer", int, description="Only this customer's contracts"),
        ]
    )
)
class ContractViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Contracts. Staff see and create all; a customer user sees its own customer's only."""

    serializer_class = ContractSerializer
    permission_classes = [StaffWritesSignedInReads]

    queryset = Contract.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Contract.objects.none()
        queryset = (
            Contract.objects.select_related("terms", "customer")
            .prefetch_related(
                "fees",
                Prefetch(
                    "customer__notices",
                    queryset=Notice.objects.select_related("terms", "fee"),
                    to_attr="prefetched_notices",
                ),
            )
            .visible_to(self.request.user)
        )
        params.check(self.request.query_params, customer=params.an_id)
        customer = self.request.query_params.get("customer")
        if customer:
            queryset = queryset.filter(customer_id=int(customer))
        return queryset.order_by("-signed_on", "-id")

    create = idempotent(mixins.CreateModelMixin.create)

    def perform_create(self, serializer):
        serializer.instance = services.contract_create(actor=self.request.user, **serializer.validated_data)

    @extend_schema(
        summary="Change the monthly fee from a date (staff; a rise is announced to the customer, D §15.14)",
        request=ContractFeeChangeSerializer,
        responses={201: ContractSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[StaffOnly])
    def fees(self, request: Request, pk: str, format: str | None = None) -> Response:
        contract = self.get_object()
        data = ContractFeeChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.contract_fee_change(contract=contract, actor=request.user, **data.validated_data)
        contract = self.get_queryset().get(pk=contract.pk)
        return Response(self.get_serializer(contract).data, status=status.HTTP_201_CREATED)
