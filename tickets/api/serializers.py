from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from contracts.models import Contract, Customer, ServiceTerms, visible_with_terms
from core.api.fields import AwareDateTimeField, FieldsBuiltOnce, StrictFields
from tickets.models import (
    AttachmentReference,
    Category,
    Channel,
    Classification,
    CloseReason,
    Message,
    NotFaultReason,
    Ticket,
)


class AttachmentReferenceSerializer(serializers.ModelSerializer):
    host = serializers.CharField(read_only=True, help_text="Where the link goes, as the pages show it.")
    added_by = serializers.SerializerMethodField(
        help_text='Staff see the user name; customers see a staff member\'s first name, or "Support".'
    )

    class Meta:
        model = AttachmentReference
        fields = ["id", "name", "url", "host", "mime_type", "size", "description", "added_by", "created_at"]
        read_only_fields = fields

    def get_added_by(self, reference: AttachmentReference) -> str | None:
        return shown_name(reference.added_by, self.context.get("request"))


class TicketSerializer(FieldsBuiltOnce, StrictFields, serializers.ModelSerializer):
    allowed_actions = serializers.SerializerMethodField(
        help_text="What the reader may do with the ticket in its state. Staff: start, reply, request-info, "
        "resolve, close, classify, assign, time; customers: reply, withdraw."
    )
    # Read-only relations name no queryset to read their model from (quoted: DRF takes no subscript at run time).
    customer: "serializers.PrimaryKeyRelatedField[Customer]" = serializers.PrimaryKeyRelatedField(read_only=True)
    contract: "serializers.PrimaryKeyRelatedField[Contract]" = serializers.PrimaryKeyRelatedField(read_only=True)
    terms: "serializers.SlugRelatedField[ServiceTerms]" = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    terms_version = serializers.IntegerField(source="terms.version", read_only=True)
    service_start_breached = serializers.SerializerMethodField()
    duplicate_of: "serializers.SlugRelatedField[Ticket]" = serializers.SlugRelatedField(
        slug_field="number",
        read_only=True,
        allow_null=True,
        help_text="Closed as a duplicate: the number of the same customer's ticket it repeats; null for every other ticket.",
    )
    assignee = serializers.SerializerMethodField(
        help_text='Staff see the user name; customers see the first name, or "Support".'
    )
    attachment_references = AttachmentReferenceSerializer(
        many=True,
        read_only=True,
        help_text="Links to files kept elsewhere (added through TMF621), oldest first. Never fetched by the desk.",
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "contract",
            "customer",
            "terms",
            "terms_version",
            "category",
            "urgent",
            "a_number",
            "b_number",
            "fault_occurred_at",
            "description",
            "channel",
            "status",
            "allowed_actions",
            "close_reason",
            "duplicate_of",
            "received_at",
            "effective_received_at",
            "service_start_due",
            "service_started_at",
            "service_start_breached",
            "customer_reply_due",
            "classification",
            "not_fault_reason",
            "details_missing",
            "assignee",
            "attachment_references",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_allowed_actions(self, ticket: Ticket) -> list[str]:
        reader = getattr(self.context.get("request"), "user", None)
        if getattr(reader, "is_staff", False):
            return ticket.actions
        return ticket.customer_actions

    def get_assignee(self, ticket: Ticket) -> str | None:
        return shown_name(ticket.assignee, self.context.get("request"))

    def get_service_start_breached(self, ticket: Ticket) -> bool:
        now = self.context.get("now") or timezone.now()
        return ticket.is_service_start_breached(now)


class VisibleContractField(serializers.PrimaryKeyRelatedField):
    """A contract the reader may see, by its id, read with its terms (`with_terms`): another
    customer's is "not found", never "forbidden"."""

    def get_queryset(self):
        request = self.context.get("request")
        return Contract.objects.none() if request is None else Contract.objects.visible_to(request.user).with_terms()

    def to_internal_value(self, data):
        request = self.context.get("request")
        if request is None or type(data) is not int or not 0 < data < 2**63:
            return super().to_internal_value(data)  # refused, or found, as the ORM's lookup answers
        contract = visible_with_terms(request.user, data)
        if contract is None:
            self.fail("does_not_exist", pk_value=data)
        return contract


class TicketCreateSerializer(FieldsBuiltOnce, StrictFields, serializers.Serializer):
    """The fault report as integrators send it (API.md). Rules live in tickets.services."""

    contract = VisibleContractField(queryset=Contract.objects.none())
    category = serializers.ChoiceField(choices=Category.choices, default=Category.FAULT)
    urgent = serializers.BooleanField(default=False)
    a_number = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)
    b_number = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)
    fault_occurred_at = AwareDateTimeField(required=False, allow_null=True, default=None)
    description = serializers.CharField(max_length=20000)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    received_at = AwareDateTimeField(required=False, allow_null=True, default=None)

    def validate(self, data):
        user = self.context["request"].user
        if not user.is_staff:
            errors = {}
            if self.initial_data.get("received_at") not in (None, ""):
                errors["received_at"] = [_("Only staff set the arrival time.")]
            if self.initial_data.get("channel") not in (None, "", Channel.WEB, Channel.API):
                errors["channel"] = [_("The channel is set by the service.")]
            if errors:
                raise serializers.ValidationError(errors)
            data.pop("channel", None)
            data.pop("received_at", None)
        return data


def shown_name(user, request) -> str | None:
    """A person as the reader may see them: staff see user names; customers see a staff member's
    first name, or "Support", never the name staff sign in with."""
    if user is None:
        return None
    reader = getattr(request, "user", None)
    if not user.is_staff or getattr(reader, "is_staff", False):
        return user.get_username()
    return user.first_name or str(_("Support"))


class MessageSerializer(StrictFields, serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    from_staff = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["id", "ticket", "author", "from_staff", "internal", "body", "channel", "created_at"]
        read_only_fields = fields

    def get_author(self, message) -> str | None:
        return shown_name(message.author, self.context.get("request"))

    def get_from_staff(self, message) -> bool:
        return bool(message.author and message.author.is_staff)


class MessageInputSerializer(StrictFields, serializers.Serializer):
    message = serializers.CharField(max_length=20000)


class WithdrawInputSerializer(StrictFields, serializers.Serializer):
    message = serializers.CharField(
        max_length=20000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why, if the customer says (kept as their message).",
    )


class ReplyInputSerializer(MessageInputSerializer):
    internal = serializers.BooleanField(default=False)


class ClassifyInputSerializer(StrictFields, serializers.Serializer):
    classification = serializers.ChoiceField(choices=Classification.choices)
    not_fault_reason = serializers.ChoiceField(
        choices=NotFaultReason.choices, required=False, allow_null=True, default=None
    )


class CloseInputSerializer(StrictFields, serializers.Serializer):
    close_reason = serializers.ChoiceField(choices=CloseReason.choices, required=False, allow_null=True, default=None)
    duplicate_of = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        default=None,
        max_length=32,
        help_text="For a duplicate: the number of the same customer's ticket it repeats (implies close_reason duplicate).",
    )
