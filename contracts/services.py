"""Writes for terms, customers, customer users and contracts.

Views, the API, the admin and commands all call these, so every rule is checked in one place.
Each raises django.core.exceptions.ValidationError, keyed by field, and writes nothing when the
input is wrong.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ForeignObjectRel, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contracts import notices, signals
from contracts.clauses import cited_together
from contracts.models import (
    Contract,
    ContractFee,
    Customer,
    CustomerMembership,
    Notice,
    NoticeChannel,
    NoticeKind,
    ServiceTerms,
    terms_editable_fields,
)
from contracts.validation import normalise_org_number
from core import signin
from core.months import add_months


def _full_clean(instance, exclude: list[str] | None = None) -> None:
    # validate_unique runs separately where a service decides what "unique" means.
    instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)


@transaction.atomic
def terms_create(*, slug: str, **fields: Any) -> ServiceTerms:
    if ServiceTerms.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": [_("Terms with the slug %(slug)s exist already.") % {"slug": slug}]})
    terms = ServiceTerms(slug=slug, version=1, **fields)
    _full_clean(terms)
    terms.save()
    return terms


def terms_in_use(terms: ServiceTerms) -> bool:
    """A version anything was made under (a contract signed, a ticket's clock, a stored report,
    a notice sent) is never rewritten (D §28)."""
    for relation in ServiceTerms._meta.get_fields(include_hidden=True):
        if isinstance(relation, ForeignObjectRel) and relation.one_to_many and relation.auto_created:
            # relation.field.model: the model whose foreign key points here (its related_model)
            if relation.field.model._default_manager.filter(**{relation.field.name: terms}).exists():
                return True
    return False


def edited_in_place(terms: ServiceTerms, today: datetime.date, *, newest: ServiceTerms | None = None) -> bool:
    """Only the newest version, with nothing made under it and no customer on its terms, is
    corrected in place; any other change is a new version with its notice (D §28)."""
    newest = newest or ServiceTerms.objects.filter(slug=terms.slug).order_by("-version").first()
    assert newest is not None  # `terms` is one of the versions
    return newest.pk == terms.pk and not terms_in_use(terms) and not affected_customers(terms.slug, today).exists()


def affected_customers(slug: str, on: datetime.date):
    """Customers with a contract on these terms that has not ended."""
    return Customer.objects.filter(
        Q(contracts__terminated_on__isnull=True) | Q(contracts__terminated_on__gt=on),
        contracts__terms__slug=slug,
    ).distinct()


def notice_received_on(
    terms: ServiceTerms, sent_on: datetime.date, channel: str = NoticeChannel.EMAIL
) -> datetime.date:
    """D §25.2: a notice counts as received some days after it was sent (e-mail: 3 days)."""
    days = getattr(terms, f"notice_receipt_days_{channel}")
    return sent_on + datetime.timedelta(days=days or 0)


def earliest_terms_change(terms: ServiceTerms, today: datetime.date) -> datetime.date:
    """D §28: a change takes effect one month (the terms' notice period) after the customer has
    the notice (D §25.2)."""
    months = terms.terms_change_notice_months
    if months is None:
        return today
    return add_months(notice_received_on(terms, today), months)


def _differs(revised: ServiceTerms, other: ServiceTerms) -> bool:
    return any(
        getattr(revised, name) != getattr(other, name) for name in terms_editable_fields() if name != "effective_from"
    )


@transaction.atomic
def terms_revise(
    *,
    terms: ServiceTerms,
    changes: dict[str, Any],
    effective_from: datetime.date | None = None,
    actor=None,
    today: datetime.date | None = None,
) -> ServiceTerms:
    """Change terms. A version nothing was made under yet is edited in place; a version in use
    is never rewritten (D §28): the change becomes a new version, announced to every customer
    with a contract on these terms, in force one notice period after the notice at the earliest
    (default: that earliest date), and the old one stays as it was."""
    today = today or timezone.localdate()
    unknown = set(changes) - set(terms_editable_fields())
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in sorted(unknown)})
    # Lock every version of the template so two revisions cannot both take the next number.
    versions = list(ServiceTerms.objects.select_for_update().filter(slug=terms.slug).order_by("version"))
    newest = versions[-1]
    if edited_in_place(terms, today, newest=newest):
        for name, value in changes.items():
            setattr(terms, name, value)
        if effective_from is not None:
            terms.effective_from = effective_from
        _full_clean(terms)
        terms.save()
        return terms
    revised, customers = terms_revision_plan(terms=terms, changes=changes, effective_from=effective_from, today=today)
    revised.version = newest.version + 1
    revised.save(force_insert=True)
    assert revised.effective_from is not None  # terms_revision_plan dates every new version
    Notice.objects.bulk_create(
        Notice(customer=customer, kind=NoticeKind.TERMS_CHANGE, terms=revised, effective_on=revised.effective_from)
        for customer in customers
    )
    notices.dispatch_after_commit()
    return revised


def terms_revision_plan(
    *, terms: ServiceTerms, changes: dict[str, Any], effective_from: datetime.date | None, today: datetime.date
) -> tuple[ServiceTerms, list[Customer]]:
    """The new version a change of terms in use makes, unsaved, and the customers to notify;
    raises ValidationError (the admin's form and the API show the same words). The change is
    made to the newest version, so that one still pending is carried on, never dropped."""
    newest = ServiceTerms.objects.filter(slug=terms.slug).order_by("-version").first()
    assert newest is not None  # `terms` is one of the versions
    revised = ServiceTerms.objects.get(pk=newest.pk)
    revised.pk = revised.id = None
    for name, value in changes.items():
        if name != "effective_from":
            setattr(revised, name, value)
    _full_clean(revised)
    in_force = ServiceTerms.objects.version_in_force(terms.slug, today) or terms
    for same in {in_force, newest}:
        if not _differs(revised, same):
            raise ValidationError(
                {
                    "__all__": [
                        _("Nothing to change: these are the terms of version %(version)d already.")
                        % {"version": same.version}
                    ]
                }
            )
    customers = list(affected_customers(terms.slug, today))
    earliest = earliest_terms_change(in_force, today) if customers else today
    if effective_from is not None and effective_from < today:
        raise ValidationError(
            {
                "effective_from": [
                    _("A change cannot take effect in the past; the earliest allowed date is %(date)s.")
                    % {"date": earliest.isoformat()}
                ]
            }
        )
    if effective_from is not None and effective_from < earliest:
        raise ValidationError(
            {
                "effective_from": [
                    _(
                        "Customers must have the notice %(months)s before a change takes effect%(ref)s: "
                        "the earliest allowed date is %(date)s."
                    )
                    % {
                        "months": _months_text(in_force.terms_change_notice_months),
                        "date": earliest.isoformat(),
                        "ref": cited_together(in_force, "terms_change", "notice_receipt"),
                    }
                ]
            }
        )
    revised.effective_from = effective_from or earliest
    return revised, customers


def _months_text(months: int | None) -> str:
    return ngettext("%(n)d month", "%(n)d months", months or 0) % {"n": months or 0}


@transaction.atomic
def customer_create(*, name: str, org_number: str, language: str = "sv") -> Customer:
    customer = Customer(name=name, org_number=org_number, language=language)
    _full_clean(customer)
    normalised = normalise_org_number(org_number)
    if Customer.objects.filter(org_number=normalised).exists():
        raise ValidationError({"org_number": [_("A customer with this organisation number exists already.")]})
    customer.save()
    return customer


@transaction.atomic
def customer_user_create(*, customer: Customer, username: str, email: str, password: str | None = None):
    """A user of one customer's organisation (API: POST /api/customers/{id}/users/). Without a
    password, the user is e-mailed a link to choose one (in the customer's language) once the
    user is stored; a mail server that fails is logged, and staff send the link again from the
    admin."""
    User = get_user_model()
    user = User(username=username, email=email)
    errors: dict[str, list[str]] = {}
    try:
        user.full_clean(exclude=["password"], validate_unique=False)
    except ValidationError as error:
        errors.update(error.message_dict)
    if User.objects.filter(username__iexact=username).exists():
        errors.setdefault("username", []).append(_("This user name is taken."))
    if not email:
        errors.setdefault("email", []).append(_("A customer user needs an e-mail address."))
    if password is not None:
        try:
            validate_password(password, user)
        except ValidationError as error:
            errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    user.set_password(password)  # None: an unusable password, until the user chooses one
    user.save()
    CustomerMembership.objects.create(user=user, customer=customer)
    if password is None:
        transaction.on_commit(lambda: signin.send_first_sign_in_link(user, customer.language), robust=True)
    return user


@transaction.atomic
def contract_create(
    *,
    customer: Customer,
    terms: ServiceTerms,
    monthly_fee: Decimal,
    signed_on: datetime.date,
    delivered_on: datetime.date | None = None,
    terminated_on: datetime.date | None = None,
    description: str = "",
    one_time_fee: Decimal = Decimal(0),
    invoiced_from: datetime.date | None = None,
    delivery_delay_cause: str = "",
    actor=None,
) -> Contract:
    """A contract, with the monthly fee agreed as the first row of its fee history."""
    contract = Contract(
        customer=customer,
        terms=terms,
        signed_on=signed_on,
        delivered_on=delivered_on,
        terminated_on=terminated_on,
        description=description,
        one_time_fee=one_time_fee,
        invoiced_from=invoiced_from,
        delivery_delay_cause=delivery_delay_cause,
    )
    errors = _contract_errors(contract)
    if monthly_fee is None or monthly_fee < 0:
        errors.setdefault("monthly_fee", []).append(_("The monthly fee cannot be negative."))
    if errors:
        raise ValidationError(errors)
    contract.save()
    ContractFee.objects.create(
        contract=contract, effective_from=signed_on, monthly_fee=monthly_fee, created_by=_user(actor)
    )
    # Signed while a change of these terms is announced: the customer gets its notice too (D §28).
    pending = ServiceTerms.objects.filter(
        slug=terms.slug, version__gt=terms.version, effective_from__gt=timezone.localdate()
    )
    created = [
        Notice.objects.get_or_create(
            customer=customer,
            terms=version,
            defaults={"kind": NoticeKind.TERMS_CHANGE, "effective_on": version.effective_from},
        )[1]
        for version in pending
    ]
    if any(created):
        notices.dispatch_after_commit()
    return contract


CONTRACT_FIELDS = (
    "signed_on",
    "delivered_on",
    "terminated_on",
    "description",
    "one_time_fee",
    "invoiced_from",
    "delivery_delay_cause",
)


@transaction.atomic
def contract_update(*, contract: Contract, changes: dict[str, Any], actor=None) -> Contract:
    """Change a contract's dates or delivery record. Stored monthly figures that depend on them
    become stale and are recomputed (with who and why)."""
    unknown = set(changes) - set(CONTRACT_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed here.")] for name in sorted(unknown)})
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    before = {name: getattr(contract, name) for name in changes}
    for name, value in changes.items():
        setattr(contract, name, value)
    contract_validate(contract)
    contract.save()
    changed = sorted(name for name in changes if before[name] != changes[name])
    dates = [
        d for name in ("delivered_on", "terminated_on") if name in changed for d in (before[name], changes[name]) if d
    ]
    if dates:
        signals.service_changed.send(
            Contract,
            contract=contract,
            since=min(dates),
            actor=_user(actor),
            reason=f"contract {contract.pk} changed: {', '.join(changed)}",
        )
    return contract


@transaction.atomic
def contract_fee_change(
    *,
    contract: Contract,
    monthly_fee: Decimal,
    effective_from: datetime.date,
    actor=None,
    today: datetime.date | None = None,
) -> ContractFee:
    """A new monthly fee from a date (D §15.14). History is never rewritten: the date is today or
    later. A rise reaches the customer as a notice, and takes effect the terms' notice period
    after the customer has it (D §25.2) at the earliest; the customer may then terminate."""
    today = today or timezone.localdate()
    contract = Contract.objects.select_for_update().select_related("customer", "terms").get(pk=contract.pk)
    check_fee_change(contract=contract, monthly_fee=monthly_fee, effective_from=effective_from, today=today)
    rise = monthly_fee > contract.fee_on(effective_from)
    fee = ContractFee.objects.create(
        contract=contract, effective_from=effective_from, monthly_fee=monthly_fee, created_by=_user(actor)
    )
    if rise and contract.status_on(today) != "terminated":
        Notice.objects.create(
            customer=contract.customer, kind=NoticeKind.FEE_CHANGE, fee=fee, effective_on=effective_from
        )
        notices.dispatch_after_commit()
    signals.service_changed.send(
        Contract,
        contract=contract,
        since=effective_from,
        actor=_user(actor),
        reason=f"contract {contract.pk}: monthly fee {monthly_fee} from {effective_from.isoformat()}",
    )
    return fee


def check_fee_change(
    *, contract: Contract, monthly_fee: Decimal, effective_from: datetime.date, today: datetime.date
) -> None:
    """Raises ValidationError, keyed by field, when a change of fee may not be made as given."""
    errors: dict[str, list[str]] = {}
    if monthly_fee is None or monthly_fee < 0:
        errors["monthly_fee"] = [_("The monthly fee cannot be negative.")]
    if effective_from < today:
        errors["effective_from"] = [_("A fee cannot change in the past; give today or a later date.")]
    elif contract.terminated_on is not None and effective_from >= contract.terminated_on:
        errors["effective_from"] = [_("The contract ends on %(date)s.") % {"date": contract.terminated_on.isoformat()}]
    elif contract.fees.filter(effective_from=effective_from).exists():
        errors["effective_from"] = [
            _("A fee from %(date)s is recorded already.") % {"date": effective_from.isoformat()}
        ]
    if errors:
        raise ValidationError(errors)
    previous = contract.fee_on(effective_from)
    if monthly_fee == previous:
        raise ValidationError({"monthly_fee": [_("The fee on that date is %(fee)s already.") % {"fee": previous}]})
    terms = contract.terms_in_force(today)
    if monthly_fee > previous and terms.price_change_notice_days is not None:
        earliest = notice_received_on(terms, today) + datetime.timedelta(days=terms.price_change_notice_days)
        if effective_from < earliest:
            raise ValidationError(
                {
                    "effective_from": [
                        _(
                            "A higher fee needs %(days)d days' notice to the customer%(ref)s: the earliest allowed date is %(date)s."
                        )
                        % {
                            "days": terms.price_change_notice_days,
                            "date": earliest.isoformat(),
                            "ref": cited_together(terms, "price_change", "notice_receipt"),
                        }
                    ]
                }
            )


def contract_in_use(contract: Contract) -> bool:
    """Anything recorded under the contract besides its own fee history."""
    for relation in Contract._meta.get_fields(include_hidden=True):
        if (
            isinstance(relation, ForeignObjectRel)
            and relation.one_to_many
            and relation.auto_created
            and relation.related_model is not ContractFee
        ):
            # relation.field.model: the model whose foreign key points here (its related_model)
            if relation.field.model._default_manager.filter(**{relation.field.name: contract}).exists():
                return True
    return Notice.objects.filter(fee__contract=contract).exists()


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def contract_validate(contract: Contract) -> None:
    errors = _contract_errors(contract)
    if errors:
        raise ValidationError(errors)


def _contract_errors(contract: Contract) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    try:
        _full_clean(contract)
    except ValidationError as error:
        errors.update(error.message_dict)
    today = timezone.localdate()
    if contract.signed_on and contract.signed_on > today:
        errors.setdefault("signed_on", []).append(_("A contract cannot be signed in the future."))
    if contract.delivered_on and contract.signed_on and contract.delivered_on < contract.signed_on:
        errors.setdefault("delivered_on", []).append(
            _("The service cannot be delivered before the contract was signed.")
        )
    if contract.delivered_on and contract.delivered_on > today:
        errors.setdefault("delivered_on", []).append(
            _("The delivery date cannot be in the future; set it when the service is delivered.")
        )
    if contract.terminated_on and contract.signed_on and contract.terminated_on < contract.signed_on:
        errors.setdefault("terminated_on", []).append(_("A contract cannot end before it was signed."))
    if contract.invoiced_from and contract.signed_on and contract.invoiced_from < contract.signed_on:
        errors.setdefault("invoiced_from", []).append(_("Fees cannot be invoiced before the contract was signed."))
    if contract.one_time_fee is not None and contract.one_time_fee < 0:
        errors.setdefault("one_time_fee", []).append(_("A fee cannot be negative."))
    return errors
