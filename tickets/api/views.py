from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import params
from core.api.permissions import StaffOnly
from core.idempotency import idempotent
from tickets import selectors, services
from tickets.api.serializers import (
    ClassifyInputSerializer,
    CloseInputSerializer,
    MessageInputSerializer,
    MessageSerializer,
    ReplyInputSerializer,
    TicketCreateSerializer,
    TicketSerializer,
    WithdrawInputSerializer,
)
from tickets.models import AttachmentReference, Category, Channel, Status, Ticket


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


CONFLICT = OpenApiResponse(description="The ticket's state does not allow this action.")


@extend_schema_view(
    list=extend_schema(
        summary="Tickets, newest first (staff: all; customers: their own organisation's)",
        parameters=[
            OpenApiParameter(
                "status",
                {"type": "string", "pattern": "^{one}(?:,{one})*$".format(one=f"(?:{'|'.join(Status.values)})")},
                description="Comma-separated statuses",
            ),
            OpenApiParameter("customer", int),
            OpenApiParameter("contract", int),
            OpenApiParameter("category", str, enum=Category.values),
            OpenApiParameter(
                "assignee",
                {"type": "string", "pattern": "^(?:none|[0-9]{1,18})$"},
                description="A staff user's id, or `none`",
            ),
            OpenApiParameter("terms", {"type": "string", "pattern": r"\S"}, description="Terms slug"),
            OpenApiParameter("urgent", bool),
            OpenApiParameter("breached", bool),
            OpenApiParameter("q", str, description="Ticket number, phone number or customer name"),
        ],
    ),
    retrieve=extend_schema(summary="One ticket"),
    create=extend_schema(
        summary="Report a fault or ask for support",
        request=TicketCreateSerializer,
        responses={201: TicketSerializer},
    ),
)
class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = TicketSerializer
    permission_classes = [IsAuthenticated]
    filter_backends: list = []

    queryset = Ticket.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Ticket.objects.none()
        queryset = (
            selectors.tickets_for(self.request.user)
            .select_related("duplicate_of")
            .prefetch_related(Prefetch("attachment_references", AttachmentReference.objects.select_related("added_by")))
        )
        if self.action == "list":
            params.check(
                self.request.query_params,
                status=params.comma_list_of(*Status.values),
                customer=params.an_id,
                contract=params.an_id,
                assignee=lambda value: value == "none" or params.whole_number(value),
                category=params.one_of(*Category.values),
                urgent=params.yes_or_no,
                breached=params.yes_or_no,
                terms=lambda value: bool(value.strip()),
            )
            queryset = selectors.filter_tickets(
                queryset, self.request.query_params, now=timezone.now(), internal_notes=self.request.user.is_staff
            )
            queryset = selectors.ranked_or_newest(queryset)
        return queryset

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    @idempotent
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = TicketCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        channel = data.pop("channel", None) or Channel.API
        ticket = services.ticket_create(reported_by=request.user, channel=channel, **data)
        # The answer is the ticket as written, not read back: it holds every field and its terms,
        # and links to files come later, through TMF621 (as prefetched: none, already read, as
        # prefetching leaves it; a none() iterated still compiles its query, a fifth of a ms).
        references = AttachmentReference.objects.none()
        references._result_cache = []
        setattr(ticket, "_prefetched_objects_cache", {"attachment_references": references})
        return Response(self.get_serializer(ticket).data, status=status.HTTP_201_CREATED)

    def _act(self, fn, ticket: Ticket, **kwargs) -> Response:
        try:
            fn(ticket=ticket, actor=self.request.user, **kwargs)
        except services.TransitionNotAllowed as error:
            raise Conflict(str(error)) from None
        return Response(self.get_serializer(self.get_queryset().get(pk=ticket.pk)).data)

    @extend_schema(summary="Start service (staff)", request=None, responses={200: TicketSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"], permission_classes=[StaffOnly])
    def start(self, request: Request, pk: str, format: str | None = None) -> Response:
        return self._act(services.ticket_start, self.get_object())

    @extend_schema(
        summary="Ask the customer for information (staff)",
        request=MessageInputSerializer,
        responses={200: TicketSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="request-info", permission_classes=[StaffOnly])
    def request_info(self, request: Request, pk: str, format: str | None = None) -> Response:
        ticket = self.get_object()  # another customer's ticket is 404 whatever the input
        data = self._input(MessageInputSerializer)
        return self._act(services.ticket_request_info, ticket, message=data["message"])

    @extend_schema(
        summary="Withdraw the report (customer): the ticket closes as withdrawn",
        request=WithdrawInputSerializer,
        responses={200: TicketSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str, format: str | None = None) -> Response:
        ticket = self.get_object()
        data = self._input(WithdrawInputSerializer)
        channel = Channel.API if request.auth is not None else Channel.WEB
        return self._act(services.ticket_withdraw, ticket, message=data["message"], channel=channel)

    @extend_schema(
        summary="Write a message (customer or staff; staff may write internal notes)",
        request=ReplyInputSerializer,
        responses={200: TicketSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, pk: str, format: str | None = None) -> Response:
        ticket = self.get_object()
        data = self._input(ReplyInputSerializer)
        try:
            services.ticket_reply(
                ticket=ticket,
                actor=request.user,
                message=data["message"],
                internal=data["internal"],
                channel=Channel.API if request.auth is not None else Channel.WEB,
            )
        except services.TransitionNotAllowed as error:
            raise Conflict(str(error)) from None
        return Response(self.get_serializer(self.get_queryset().get(pk=ticket.pk)).data)

    @extend_schema(
        summary="Classify: fault, or not a fault with its reason (staff)",
        request=ClassifyInputSerializer,
        responses={200: TicketSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], permission_classes=[StaffOnly])
    def classify(self, request: Request, pk: str, format: str | None = None) -> Response:
        ticket = self.get_object()
        data = self._input(ClassifyInputSerializer)
        return self._act(services.ticket_classify, ticket, **data)

    @extend_schema(
        summary="Resolve (staff)", request=MessageInputSerializer, responses={200: TicketSerializer, 409: CONFLICT}
    )
    @action(detail=True, methods=["post"], permission_classes=[StaffOnly])
    def resolve(self, request: Request, pk: str, format: str | None = None) -> Response:
        ticket = self.get_object()
        data = self._input(MessageInputSerializer)
        return self._act(services.ticket_resolve, ticket, message=data["message"])

    @extend_schema(
        summary="Close (staff)", request=CloseInputSerializer, responses={200: TicketSerializer, 409: CONFLICT}
    )
    @action(detail=True, methods=["post"], permission_classes=[StaffOnly])
    def close(self, request: Request, pk: str, format: str | None = None) -> Response:
        ticket = self.get_object()
        data = self._input(CloseInputSerializer)
        original = None
        if data["duplicate_of"]:
            # Looked up among the tickets this reader may see, like any ticket they name.
            original = selectors.tickets_for(request.user).filter(number=data["duplicate_of"].strip().upper()).first()
            if original is None:
                raise ValidationError(
                    {"duplicate_of": [_("No ticket has the number %(number)s.") % {"number": data["duplicate_of"]}]}
                )
        return self._act(services.ticket_close, ticket, close_reason=data["close_reason"], duplicate_of=original)

    @extend_schema(
        summary="The ticket's messages (internal notes only for staff)",
        responses=MessageSerializer(many=True),
    )
    @action(detail=True, methods=["get"], serializer_class=MessageSerializer)
    def messages(self, request: Request, pk: str, format: str | None = None) -> Response:
        ticket = self.get_object()
        messages = selectors.messages_for(ticket, request.user)
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
