"""Demo data: customers on both seed terms, their users, and a staff user.

Safe to run again: what exists is left as it is.
"""

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from contracts import services
from contracts.models import ContactPerson, Customer, CustomerMembership, ServiceTerms

STAFF = ("staff", "staff@servicedesk.example", "demo-staff-pass")

CUSTOMERS = [
    # name, org number, language, terms slug, monthly fee, signed days ago, delivered days ago,
    # contact (name, e-mail, phone), users [(username, password)]
    (
        "Mariehamns Rederi Ab",
        "0145632-5",
        "sv",
        "dstny-alcom-2022",
        Decimal("1250.00"),
        400,
        350,
        ("Anna Eriksson", "anna.eriksson@rederi.example", "+35818123456"),
        [("rederi", "demo-rederi-pass")],
    ),
    (
        "Ålands Bokföring Ab",
        "2345678-0",
        "sv",
        "dstny-alcom-2022",
        Decimal("420.00"),
        60,
        None,
        ("Johan Karlsson", "johan@bokforing.example", "+35818765432"),
        [("bokforing", "demo-bokforing-pass")],
    ),
    (
        "Nordic Freight Oy",
        "1572860-0",
        "en",
        "dstny-alcom-2022",
        Decimal("2890.50"),
        730,
        690,
        ("Mikko Virtanen", "mikko.virtanen@freight.example", "+358401234567"),
        [("freight", "demo-freight-pass")],
    ),
    (
        "Västerås Bygg AB",
        "556677-8899",
        "sv",
        "telia-smart-connect",
        Decimal("5400.00"),
        300,
        250,
        ("Karin Lind", "karin.lind@vasterasbygg.example", "+46701234567"),
        [("bygg", "demo-bygg-pass"), ("bygg2", "demo-bygg2-pass")],
    ),
    (
        "Göteborgs Tandvård AB",
        "559012-3450",
        "sv",
        "telia-smart-connect",
        Decimal("1980.00"),
        120,
        80,
        ("Erik Holm", "erik.holm@tandvard.example", "+46317654321"),
        [("tandvard", "demo-tandvard-pass")],
    ),
]


class Command(BaseCommand):
    help = "Load demo customers, contracts and users (idempotent), and print the logins."

    @transaction.atomic
    def handle(self, *args, **options):
        User = get_user_model()
        today = timezone.localdate()
        logins = []

        staff, created = User.objects.get_or_create(
            username=STAFF[0], defaults={"email": STAFF[1], "is_staff": True, "is_superuser": True}
        )
        if created:
            staff.set_password(STAFF[2])
            staff.save()
        Token.objects.get_or_create(user=staff)
        logins.append(("staff (admin)", STAFF[0], STAFF[2], "–"))

        for name, org, language, slug, fee, signed_ago, delivered_ago, contact, users in CUSTOMERS:
            customer, created = Customer.objects.get_or_create(
                org_number=org, defaults={"name": name, "language": language}
            )
            if created:
                ContactPerson.objects.create(
                    customer=customer,
                    name=contact[0],
                    email=contact[1],
                    phone=contact[2],
                    is_primary=True,
                )
                terms = ServiceTerms.objects.version_in_force(slug)
                services.contract_create(
                    customer=customer,
                    terms=terms,
                    monthly_fee=fee,
                    signed_on=today - datetime.timedelta(days=signed_ago),
                    delivered_on=(
                        today - datetime.timedelta(days=delivered_ago)
                        if delivered_ago is not None
                        else None
                    ),
                )
            for username, password in users:
                user, created = User.objects.get_or_create(
                    username=username, defaults={"email": f"{username}@{contact[1].split('@')[1]}"}
                )
                if created:
                    user.set_password(password)
                    user.save()
                    CustomerMembership.objects.create(user=user, customer=customer)
                logins.append((customer.name, username, password, slug))

        self.stdout.write(self.style.SUCCESS("Demo data is in place. Sign in with:"))
        width = max(len(row[0]) for row in logins)
        for who, username, password, slug in logins:
            self.stdout.write(f"  {who:<{width}}  {username:<10} {password:<22} {slug}")
        token = Token.objects.get(user=staff).key
        self.stdout.write(f"  API token of {STAFF[0]}: {token}")
