import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from contracts.models import Contract, Customer, CustomerMembership
from tests.factories import ContractFactory, CustomerFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_staff_create_a_customer_its_user_and_a_contract(staff_api, dstny):
    response = staff_api.post("/api/customers/", {"name": "Sjöfart Ab", "org_number": "0145632 5"}, format="json")
    assert response.status_code == 201, response.json()
    customer = response.json()
    assert customer["org_number"] == "0145632-5"

    response = staff_api.post(
        f"/api/customers/{customer['id']}/users/",
        {"username": "sjofart", "email": "it@sjofart.example", "password": "hamnen-2026-lots"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert "password" not in response.json()
    assert response.json()["customer"] == customer["id"]
    user = User.objects.get(username="sjofart")
    assert user.check_password("hamnen-2026-lots")
    assert not user.is_staff

    response = staff_api.post(
        "/api/contracts/",
        {
            "customer": customer["id"],
            "terms": "dstny-alcom-2022",
            "monthly_fee": "1250.50",
            "signed_on": "2026-01-15",
            "delivered_on": "2026-03-02",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    contract = response.json()
    assert contract["terms"] == "dstny-alcom-2022"
    assert contract["terms_id"] == dstny.pk
    assert contract["monthly_fee"] == "1250.50"
    assert contract["currency"] == "EUR"
    assert contract["status"] == "active"


def test_a_contract_may_name_its_terms_by_id(staff_api, customer_a, telia):
    response = staff_api.post(
        "/api/contracts/",
        {"customer": customer_a.pk, "terms": telia.pk, "monthly_fee": "10.00", "signed_on": "2026-01-01"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["terms"] == "telia-smart-connect"
    assert response.json()["status"] == "awaiting_delivery"


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"delivered_on": "2025-12-31"}, "delivered_on", "before the contract was signed"),
        ({"terms": "no-such-terms"}, "terms", "No terms have the slug no-such-terms"),
        ({"terms": 987654}, "terms", "No terms have the id 987654"),
        ({"monthly_fee": "-5.00"}, "monthly_fee", ""),
        ({"signed_on": "2099-01-01", "delivered_on": None}, "signed_on", "future"),
        ({"delivered_on": "2099-01-01"}, "delivered_on", "future"),
        ({"customer": 987654}, "customer", ""),
        ({"signed_on": "15.1.2026"}, "signed_on", ""),
    ],
)
def test_bad_contracts_are_refused_on_the_field_and_nothing_is_written(staff_api, customer_a, changes, field, fragment):
    payload = {
        "customer": customer_a.pk,
        "terms": "dstny-alcom-2022",
        "monthly_fee": "100.00",
        "signed_on": "2026-01-15",
        "delivered_on": "2026-02-01",
    }
    payload.update(changes)
    with time_machine.travel(datetime.datetime(2026, 11, 23, 10, tzinfo=datetime.UTC), tick=False):
        response = staff_api.post("/api/contracts/", payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert field in body, body
    assert any(fragment in message for message in body[field]), body[field]
    assert Contract.objects.count() == 0


def test_a_taken_user_name_is_refused_whatever_its_case(staff_api, customer_a, customer_a_user):
    response = staff_api.post(
        f"/api/customers/{customer_a.pk}/users/",
        {"username": "ALFA-USER", "email": "other@alfa.example", "password": "hamnen-2026-lots"},
        format="json",
    )
    assert response.status_code == 400
    assert "taken" in response.json()["username"][0]
    assert User.objects.filter(username__iexact="alfa-user").count() == 1


def test_a_weak_password_is_refused_and_no_user_is_made(staff_api, customer_a):
    response = staff_api.post(
        f"/api/customers/{customer_a.pk}/users/",
        {"username": "newbie", "email": "newbie@alfa.example", "password": "12345678"},
        format="json",
    )
    assert response.status_code == 400
    assert "password" in response.json()
    assert not User.objects.filter(username="newbie").exists()


@pytest.mark.parametrize(
    ("org_number", "fragment"),
    [("556677-8898", "check digit"), ("0145632-4", "check digit"), ("12-34", "Swedish organisation number")],
)
def test_bad_organisation_numbers_are_refused(staff_api, org_number, fragment):
    response = staff_api.post("/api/customers/", {"name": "X", "org_number": org_number}, format="json")
    assert response.status_code == 400
    assert any(fragment in m for m in response.json()["org_number"])
    assert not Customer.objects.exists()


def test_a_customer_is_registered_once(staff_api, customer_a):
    response = staff_api.post("/api/customers/", {"name": "Again", "org_number": customer_a.org_number}, format="json")
    assert response.status_code == 400
    assert "exists already" in response.json()["org_number"][0]


def test_a_user_belongs_to_at_most_one_customer(customer_a_user, customer_b):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerMembership.objects.create(user=customer_a_user, customer=customer_b)


def test_customer_users_see_only_their_own_customer_and_contracts(
    customer_a_api, customer_a, customer_b, contract_a, contract_b
):
    customers = customer_a_api.get("/api/customers/").json()
    assert [c["id"] for c in customers["results"]] == [customer_a.pk]
    contracts = customer_a_api.get("/api/contracts/").json()
    assert [c["id"] for c in contracts["results"]] == [contract_a.pk]
    assert customer_a_api.get(f"/api/contracts/{contract_b.pk}/").status_code == 404
    assert customer_a_api.get(f"/api/customers/{customer_b.pk}/").status_code == 404


def test_customer_users_cannot_create_or_list_users(customer_a_api, customer_a):
    assert customer_a_api.post("/api/customers/", {"name": "X", "org_number": "2345678-0"}).status_code == 403
    assert customer_a_api.get(f"/api/customers/{customer_a.pk}/users/").status_code == 403
    response = customer_a_api.post(
        "/api/contracts/",
        {"customer": customer_a.pk, "terms": "dstny-alcom-2022", "monthly_fee": "1", "signed_on": "2026-01-01"},
    )
    assert response.status_code == 403


def test_token_authentication_works(staff_user, contract_a):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=staff_user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/contracts/").json()["count"] == 1
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get("/api/contracts/").status_code == 401


def test_lists_are_paginated(staff_api, dstny):
    for _ in range(3):
        ContractFactory(terms=dstny)
    body = staff_api.get("/api/contracts/?page_size=2").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]


@pytest.mark.parametrize("path", ["/api/contracts/", "/api/customers/", "/api/terms/"])
def test_lists_run_a_constant_number_of_queries(staff_api, dstny, path, django_assert_max_num_queries):
    for _ in range(30):
        ContractFactory(terms=dstny)
    with django_assert_max_num_queries(6):
        response = staff_api.get(path + "?page_size=100")
    assert response.status_code == 200


def test_contract_status_follows_its_dates(dstny):
    customer = CustomerFactory()
    contract = ContractFactory(
        customer=customer,
        terms=dstny,
        signed_on=datetime.date(2026, 1, 1),
        delivered_on=datetime.date(2026, 2, 1),
        terminated_on=datetime.date(2026, 9, 30),
    )
    assert contract.status_on(datetime.date(2026, 1, 31)) == "awaiting_delivery"
    assert contract.status_on(datetime.date(2026, 2, 1)) == "active"
    assert contract.status_on(datetime.date(2026, 9, 30)) == "terminated"
    assert list(Contract.objects.active(datetime.date(2026, 5, 1))) == [contract]
    assert list(Contract.objects.active(datetime.date(2026, 10, 1))) == []


@pytest.mark.parametrize(
    "written, stored",
    [
        ("+46 8-123 456 78", "+46812345678"),
        ("+46 8 - 123 - 456 - 78", "+46812345678"),  # longer written than stored
        ("+358 18 12345", "+3581812345"),
        ("", ""),
    ],
)
def test_a_contact_persons_phone_is_stored_in_e164(customer_a, written, stored):
    contact = customer_a.contacts.create(name="Anna", phone=written)
    contact.full_clean()
    contact.refresh_from_db()
    assert contact.phone == stored


@pytest.mark.parametrize("written", ["08-123 456 78", "+46 12", "ring Anna"])
def test_a_contact_phone_without_country_code_or_not_a_number_is_refused_in_the_admin(
    admin_client, customer_a, written
):
    page = admin_client.get(f"/admin/contracts/customer/{customer_a.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(
        {
            "contacts-TOTAL_FORMS": "1",
            "contacts-INITIAL_FORMS": "0",
            "contacts-0-name": "Anna",
            "contacts-0-phone": written,
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "notices-TOTAL_FORMS": "0",
            "notices-INITIAL_FORMS": "0",
        }
    )
    response = admin_client.post(f"/admin/contracts/customer/{customer_a.pk}/change/", data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert f"Write the phone number with its country code, e.g. +46 8 123 456 78 ({written} is not one)." in (
        response.content.decode().replace("&#x27;", "'")
    )
    assert not customer_a.contacts.exists()
