import datetime
import os
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient

settings.register_profile("dev", deadline=None, max_examples=200)
settings.register_profile("ci", deadline=None, max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _broker_tried_afresh():
    """A test whose broker failed leaves the next test's broker untried for a while
    (config/broker.py): each test starts trying it again."""
    from config import broker

    broker.resume()


@pytest.fixture
def dstny(db):
    from contracts.models import ServiceTerms

    return ServiceTerms.objects.get(slug="dstny-alcom-2022")


@pytest.fixture
def telia(db):
    from contracts.models import ServiceTerms

    return ServiceTerms.objects.get(slug="telia-smart-connect")


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        "staffer", email="staffer@desk.example", password="x-staff-pass-42", is_staff=True
    )


def api_client() -> APIClient:
    """An API client that asks for English, the language the tests' messages are written in."""
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def staff_api(staff_user):
    client = api_client()
    client.force_authenticate(staff_user)
    return client


@pytest.fixture
def customer_a(db):
    from tests.factories import CustomerFactory

    return CustomerFactory(name="Alfa Ab")


@pytest.fixture
def customer_b(db):
    from tests.factories import CustomerFactory

    return CustomerFactory(name="Beta AB")


@pytest.fixture
def customer_a_user(customer_a):
    from tests.factories import CustomerUserFactory

    return CustomerUserFactory(customer=customer_a, username="alfa-user")


@pytest.fixture
def customer_a_api(customer_a_user):
    client = api_client()
    client.force_authenticate(customer_a_user)
    return client


@pytest.fixture
def contract_a(customer_a, dstny):
    from tests.factories import ContractFactory

    return ContractFactory(customer=customer_a, terms=dstny, monthly_fee=Decimal("100.00"))


@pytest.fixture
def contract_b(customer_b, telia):
    from tests.factories import ContractFactory

    return ContractFactory(
        customer=customer_b,
        terms=telia,
        signed_on=datetime.date(2025, 1, 10),
        delivered_on=datetime.date(2025, 2, 1),
    )


@pytest.fixture
def seeded(transactional_db):
    """Committed data that other processes (gunicorn, a worker, pg_dump) can see, with the seed
    terms back in place: transactional tests empty the tables the data migration filled."""
    from tests.factories import ensure_seed_terms

    ensure_seed_terms()


@pytest.fixture(scope="session")
def imap():
    """Debian's Dovecot on loopback over TLS, one per test session (tests/imap_server.py)."""
    from tests import imap_server

    if not os.path.exists(imap_server.DOVECOT):
        if os.environ.get("REQUIRE_IMAP"):
            raise RuntimeError(f"REQUIRE_IMAP is set but {imap_server.DOVECOT} is missing")
        pytest.skip("no Dovecot (apt-get install dovecot-imapd)")
    with imap_server.running() as server:
        yield server


@pytest.fixture
def oidc_provider_for(tmp_path):
    """Start a real OpenID provider on loopback (tests/oidc_server.py) for a redirect URI known
    only during the test, e.g. `oidc_provider_for(live_server.url + "/…/callback/", accounts=[…])`;
    each one started is stopped after the test."""
    from tests import oidc_server

    oidc_server.require()
    started = []

    def start(redirect_uri, *, accounts, client_id=oidc_server.CLIENT_ID, client_secret=None):
        root = tmp_path / f"oidc-{len(started)}"
        root.mkdir()
        provider = oidc_server.start(
            root, redirect_uris=[redirect_uri], accounts=accounts, client_id=client_id, client_secret=client_secret
        )
        started.append(provider)
        return provider

    yield start
    for provider in started:
        oidc_server.stop(provider)


@pytest.fixture
def imap_settings(imap, settings):
    """The desk's mailbox settings pointed at the test Dovecot, its mailbox emptied."""
    from tests import imap_server

    imap.empty()
    settings.IMAP_HOST, settings.IMAP_PORT, settings.IMAP_TLS = "127.0.0.1", imap.port, "ssl"
    settings.IMAP_USER, settings.IMAP_PASSWORD = imap_server.USER, imap_server.PASSWORD
    settings.IMAP_CA_FILE, settings.IMAP_MAILBOX, settings.IMAP_PROCESSED_MAILBOX = imap.ca_file, "INBOX", ""
    settings.IMAP_BATCH = 100
    return settings


# Schemathesis runs the WSGI application in the test's process (tests/test_api_fuzz.py,
# tests/test_tmf621_fuzz.py): a token per role, in the test's own transaction.
@pytest.fixture
def in_process(db, settings):
    """The WSGI application runs in the test's own transaction, as Django's test client does."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    settings.ALLOWED_HOSTS = ["localhost"]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(in_process, staff_user, customer_a_user, contract_a, contract_b):
    from rest_framework.authtoken.models import Token

    return {
        "staff": Token.objects.create(user=staff_user).key,
        "customer": Token.objects.create(user=customer_a_user).key,
    }
