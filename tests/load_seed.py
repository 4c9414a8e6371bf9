"""The reporters of the load test on a database of its own (`python -m tests.load_seed`, run
with that database's DATABASE_URL after `manage.py migrate`): two customers on the two seed
terms and a staff member, each with an API token. Prints them as JSON: [[token, contract id,
A-number], ...]."""

import json
import os


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    from contracts.models import ServiceTerms
    from tests.factories import ContractFactory, CustomerFactory, CustomerUserFactory

    with transaction.atomic():
        contract_a = ContractFactory(customer=CustomerFactory(name="Alfa Ab"))
        contract_b = ContractFactory(
            customer=CustomerFactory(name="Beta AB"), terms=ServiceTerms.objects.get(slug="telia-smart-connect")
        )
        staff = get_user_model().objects.create_user("staffer", email="staffer@desk.example", is_staff=True)
        reporters = [
            (CustomerUserFactory(customer=contract_a.customer, username="alfa-load"), contract_a, "018 12345"),
            (CustomerUserFactory(customer=contract_b.customer, username="beta-load"), contract_b, "08-123 456 78"),
            (staff, contract_a, "018 12345"),
        ]
        print(
            json.dumps(
                [[Token.objects.create(user=user).key, contract.pk, number] for user, contract, number in reporters]
            )
        )


if __name__ == "__main__":
    main()
