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
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.models import Contract, Customer, CustomerMembership, ServiceTerms
from contracts.validation import normalise_org_number

TERMS_IDENTITY_FIELDS = {"slug", "version", "id", "pk", "created_at"}


def _full_clean(instance, exclude: list[str] | None = None) -> None:
    # validate_unique runs separately where a service decides what "unique" means.
    instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)


def terms_editable_fields() -> list[str]:
    return [
        f.name
        for f in ServiceTerms._meta.concrete_fields
        if f.name not in TERMS_IDENTITY_FIELDS
    ]


@transaction.atomic
def terms_create(*, slug: str, **fields: Any) -> ServiceTerms:
    if ServiceTerms.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": [_("Terms with the slug %(slug)s exist already.") % {"slug": slug}]})
    terms = ServiceTerms(slug=slug, version=1, **fields)
    _full_clean(terms)
    terms.save()
    return terms


def terms_in_use(terms: ServiceTerms) -> bool:
    return terms.contracts.exists()


@transaction.atomic
def terms_revise(
    *, terms: ServiceTerms, changes: dict[str, Any], effective_from: datetime.date | None = None
) -> ServiceTerms:
    """Change terms. A version no contract uses yet is edited in place; a version in use is
    never rewritten (D §28): the change becomes a new version, in force from `effective_from`
    (default: today), and the old one stays as it was for everything computed under it."""
    unknown = set(changes) - set(terms_editable_fields())
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in sorted(unknown)})
    # Lock every version of the template so two revisions cannot both take the next number.
    versions = list(ServiceTerms.objects.select_for_update().filter(slug=terms.slug).order_by("version"))
    newest = versions[-1]
    if newest.pk == terms.pk and not terms_in_use(terms):
        for name, value in changes.items():
            setattr(terms, name, value)
        if effective_from is not None:
            terms.effective_from = effective_from
        _full_clean(terms)
        terms.save()
        return terms

    revised = ServiceTerms.objects.get(pk=terms.pk)
    revised.pk = None
    revised.id = None
    revised.version = newest.version + 1
    revised.effective_from = effective_from or timezone.localdate()
    for name, value in changes.items():
        if name != "effective_from":
            setattr(revised, name, value)
    _full_clean(revised)
    revised.save(force_insert=True)
    return revised


@transaction.atomic
def customer_create(*, name: str, org_number: str, language: str = "sv") -> Customer:
    customer = Customer(name=name, org_number=org_number, language=language)
    _full_clean(customer)
    normalised = normalise_org_number(org_number)
    if Customer.objects.filter(org_number=normalised).exists():
        raise ValidationError(
            {"org_number": [_("A customer with this organisation number exists already.")]}
        )
    customer.save()
    return customer


@transaction.atomic
def customer_user_create(
    *, customer: Customer, username: str, email: str, password: str
):
    """A user of one customer's organisation (API: POST /api/customers/{id}/users/)."""
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
    try:
        validate_password(password, user)
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    user.save()
    CustomerMembership.objects.create(user=user, customer=customer)
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
) -> Contract:
    contract = Contract(
        customer=customer,
        terms=terms,
        monthly_fee=monthly_fee,
        signed_on=signed_on,
        delivered_on=delivered_on,
        terminated_on=terminated_on,
        description=description,
    )
    contract_validate(contract)
    contract.save()
    return contract


def contract_validate(contract: Contract) -> None:
    errors: dict[str, list[str]] = {}
    try:
        _full_clean(contract)
    except ValidationError as error:
        errors.update(error.message_dict)
    today = timezone.localdate()
    if contract.monthly_fee is not None and contract.monthly_fee < 0:
        errors.setdefault("monthly_fee", []).append(_("The monthly fee cannot be negative."))
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
        errors.setdefault("terminated_on", []).append(
            _("A contract cannot end before it was signed.")
        )
    if errors:
        raise ValidationError(errors)
