import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from contracts.models import ContactPerson, Contract, ContractFee, Customer, CustomerMembership, ServiceTerms


def _valid_finnish_business_id(n: int) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2)
    base = n
    while True:
        digits = f"{base:07d}"
        remainder = sum(int(d) * w for d, w in zip(digits, weights)) % 11
        if remainder != 1:
            return f"{digits}-{0 if remainder == 0 else 11 - remainder}"
        base += 1


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Kund {n} Ab")
    # Spread far apart so that the check-digit skip in _valid_finnish_business_id never collides.
    org_number = factory.Sequence(lambda n: _valid_finnish_business_id(1000000 + n * 10))
    language = "sv"


class CustomerUserFactory(factory.django.DjangoModelFactory):
    """A user of a customer's organisation: `CustomerUserFactory(customer=...)`."""

    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@customer.example")

    @classmethod
    def _create(cls, model_class, *args, customer=None, **kwargs):
        user = model_class.objects.create_user(*args, password="x-customer-pass-42", **kwargs)
        CustomerMembership.objects.create(user=user, customer=customer or CustomerFactory())
        return user


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    customer = factory.SubFactory(CustomerFactory)
    terms = factory.LazyFunction(lambda: ServiceTerms.objects.get(slug="dstny-alcom-2022"))
    signed_on = datetime.date(2025, 3, 1)
    delivered_on = datetime.date(2025, 4, 15)

    @classmethod
    def _create(cls, model_class, *args, monthly_fee=Decimal("500.00"), **kwargs):
        """The fee agreed is the first row of the fee history, from the signing date."""
        contract = model_class.objects.create(*args, **kwargs)
        ContractFee.objects.create(contract=contract, effective_from=contract.signed_on, monthly_fee=monthly_fee)
        return contract


def ensure_seed_terms() -> None:
    """Tests on a flushed database (live server tests) put the seed terms back as migrated."""
    import importlib

    from django.apps import apps

    importlib.import_module("contracts.migrations.0002_seed_terms").create_seed_terms(apps, None)
    importlib.import_module("contracts.migrations.0003_fees_notices_and_terms").seed_terms_clauses(apps, None)
    importlib.import_module("contracts.migrations.0008_clause_references").fill_seed_clauses(apps, None)


class ContactPersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPerson

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"Kontakt {n}")
    email = factory.Sequence(lambda n: f"kontakt{n}@customer.example")


def fault_report(contract, actor=None, moment: datetime.datetime | None = None, **overrides):
    """A fault report from the portal on an Åland (Dstny) contract, received at `moment` (now
    when not given), its fault five minutes earlier; `overrides` change any argument."""
    import time_machine
    from django.utils import timezone

    from tickets import services

    moment = moment or timezone.now()
    arguments = {
        "contract": contract,
        "reported_by": actor,
        "channel": "web",
        "a_number": "018 12345",
        "b_number": "040 123 4567",
        "fault_occurred_at": moment - datetime.timedelta(minutes=5),
        "description": "Samtal kopplas inte fram.",
        "now": moment,
        **overrides,
    }
    with time_machine.travel(moment, tick=False):
        return services.ticket_create(**arguments)
