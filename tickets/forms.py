from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable
from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contracts.clauses import cited_common
from contracts.models import Contract, Customer
from core.idempotency import form_token
from tickets import attachments, bulk, selectors, services
from tickets.models import (
    Category,
    Channel,
    Classification,
    CloseReason,
    NotFaultReason,
    Satisfaction,
    StaffPreferences,
    Ticket,
)


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock time typed in a form; the form gives it the contract's time zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local", "step": 60}, format="%Y-%m-%dT%H:%M")
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]

    def to_python(self, value):
        # Kept naive here: which zone it is in depends on the contract chosen in the same form.
        result = super().to_python(value)
        if result is not None and result.tzinfo is not None:
            result = result.replace(tzinfo=None)
        return result


def localise(naive: datetime.datetime | None, contract: Contract) -> datetime.datetime | None:
    if naive is None:
        return None
    # fold=0: an ambiguous autumn hour is read as its first occurrence.
    return naive.replace(tzinfo=zoneinfo.ZoneInfo(contract.terms.timezone))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; their types and sizes are checked by tickets.attachments."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class LoadedChoices(ModelChoiceIterator):
    """The choices of a ContractChoiceField: its contracts as they were read for the form."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for contract in self._loaded():
            yield self.choice(contract)

    def __len__(self):
        return len(self._loaded()) + (1 if self.field.empty_label is not None else 0)

    def __bool__(self):
        return self.field.empty_label is not None or bool(self._loaded())

    def _loaded(self) -> list[Contract]:
        return list((getattr(self.field, "loaded", None) or {}).values())


class ContractChoiceField(forms.ModelChoiceField):
    # The form's own contracts, read once to build it: the one chosen is taken from them, and
    # they are the choices shown.
    loaded: dict[int, Contract] | None = None
    iterator = LoadedChoices

    def to_python(self, value):
        if self.loaded is None or value in self.empty_values or isinstance(value, Contract):
            return super().to_python(value)
        try:
            contract = self.loaded.get(Contract._meta.pk.to_python(value))
        except ValidationError:
            contract = None
        if contract is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return contract

    def label_from_instance(self, contract: Contract) -> str:
        label = f"{contract.terms.name}"
        if contract.description:
            label = f"{contract.description} – {label}"
        return label


class FaultReportForm(forms.Form):
    """The customer's fault report (D §16.8–16.9). A and B carry the contract's meaning (D §2).
    Every problem is found in one round: the form's own checks and the service's (numbers,
    times, the delivery window) are shown together."""

    required_css_class = "required"

    contract = ContractChoiceField(label=_("Contract"), queryset=Contract.objects.none(), empty_label=None)
    category = forms.ChoiceField(
        label=_("What is it about?"), choices=Category.choices, initial=Category.FAULT, widget=forms.RadioSelect
    )
    a_number = forms.CharField(
        label=_("A-number: the number that was called"),
        required=False,
        max_length=40,
        help_text=_("The number the user was called on%(ref)s, e.g. 018-123 45."),
    )
    b_number = forms.CharField(
        label=_("B-number: the calling number"),
        required=False,
        max_length=40,
        help_text=_("The number the call came from%(ref)s, e.g. 070-123 45 67."),
    )
    fault_occurred_at = LocalDateTimeField(
        label=_("Date and time of the fault"),
        required=False,
        help_text=_("Local time of the contract's terms."),
    )
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20000,
        help_text=_("What happened, to whom, and what you have tried."),
    )
    urgent = forms.BooleanField(
        label=_("Urgent"),
        required=False,
        help_text=_(
            "Urgent means a mobile subscription must be blocked, or the fault hits many or all "
            "users in your organisation%(ref)s. For urgent cases you may also call support."
        ),
    )
    attachments = MultipleFileField(label=_("Attachments"), help_text=_("Screenshots or logs."))
    # A one-time token: the same form sent twice (a double click, a reload) makes one ticket.
    once = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, contracts: Iterable[Contract], **kwargs):
        """`contracts`: those the reader may report on, with their terms (`with_terms`)."""
        super().__init__(*args, **kwargs)
        self.fields["once"].initial = form_token()
        contract = cast(ContractChoiceField, self.fields["contract"])
        self.contracts: list[Contract] = list(contracts)
        contract.loaded = {c.pk: c for c in self.contracts}
        for name in ("a_number", "b_number", "fault_occurred_at"):
            setattr(self.fields[name], "fault_required", True)  # marked: required when it is a fault
        # The references of the contracts' terms; none when the customer's contracts differ.
        terms = [c.terms for c in self.contracts]
        for name, key in (("a_number", "numbers_defined"), ("b_number", "numbers_defined"), ("urgent", "urgent")):
            field = self.fields[name]
            field.help_text = field.help_text % {"ref": cited_common(terms, key)}
        if len(self.contracts) == 1:
            contract.widget = forms.HiddenInput()
            contract.initial = self.contracts[0].pk

    def arrival(self) -> datetime.datetime | None:
        return timezone.now()

    def clean(self):
        data = super().clean()
        assert data is not None  # a form's clean() gives its cleaned_data
        checked, refused = attachments.upload_problems(data.get("attachments") or [])
        for message in refused:
            self.add_error("attachments", message)
        if not refused:
            data["attachments"] = checked  # the service takes them as checked
        contract = data.get("contract")
        received_at = self.arrival() if contract is not None else None
        if contract is None or received_at is None:
            return data
        errors, _numbers, _terms = services.report_problems(
            contract=contract,
            category=data.get("category") or Category.FAULT,
            channel=Channel.WEB,
            description=data.get("description") or self.data.get("description") or "",
            a_number=data.get("a_number") or "",
            b_number=data.get("b_number") or "",
            fault_occurred_at=localise(data.get("fault_occurred_at"), contract),
            received_at=received_at,
            now=timezone.now(),
        )
        for field, messages in errors.items():
            if field in self.fields and field not in self.errors:
                for message in messages:
                    self.add_error(field, message)
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        contract = data["contract"]
        return {
            "contract": contract,
            "category": data["category"],
            "urgent": data["urgent"],
            "a_number": data["a_number"],
            "b_number": data["b_number"],
            "fault_occurred_at": localise(data["fault_occurred_at"], contract),
            "description": data["description"],
        }


class PhoneReportForm(FaultReportForm):
    """Staff register a report that came by phone, with its real arrival time (D §16.8)."""

    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.order_by("name"))
    received_at = LocalDateTimeField(label=_("Arrived at"), help_text=_("When the call came in (local time)."))
    field_order = ["customer", "contract", "received_at", "category"]

    def __init__(self, *args, **kwargs):
        contracts = Contract.objects.select_related("terms", "customer").order_by("customer__name", "id")
        super().__init__(*args, contracts=contracts, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["contract"])
        field.widget = forms.Select()
        field.empty_label = "–"
        setattr(  # this field's own labels (mypy takes no method assigned to one instance)
            field, "label_from_instance", lambda c: f"{c.customer.name} – {c.description or c.terms.name} (#{c.pk})"
        )
        field.widget.choices = field.choices  # the new widget's

    def arrival(self) -> datetime.datetime | None:
        """The call's time; while it is missing (its own error says so) the rest is checked as of now."""
        contract, local = self.cleaned_data.get("contract"), self.cleaned_data.get("received_at")
        if contract is None:
            return None
        return localise(local, contract) if local is not None else timezone.now()

    def clean(self):
        data = super().clean()
        customer, contract = data.get("customer"), data.get("contract")
        if customer and contract and contract.customer_id != customer.pk:
            self.add_error("contract", _("This contract belongs to another customer."))
        return data

    def service_arguments(self) -> dict:
        arguments = super().service_arguments()
        arguments["received_at"] = localise(self.cleaned_data["received_at"], self.cleaned_data["contract"])
        return arguments


class MessageForm(forms.Form):
    """The customer's message on a ticket."""

    required_css_class = "required"
    message = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 4}), max_length=20000)
    attachments = MultipleFileField(label=_("Attachments"))


class WithdrawForm(forms.Form):
    """The customer takes a report back, saying why if they like."""

    message = forms.CharField(
        label=_("Why (optional)"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: the fault went away, or it was in our own equipment."),
    )


class WatcherForm(forms.Form):
    """Whom of the customer's own people to add to a ticket's e-mails: its users and contact
    persons with an address, other than those who receive them already. What is chosen is
    checked again by tickets.services.watcher_add."""

    colleague = forms.CharField(label=_("Colleague"), widget=forms.Select, max_length=40)

    def __init__(self, *args, ticket: Ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["colleague"].widget.choices = [("", "–"), *selectors.watcher_candidates(ticket)]

    def clean_colleague(self) -> tuple[str, int]:
        kind, _sep, pk = self.cleaned_data["colleague"].partition(":")
        if kind not in ("user", "contact") or not pk.isascii() or not pk.isdigit() or len(pk) > 12:
            raise forms.ValidationError(_("Choose a colleague from the list."))
        return kind, int(pk)


class SatisfactionForm(forms.Form):
    """The answer to "How did we do?": good or bad, and a few words if the customer likes."""

    score = forms.ChoiceField(label=_("How did we do?"), choices=Satisfaction.Score.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("Comment (optional)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ComposeForm(forms.Form):
    """The desk's one message box: a reply or an internal note, a question to the customer or the
    resolution, by the button pressed. The service says what each needs written."""

    message = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 5}), max_length=20000, required=False
    )
    attachments = MultipleFileField(label=_("Attachments"))
    internal = forms.BooleanField(label=_("Internal note (staff only)"), required=False)


class ClassifyForm(forms.Form):
    required_css_class = "required"
    classification = forms.ChoiceField(label=_("Classification"), choices=[("", "–"), *Classification.choices])
    not_fault_reason = forms.ChoiceField(
        label=_("Reason it is not a fault"), choices=[("", "–"), *NotFaultReason.choices], required=False
    )


class TicketNumberField(forms.CharField):
    """A ticket typed by its number, as staff read it on the page (any case, spaces around)."""

    def clean(self, value):
        number = super().clean(value).strip().upper()
        if not number:
            return None
        ticket = Ticket.objects.filter(number=number).first()
        if ticket is None:
            raise forms.ValidationError(_("No ticket has the number %(number)s."), params={"number": number})
        return ticket


def _require_original(form: forms.Form, data: dict) -> dict:
    if (
        data.get("close_reason") == CloseReason.DUPLICATE
        and not data.get("duplicate_of")
        and "duplicate_of" not in form.errors
    ):
        form.add_error("duplicate_of", _("Name the ticket this one repeats."))
    return data


class CloseForm(forms.Form):
    close_reason = forms.ChoiceField(
        label=_("Close reason"), choices=[("", _("Automatic")), *CloseReason.choices], required=False
    )
    duplicate_of = TicketNumberField(
        label=_("Duplicate of"),
        required=False,
        max_length=32,
        help_text=_("For a duplicate: the number of the ticket it repeats."),
    )

    def clean(self):
        data = super().clean()
        assert data is not None  # a form's clean() gives its cleaned_data
        return _require_original(self, data)


class BulkForm(forms.Form):
    """One change to the tickets ticked in the queue, made ticket by ticket through the services."""

    ASSIGN, CLASSIFY, DUPLICATE = "assign", "classify", "duplicate"

    action = forms.ChoiceField(
        label=_("Change"),
        choices=[(ASSIGN, _("Assign")), (CLASSIFY, _("Classify")), (DUPLICATE, _("Close as a duplicate"))],
    )
    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        required=False,
        empty_label=_("Nobody"),
        queryset=selectors.active_staff(),
    )
    classification = forms.ChoiceField(
        label=_("Classification"), choices=[("", "–"), *Classification.choices], required=False
    )
    not_fault_reason = forms.ChoiceField(
        label=_("Reason it is not a fault"), choices=[("", "–"), *NotFaultReason.choices], required=False
    )
    duplicate_of = TicketNumberField(label=_("Duplicate of"), required=False, max_length=32)

    def __init__(self, data=None, **kwargs):
        self.tickets = bulk.ticked(data) if data is not None else []
        super().__init__(data, **kwargs)

    def clean(self):
        data = super().clean()
        assert data is not None  # a form's clean() gives its cleaned_data
        if problem := bulk.problem(self.tickets):
            self.add_error(None, problem)
        data["tickets"] = self.tickets
        if data.get("action") == self.CLASSIFY and not data.get("classification"):
            self.add_error("classification", _("Choose a classification."))
        if data.get("action") == self.DUPLICATE:
            _require_original(self, {**data, "close_reason": CloseReason.DUPLICATE})
        return data


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        queryset=selectors.active_staff(),
        required=False,
        empty_label=_("Nobody"),
    )


class TimeLogForm(forms.Form):
    required_css_class = "required"
    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=24 * 60)
    worked_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class StaffPreferencesForm(forms.ModelForm):
    class Meta:
        model = StaffPreferences
        fields = ["email_new_report", "notice_new_report", "email_customer_reply", "notice_customer_reply", "language"]
