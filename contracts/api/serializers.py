from __future__ import annotations

from decimal import Decimal

import phonenumbers
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contracts import clauses, validation
from contracts.models import ContactPerson, Contract, ContractFee, Customer, Notice, ServiceTerms
from contracts.validation import hhmm_to_minutes, minutes_to_hhmm
from core.api.fields import StrictFields
from core.api.params import whole_number

# What the terms' fields take (contracts.validation.validate_terms), as the schema states it. A rule
# between fields (support closes after it opens, a target with its period, a ladder's steps) is
# the server's alone.
CLOCK_TIME = r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"
# Percents of at most 100 with at most two decimal places, or four (an availability target, above 0).
PERCENT = r"^(?:100(?:\.0{0,2})?|[0-9]{1,2}(?:\.[0-9]{0,2})?|\.[0-9]{1,2})$"
TARGET_PERCENT = r"^(?![0.]*$)(?:100(?:\.0{0,4})?|[0-9]{1,2}(?:\.[0-9]{0,4})?|\.[0-9]{1,4})$"
# A step of the discount ladder: a number above 0 and at most 100, written as a number or a text.
LADDER_NUMBER = {
    "oneOf": [
        {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 100},
        {"type": "string", "pattern": r"^\s*(?![0.]*\s*$)(?:100(?:\.0*)?|[0-9]{1,2}(?:\.[0-9]*)?|\.[0-9]+)\s*$"},
    ]
}
STRING_LIST = {"type": "array", "items": {"type": "string"}}


@extend_schema_field({"type": "string", "pattern": CLOCK_TIME, "example": "08:30"})
class ClockTimeField(serializers.Field):
    """Minutes after midnight as "HH:MM"; "24:00" is the end of the day."""

    def to_representation(self, value: int) -> str:
        return minutes_to_hhmm(value)

    def to_internal_value(self, data) -> int:
        if not isinstance(data, str):
            raise serializers.ValidationError(_("Enter a time as HH:MM, e.g. 08:30."))
        try:
            return hhmm_to_minutes(data)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None


@extend_schema_field({"type": "string", "example": "99.8", "nullable": True, "pattern": PERCENT})
class PlainDecimalField(serializers.DecimalField):
    """A percent written without trailing zeros: "99.8", not "99.8000"."""

    def to_representation(self, value) -> str:
        text = format(Decimal(value).normalize(), "f")
        return text


@extend_schema_field({"type": "string", "example": "99.8", "nullable": True, "pattern": TARGET_PERCENT})
class TargetPercentField(PlainDecimalField):
    """An availability target: a percent above 0."""


@extend_schema_field(
    {"type": "string", "enum": sorted(validation.available_timezones()), "example": "Europe/Stockholm"}
)
class TimeZoneField(serializers.CharField):
    """An IANA time zone name."""


@extend_schema_field(
    {"type": "string", "nullable": True, "enum": [*sorted(validation.supported_holiday_countries()), "", None]}
)
class HolidayCountryField(serializers.CharField):
    """A country the holiday calendar knows; empty or null: none."""


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "enum": sorted(phonenumbers.SUPPORTED_REGIONS)},
        "minItems": 1,
        "example": ["SE"],
    }
)
class CountryListField(serializers.JSONField):
    """ISO country codes of the numbers the terms cover, at least one."""


@extend_schema_field(
    {"type": "array", "items": {"type": "string", "enum": list(validation.NUMBER_TYPES)}, "uniqueItems": True}
)
class NumberTypesField(serializers.JSONField):
    """Kinds of number, each at most once."""


@extend_schema_field(STRING_LIST)
class StringListField(serializers.JSONField):
    """A list of names."""


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"below": LADDER_NUMBER, "percent": LADDER_NUMBER},
            "required": ["below", "percent"],
            "additionalProperties": False,
        },
        "example": [{"below": "99.8", "percent": "5"}],
    }
)
class DiscountLadderField(serializers.JSONField):
    """Steps of the discount ladder (D §10.3)."""


@extend_schema_field(
    {
        "type": "array",
        "nullable": True,
        "items": {
            "type": "object",
            "properties": {
                "weekdays": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 1, "maximum": 7},
                    "minItems": 1,
                    "uniqueItems": True,
                },
                "start": {"type": "string", "pattern": CLOCK_TIME},
                "end": {"type": "string", "pattern": CLOCK_TIME},
            },
            "required": ["weekdays", "start", "end"],
            "additionalProperties": False,
        },
        "example": [{"weekdays": [6, 7], "start": "00:00", "end": "24:00"}],
    }
)
class MaintenanceWindowsField(serializers.JSONField):
    """Windows for system work without notice (ISO weekdays, local time)."""


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            key: {"type": "string", "pattern": f"^{clauses.REFERENCE.pattern}$", "maxLength": clauses.MAX_LENGTH}
            for key in clauses.KEYS
        },
        "additionalProperties": False,
        "example": {"fault_details": "D §16.9", "numbers_defined": "D §2"},
    }
)
class ClauseTableField(serializers.JSONField):
    """Where the terms say what the desk tells people, e.g. {"fault_details": "D §16.9"}; a matter
    the terms are silent on has no key."""


class DiscountStepSerializer(StrictFields, serializers.Serializer):
    below = serializers.CharField()
    percent = serializers.CharField()


class MaintenanceWindowSerializer(StrictFields, serializers.Serializer):
    weekdays = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=7))
    start = serializers.CharField()
    end = serializers.CharField()


class ServiceTermsSerializer(StrictFields, serializers.ModelSerializer):
    support_opens = ClockTimeField()
    support_closes = ClockTimeField()
    timezone = TimeZoneField(max_length=64)
    holiday_country = HolidayCountryField(max_length=2, required=False, allow_blank=True, allow_null=True)
    availability_target = TargetPercentField(max_digits=7, decimal_places=4, allow_null=True, required=False)
    late_delivery_discount_percent = PlainDecimalField(max_digits=5, decimal_places=2, allow_null=True, required=False)
    liability_cap_percent = PlainDecimalField(max_digits=5, decimal_places=2, allow_null=True, required=False)
    discount_ladder = DiscountLadderField(required=False)
    maintenance_windows = MaintenanceWindowsField(required=False, allow_null=True)
    holiday_categories = StringListField(
        required=False,
        help_text="Empty or left out: the country's real days off (Sweden: public holidays and the de facto eves).",
    )
    a_number_countries = CountryListField()
    status_page = serializers.SerializerMethodField(
        help_text="The running operational status (D §10.2): status_page_url when set, else the desk's public page for these terms."
    )
    a_number_types = NumberTypesField(
        required=False, help_text='Kinds of A-number covered, e.g. ["fixed_line", "mobile"] (T §3.1); empty: any.'
    )
    clauses = ClauseTableField(
        required=False,
        help_text="The clause references the desk cites for these terms, by matter; none where the terms are silent.",
    )

    class Meta:
        model = ServiceTerms
        fields = [
            "id",
            "slug",
            "version",
            "name",
            "source",
            "effective_from",
            "ticket_prefix",
            "currency",
            "timezone",
            "holiday_country",
            "holiday_subdivision",
            "holiday_categories",
            "support_days",
            "support_opens",
            "support_closes",
            "service_start_hours",
            "customer_reply_hours",
            "a_number_countries",
            "a_number_types",
            "availability_target",
            "availability_period",
            "discount_ladder",
            "maintenance_windows",
            "planned_work_notice_days",
            "planned_work_notice_working_days",
            "delivery_deadline_days",
            "normal_delivery_weeks",
            "late_delivery_discount_percent",
            "delivery_cancellation_days",
            "delivery_defect_report_days",
            "status_page_url",
            "status_page",
            "language",
            "claim_window_months",
            "discount_requires_claim",
            "liability_cap_percent",
            "liability_cap_basis_months",
            "invoice_period",
            "invoiced_in_advance",
            "invoice_due_days",
            "invoice_objection_days",
            "licence_change_notice_months",
            "price_change_notice_days",
            "terms_change_notice_months",
            "change_termination_window_days",
            "force_majeure_termination_months",
            "termination_notice_months",
            "notice_receipt_days_letter",
            "notice_receipt_days_email",
            "notice_receipt_days_phone",
            "clauses",
            "created_at",
        ]
        read_only_fields = ["id", "version", "created_at"]
        extra_kwargs = {
            "holiday_subdivision": {"allow_null": True},
            "ticket_prefix": {"validators": [validation.TICKET_PREFIX]},
            "currency": {"validators": [validation.CURRENCY]},
        }
        # A slug is unique per template; the service says so in words a person understands.
        validators: list = []

    def get_status_page(self, terms: ServiceTerms) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(terms.status_page_address) if request else terms.status_page_address

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list):
            # The slug names the template; a revision keeps it.
            fields["slug"].read_only = True
        return fields


class ContactPersonSerializer(StrictFields, serializers.ModelSerializer):
    class Meta:
        model = ContactPerson
        fields = ["id", "name", "email", "phone", "region", "is_primary"]


class CustomerSerializer(StrictFields, serializers.ModelSerializer):
    contacts = ContactPersonSerializer(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = ["id", "name", "org_number", "language", "contacts", "created_at"]
        read_only_fields = ["id", "contacts", "created_at"]
        # Uniqueness is the service's to check, with a message a person understands.
        validators: list = []
        extra_kwargs: dict[str, dict[str, list]] = {"org_number": {"validators": []}}


class CustomerUserSerializer(StrictFields, serializers.ModelSerializer):
    password = serializers.CharField(
        write_only=True,
        required=False,
        style={"input_type": "password"},
        help_text="Leave it out to e-mail the user a link to choose their own password.",
    )
    customer = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "password", "customer", "date_joined"]
        read_only_fields = ["id", "customer", "date_joined"]
        # The service checks that a user name is free (contracts.services.customer_user_create) and
        # says so in words a person understands; the characters it may hold, and an e-mail address
        # that is not blank, the fields check here, where the schema states them.
        extra_kwargs = {
            "username": {"validators": [get_user_model().username_validator]},
            "email": {
                "required": True,
                "allow_blank": False,
                "error_messages": {"blank": _lazy("A customer user needs an e-mail address.")},
            },
        }

    def get_customer(self, user) -> int | None:
        membership = getattr(user, "customer_membership", None)
        return membership.customer_id if membership else None


@extend_schema_field({"oneOf": [{"type": "string", "example": "dstny-alcom-2022"}, {"type": "integer"}]})
class TermsReferenceField(serializers.Field):
    """Terms named by slug (the version in force today) or by id (that exact version)."""

    default_error_messages = {
        "unknown_slug": _lazy("No terms have the slug {value}."),
        "unknown_id": _lazy("No terms have the id {value}."),
        "invalid": _lazy("Name the terms by slug or id."),
    }

    def to_internal_value(self, data) -> ServiceTerms:
        if isinstance(data, bool) or not isinstance(data, (int, str)) or data == "":
            self.fail("invalid")
        if isinstance(data, int) or whole_number(data):
            terms = ServiceTerms.objects.filter(pk=int(data)).first()
            if terms is None:
                self.fail("unknown_id", value=data)
            return terms
        terms = ServiceTerms.objects.version_in_force(data)
        if terms is None:
            terms = ServiceTerms.objects.filter(slug=data).order_by("version").first()
        if terms is None:
            self.fail("unknown_slug", value=data)
        return terms

    def to_representation(self, terms: ServiceTerms) -> str:
        return terms.slug


class ContractFeeSerializer(StrictFields, serializers.ModelSerializer):
    class Meta:
        model = ContractFee
        fields = ["effective_from", "monthly_fee"]


class NoticeSerializer(StrictFields, serializers.ModelSerializer):
    new_terms_version = serializers.IntegerField(source="terms.version", read_only=True, allow_null=True)
    new_monthly_fee = serializers.DecimalField(
        source="fee.monthly_fee", max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )

    class Meta:
        model = Notice
        fields = [
            "kind",
            "effective_on",
            "new_terms_version",
            "new_monthly_fee",
            "sent_at",
            "received_on",
            "termination_until",
        ]


class ContractSerializer(StrictFields, serializers.ModelSerializer):
    terms = TermsReferenceField()
    terms_id = serializers.IntegerField(source="terms.id", read_only=True)
    terms_version = serializers.IntegerField(source="terms.version", read_only=True)
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    status = serializers.CharField(read_only=True)
    currency = serializers.CharField(source="terms.currency", read_only=True)
    monthly_fee = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="The fee in force today; when creating, the fee agreed."
    )
    fees = ContractFeeSerializer(many=True, read_only=True, help_text="The fee history (D §15.14).")
    notices = NoticeSerializer(
        many=True,
        read_only=True,
        help_text="Notices of changed terms or fees, with the customer's right to terminate (D §15.14, §28).",
    )

    class Meta:
        model = Contract
        fields = [
            "id",
            "customer",
            "terms",
            "terms_id",
            "terms_version",
            "monthly_fee",
            "fees",
            "one_time_fee",
            "invoiced_from",
            "currency",
            "signed_on",
            "delivered_on",
            "terminated_on",
            "delivery_delay_cause",
            "description",
            "status",
            "notices",
            "created_at",
        ]
        read_only_fields = ["id", "status", "created_at"]

    def to_representation(self, contract):
        data = super().to_representation(contract)
        data["notices"] = NoticeSerializer(contract_notices(contract), many=True).data
        return data


def contract_notices(contract: Contract) -> list[Notice]:
    """The notices that concern a contract: changes of its terms and of its own fee."""
    notices = getattr(contract.customer, "prefetched_notices", None)
    if notices is None:
        notices = list(contract.customer.notices.select_related("terms", "fee"))
    return [
        n
        for n in notices
        if (n.terms_id and n.terms.slug == contract.terms.slug) or (n.fee_id and n.fee.contract_id == contract.pk)
    ]


class ContractFeeChangeSerializer(StrictFields, serializers.Serializer):
    monthly_fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    effective_from = serializers.DateField()
