"""Statements the hot paths run without the ORM building them each time (core.db, and the token,
session and contract lookups built on it): they answer as the ORM's own query would, and a
lookup that cannot be compiled once is refused."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token

from contracts.models import Contract, ServiceTerms, visible_with_terms
from core.db import Prepared, any_row, insert_unless_taken
from core.models import IdempotentRequest
from tests.conftest import api_client
from tests.factories import ContractFactory

FIELDS = [field.attname for field in Contract._meta.concrete_fields]


def same_contract(found: Contract, expected: Contract) -> bool:
    return (
        [getattr(found, name) for name in FIELDS] == [getattr(expected, name) for name in FIELDS]
        and [getattr(found.terms, f.attname) for f in found.terms._meta.concrete_fields]
        == [getattr(expected.terms, f.attname) for f in expected.terms._meta.concrete_fields]
        and found.terms_superseded == expected.terms_superseded
    )


class TestVisibleWithTerms:
    def test_a_customer_user_gets_their_contract_with_its_terms_in_one_query(self, customer_a_user, contract_a):
        expected = Contract.objects.visible_to(customer_a_user).with_terms().get(pk=contract_a.pk)
        with CaptureQueriesContext(connection) as queries:
            found = visible_with_terms(customer_a_user, contract_a.pk)
            assert found is not None and found.terms.ticket_prefix == "DST"  # terms read with it
        assert len(queries) == 1
        assert same_contract(found, expected)
        assert found.terms_superseded is False and found.terms_in_force(found.signed_on) == found.terms

    def test_another_customers_contract_is_not_found_but_staff_find_every_one(
        self, customer_a_user, staff_user, contract_a, contract_b
    ):
        assert visible_with_terms(customer_a_user, contract_b.pk) is None
        assert visible_with_terms(customer_a_user, 10**12) is None
        expected = Contract.objects.with_terms().get(pk=contract_b.pk)
        found = visible_with_terms(staff_user, contract_b.pk)
        assert found is not None and same_contract(found, expected)

    def test_a_later_version_of_the_terms_is_seen(self, customer_a_user, contract_a, dstny):
        later = ServiceTerms.objects.get(pk=dstny.pk)
        later.pk, later.version = None, dstny.version + 1
        later.save()
        found = visible_with_terms(customer_a_user, contract_a.pk)
        assert found is not None and found.terms_superseded is True

    def test_each_thread_compiles_its_own_and_answers_the_same(
        self, seeded, customer_a_user, contract_a, customer_b, dstny
    ):
        """(Committed: the other thread's connection sees only that.)"""
        from tests.factories import CustomerUserFactory

        other = ContractFactory(customer=customer_b, terms=dstny)
        other_user = CustomerUserFactory(customer=customer_b)
        visible_with_terms(customer_a_user, contract_a.pk)  # compiled in this thread
        answers = []

        def look():
            answers.append(visible_with_terms(other_user, other.pk))
            connection.close()

        thread = threading.Thread(target=look)
        thread.start()
        thread.join()
        assert [answer.pk for answer in answers] == [other.pk]
        assert visible_with_terms(other_user, contract_a.pk) is None


@pytest.mark.django_db
class TestPrepared:
    def test_a_build_whose_arguments_do_not_reach_the_sql_as_they_are_is_refused(self):
        shifted = Prepared(Contract, lambda pk: Contract.objects.filter(pk=pk + 1), -1)
        with pytest.raises(ValueError, match="must reach the SQL once"):
            shifted.first(5)
        twice = Prepared(Contract, lambda pk: Contract.objects.filter(pk=pk, customer_id=pk), -1)
        with pytest.raises(ValueError, match="must reach the SQL once"):
            twice.first(5)

    def test_a_build_of_another_model_is_refused(self):
        wrong = Prepared(Token, lambda pk: Contract.objects.filter(pk=pk), -1)
        with pytest.raises(TypeError, match="not Token"):
            wrong.first(5)


class TestAnyRow:
    def test_answers_whether_a_row_meets_the_condition(self, contract_a, contract_b):
        assert any_row(Contract, '"id" = %s', [contract_a.pk])
        assert not any_row(Contract, '"id" = %s', [contract_b.pk + contract_a.pk + 1])
        assert any_row(Contract, '"terminated_on" IS NULL')


class TestToken:
    def test_a_token_signs_its_user_in_and_an_unknown_or_inactive_ones_does_not(self, customer_a_user, contract_a):
        key = Token.objects.create(user=customer_a_user).key
        client = api_client()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert [c["id"] for c in client.get("/api/contracts/").json()["results"]] == [contract_a.pk]

        client.credentials(HTTP_AUTHORIZATION=f"Token {key[:-1]}x")
        response = client.get("/api/contracts/")
        assert (response.status_code, response.json()) == (401, {"detail": "Invalid token."})

        customer_a_user.is_active = False
        customer_a_user.save()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        response = client.get("/api/contracts/")
        assert (response.status_code, response.json()) == (401, {"detail": "User inactive or deleted."})


class TestSessions:
    def test_a_session_signs_its_user_in_until_it_expires(self, client, customer_a_user, contract_a):
        client.force_login(customer_a_user)
        assert client.get("/portal/").status_code == 200
        Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
        response = client.get("/portal/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")

    def test_a_session_key_nobody_has_signs_nobody_in(self, client, customer_a_user):
        client.force_login(customer_a_user)
        Session.objects.all().delete()
        assert client.get("/portal/").status_code == 302


class TestInsertUnlessTaken:
    def test_writes_a_new_row_and_leaves_a_taken_one_as_it_was(self, customer_a_user):
        first = IdempotentRequest(user=customer_a_user, key="k", fingerprint="a", status_code=0)
        assert insert_unless_taken(first, "user", "key") and first.pk is not None
        second = IdempotentRequest(user=customer_a_user, key="k", fingerprint="b", status_code=201)
        assert not insert_unless_taken(second, "user", "key") and second.pk is None
        kept = IdempotentRequest.objects.get()
        assert (kept.pk, kept.fingerprint, kept.status_code) == (first.pk, "a", 0)
        assert kept.created_at == first.created_at  # stored as the ORM stores a time
        assert IdempotentRequest.objects.filter(created_at__lte=first.created_at).count() == 1
