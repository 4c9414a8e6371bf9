"""Alerts of the operator's monitoring become outages: drafts that count in no figure until staff
confirm them, one outage per alert however often it is told, flapping reopens, and nothing a
monitor sent is lost or turned into an outage by guess."""

import datetime
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from sla import reports
from sla.models import Alert, AlertRoute, MonthlyReport, Outage
from tests.factories import ContractFactory, CustomerFactory

pytestmark = pytest.mark.django_db
MARIEHAMN = ZoneInfo("Europe/Mariehamn")
NOW = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)
DSTNY, TELIA = "dstny-alcom-2022", "telia-smart-connect"


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def monitor(django_user_model):
    """A monitoring user: may report alerts, nothing else."""
    user = django_user_model.objects.create_user("alertmanager")
    user.user_permissions.add(Permission.objects.get(codename="report_alerts"))
    return Token.objects.create(user=user).key


def alert(
    fingerprint="a1b2c3d4e5f60718", status="firing", starts="2026-11-23T09:50:00.123456789Z", ends=None, **labels
):
    return {
        "status": status,
        "labels": {"alertname": "SbcDown", "severity": "critical", **labels},
        "annotations": {"summary": "SBC cluster 2 answers no SIP OPTIONS", "description": "sbc-2.sto down"},
        "startsAt": starts,
        "endsAt": ends or "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.internal:9090/graph?g0.expr=up%7Bjob%3D%22sbc%22%7D+%3D%3D+0",
        "fingerprint": fingerprint,
    }


def body(*alerts, status="firing"):
    """Alertmanager's webhook body (version 4), as it sends it."""
    return {
        "receiver": "service-desk",
        "status": status,
        "alerts": list(alerts),
        "groupLabels": {"alertname": "SbcDown"},
        "commonLabels": {"alertname": "SbcDown", "severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.internal:9093",
        "version": "4",
        "groupKey": '{}:{alertname="SbcDown"}',
        "truncatedAlerts": 0,
    }


def send(payload, key, path="/api/monitoring/alertmanager/", keyword="Bearer"):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    raw = json.dumps(payload).encode()
    return client.post(path, raw, content_type="application/json", HTTP_AUTHORIZATION=f"{keyword} {key}")


def test_a_firing_alert_drafts_an_unconfirmed_outage_that_counts_nowhere(monitor, contract_a, contract_b, staff_api):
    response = send(body(alert(service=DSTNY)), monitor)
    assert response.status_code == 200, response.json()
    assert response.json()["drafted"] == 1
    outage = Outage.objects.get()
    assert (outage.source, outage.external_id, outage.confirmed, outage.responsibility) == (
        "alertmanager",
        "a1b2c3d4e5f60718",
        False,
        "",
    )
    assert outage.started_at == datetime.datetime(2026, 11, 23, 9, 50, 0, 123456, tzinfo=datetime.UTC)
    assert (outage.service, outage.service_wide, outage.ended_at) == (DSTNY, True, None)
    assert "SBC cluster 2 answers no SIP OPTIONS" in outage.description
    month = staff_api.get(f"/api/contracts/{contract_a.pk}/availability/?month=2026-11").json()
    assert month["unavailable_minutes"] == "0.0000" and month["discount_percent"] == "0.00"
    assert month["unconfirmed_minutes"] == "9.9979"  # 09:50:00.123456 to 10:00
    (line,) = month["outages"]
    assert line["confirmed"] is False and line["excluded_reason"].startswith("drafted by monitoring")
    read = staff_api.get(f"/api/outages/{outage.pk}/").json()
    assert (read["confirmed"], read["responsibility"], read["source"]) == (False, None, "alertmanager")


def test_the_same_alert_again_is_the_same_outage_and_resolved_ends_it(monitor, contract_a, frozen_now):
    for _ in range(3):  # Alertmanager repeats itself, and retries
        assert send(body(alert(service=DSTNY)), monitor).json()["unchanged"] in (0, 1)
    assert Outage.objects.count() == 1
    frozen_now.move_to(NOW + datetime.timedelta(minutes=20))
    resolved = alert(service=DSTNY, status="resolved", ends="2026-11-23T10:12:30Z")
    assert send(body(resolved, status="resolved"), monitor).json()["ended"] == 1
    outage = Outage.objects.get()
    assert outage.ended_at == datetime.datetime(2026, 11, 23, 10, 12, 30, tzinfo=datetime.UTC)
    # A late copy of the firing notification changes nothing.
    assert send(body(alert(service=DSTNY)), monitor).json()["unchanged"] == 1
    assert Outage.objects.get().ended_at == outage.ended_at
    assert Alert.objects.get().notifications == 5


def test_an_alert_firing_again_within_the_window_reopens_its_outage_and_later_drafts_another(
    monitor, contract_a, frozen_now
):
    send(body(alert(service=DSTNY, status="resolved", ends="2026-11-23T09:55:00Z"), status="resolved"), monitor)
    first = Outage.objects.get()
    assert first.ended_at is not None
    # Ten minutes after its end (the seeds' window is 15): the same outage goes on.
    assert send(body(alert(service=DSTNY, starts="2026-11-23T10:05:00Z")), monitor).status_code == 200
    frozen_now.move_to(NOW + datetime.timedelta(minutes=10))
    first.refresh_from_db()
    assert first.ended_at is None and Outage.objects.count() == 1
    send(
        body(alert(service=DSTNY, status="resolved", starts="2026-11-23T10:05:00Z", ends="2026-11-23T10:08:00Z")),
        monitor,
    )
    # An hour later: a new outage.
    frozen_now.move_to(NOW + datetime.timedelta(hours=2))
    send(body(alert(service=DSTNY, starts="2026-11-23T11:30:00Z")), monitor)
    assert Outage.objects.count() == 2


def test_labels_narrow_to_a_contract_or_a_customers_contracts(monitor, contract_a, customer_a, dstny):
    second = ContractFactory(customer=customer_a, terms=dstny)
    send(body(alert("f-contract", service=DSTNY, contract=str(contract_a.pk))), monitor)
    send(body(alert("f-customer", service=DSTNY, customer=customer_a.org_number)), monitor)
    by_contract, by_customer = (Outage.objects.get(external_id=f) for f in ("f-contract", "f-customer"))
    assert list(by_contract.contracts.all()) == [contract_a] and not by_contract.service_wide
    assert set(by_customer.contracts.all()) == {contract_a, second}


def test_an_alert_no_route_places_is_kept_for_staff_and_a_rule_places_the_next(monitor, contract_a, staff_client):
    response = send(body(alert("f-1", job="sbc", cluster="sto-2")), monitor)
    assert response.status_code == 202 and response.json()["unrouted"] == 1
    assert not Outage.objects.exists()
    kept = Alert.objects.get(fingerprint="f-1")
    assert kept.outage is None and kept.labels["cluster"] == "sto-2"
    board = staff_client.get("/desk/sla/").content.decode()
    assert "SBC cluster 2 answers no SIP OPTIONS" in board and 'data-testid="unrouted-alert"' in board
    # Wrong or contradicting labels are never a guess either.
    for labels in ({"service": "no-such"}, {"service": TELIA, "contract": str(contract_a.pk)}, {"contract": "x"}):
        assert send(body(alert("f-2", **labels)), monitor).status_code == 202
    AlertRoute.objects.create(name="SBC Stockholm", matchers={"job": "sbc", "cluster": "sto-2"}, service=DSTNY)
    assert send(body(alert("f-1", job="sbc", cluster="sto-2")), monitor).json()["drafted"] == 1
    assert Outage.objects.get().service == DSTNY and Alert.objects.get(fingerprint="f-1").outage is not None


def test_staff_confirm_a_draft_by_choosing_its_responsibility_and_its_months_go_stale(monitor, contract_a, staff_api):
    reports.store_month(2026, 10)
    october = alert(service=DSTNY, status="resolved", starts="2026-10-30T10:00:00Z", ends="2026-10-30T11:30:00Z")
    send(body(october, status="resolved"), monitor)
    outage = Outage.objects.get()
    assert not MonthlyReport.objects.get().stale  # a draft changes no figure
    month = staff_api.get(f"/api/contracts/{contract_a.pk}/availability/?month=2026-10").json()
    assert (month["unavailable_minutes"], month["unconfirmed_minutes"]) == ("0.0000", "90.0000")
    response = staff_api.patch(f"/api/outages/{outage.pk}/", {"responsibility": "supplier"}, format="json")
    assert response.status_code == 200 and response.json()["confirmed"] is True
    assert MonthlyReport.objects.get().stale
    month = staff_api.get(f"/api/contracts/{contract_a.pk}/availability/?month=2026-10").json()
    assert (month["unavailable_minutes"], month["unconfirmed_minutes"]) == ("90.0000", "0.0000")
    assert month["discount_percent"] != "0.00"


def test_staff_discard_a_false_alarm_with_its_reason_and_it_is_kept(monitor, contract_a, staff_api):
    send(body(alert(service=DSTNY)), monitor)
    outage = Outage.objects.get()
    assert staff_api.post(f"/api/outages/{outage.pk}/discard/", {"reason": "  "}, format="json").status_code == 400
    response = staff_api.post(f"/api/outages/{outage.pk}/discard/", {"reason": "Probe host rebooted"}, format="json")
    assert response.status_code == 200 and response.json()["discard_reason"] == "Probe host rebooted"
    month = staff_api.get(f"/api/contracts/{contract_a.pk}/availability/?month=2026-11").json()
    assert month["outages"] == [] and month["unconfirmed_minutes"] == "0.0000"
    again = staff_api.patch(f"/api/outages/{outage.pk}/", {"responsibility": "supplier"}, format="json")
    assert again.status_code == 400 and "discarded" in json.dumps(again.json())
    assert staff_api.post(f"/api/outages/{outage.pk}/discard/", {"reason": "x"}, format="json").status_code == 400


def test_bad_input_changes_nothing_and_says_why(monitor, contract_a, customer_a_user):
    assert send(body(alert(service=DSTNY)), "wrong-key").status_code == 401
    assert APIClient().post("/api/monitoring/alertmanager/", body(), format="json").status_code == 401
    customer = Token.objects.create(user=customer_a_user).key
    assert send(body(alert(service=DSTNY)), customer).status_code == 403
    broken = body(alert(service=DSTNY))
    del broken["alerts"][0]["fingerprint"]
    response = send(broken, monitor)
    assert response.status_code == 400 and "fingerprint" in json.dumps(response.json())
    assert send({"alerts": "none"}, monitor).status_code == 400
    ancient = send(body(alert(service=DSTNY, starts="0001-01-01T00:00:00Z")), monitor)
    assert ancient.status_code == 400 and "startsAt" in json.dumps(ancient.json())
    assert not Outage.objects.exists() and not Alert.objects.exists()


def test_a_token_with_the_word_token_is_taken_too(monitor, contract_a):
    assert send(body(alert(service=DSTNY)), monitor, keyword="Token").status_code == 200


def test_the_generic_webhook_follows_the_same_rules(monitor, contract_a, contract_b):
    path = "/api/monitoring/generic/"
    problem = {
        "id": "zabbix-event-77120",
        "service": TELIA,
        "contract": contract_b.pk,
        "status": "firing",
        "started_at": "2026-11-23T10:40:00+01:00",
        "summary": "Trunk to Beta down",
    }
    assert send(problem, monitor, path=path).json()["drafted"] == 1
    outage = Outage.objects.get()
    assert (outage.source, list(outage.contracts.all()), outage.confirmed) == ("generic", [contract_b], False)
    assert send({**problem, "status": "resolved"}, monitor, path=path).status_code == 400  # needs its end
    done = send({**problem, "status": "resolved", "ended_at": "2026-11-23T10:55:00+01:00"}, monitor, path=path)
    assert done.json()["ended"] == 1
    outage.refresh_from_db()
    assert outage.ended_at == datetime.datetime(2026, 11, 23, 9, 55, tzinfo=datetime.UTC)
    typo = send({**problem, "statsu": "firing"}, monitor, path=path)
    assert typo.status_code == 400 and "statsu" in json.dumps(typo.json())


def test_the_status_page_shows_a_draft_at_once_as_under_investigation_when_the_terms_say_so(
    monitor, contract_a, client, dstny
):
    send(body(alert(service=DSTNY)), monitor)
    page = client.get(f"/status/{DSTNY}/").content.decode()
    assert 'data-testid="under-investigation"' in page and 'data-state="outage"' in page
    type(dstny).objects.filter(slug=DSTNY).update(status_shows_unconfirmed=False)
    assert 'data-state="operational"' in client.get(f"/status/{DSTNY}/").content.decode()


def test_many_alerts_in_one_call_each_become_their_outage(monitor, contract_a):
    customers = [CustomerFactory() for _ in range(3)]
    contracts = [ContractFactory(customer=c, terms=contract_a.terms) for c in customers]
    alerts = [alert(f"f-{n}", service=DSTNY, contract=str(c.pk)) for n, c in enumerate(contracts)]
    assert send(body(*alerts), monitor).json()["drafted"] == 3
    assert Outage.objects.filter(confirmed=False).count() == 3


def test_staff_confirm_and_discard_drafts_on_the_board_whose_queries_do_not_grow(
    monitor, contract_a, staff_client, dstny
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def board():
        with CaptureQueriesContext(connection) as captured:
            page = staff_client.get("/desk/sla/").content.decode()
        return len(captured), page

    send(body(alert("f-0", service=DSTNY, contract=str(contract_a.pk))), monitor)
    one, page = board()
    assert page.count('data-testid="pending-outage"') == 1
    for n in range(1, 6):
        contract = ContractFactory(customer=CustomerFactory(), terms=dstny)
        send(body(alert(f"f-{n}", service=DSTNY, contract=str(contract.pk))), monitor)
    send(body(alert("f-lost", job="pbx")), monitor)
    many, page = board()
    assert many == one and page.count('data-testid="pending-outage"') == 6
    first, second = Outage.objects.order_by("pk")[:2]
    staff_client.post(f"/desk/sla/outages/{first.pk}/decide/", {"responsibility": "supplier"})
    staff_client.post(f"/desk/sla/outages/{second.pk}/discard/", {"reason": "Probe restarted"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.confirmed, first.responsibility) == (True, "supplier")
    assert (second.discard_reason, second.discarded_at) == ("Probe restarted", NOW)
    assert board()[1].count('data-testid="pending-outage"') == 4


def test_tickets_reported_meanwhile_are_offered_for_linking_and_name_the_outage(
    monitor, contract_a, contract_b, customer_a_user, staff_client
):
    from tests.factories import fault_report

    send(body(alert(service=DSTNY, starts="2026-11-23T09:30:00Z")), monitor)
    outage = Outage.objects.get()
    ours = fault_report(contract_a, customer_a_user)
    theirs = fault_report(contract_b, a_number="070-123 45 67", b_number="070-765 43 21")
    page = staff_client.get(f"/desk/sla/outages/{outage.pk}/").content.decode()
    assert f'data-testid="link-{ours.number}"' in page and theirs.number not in page
    assert 'data-testid="unconfirmed"' in page
    staff_client.post(f"/desk/sla/outages/{outage.pk}/", {"number": ours.number, "action": "link"})
    assert list(outage.tickets.all()) == [ours]
    fragment = staff_client.get(f"/desk/sla/tickets/{ours.number}/outages/", HTTP_HX_REQUEST="true").content.decode()
    assert "Under investigation" in fragment and "Linked" in fragment


def test_a_clerk_sees_the_months_pending_drafts_on_the_billing_and_contract_pages(monitor, contract_a, staff_client):
    october = alert(service=DSTNY, status="resolved", starts="2026-10-30T10:00:00Z", ends="2026-10-30T11:30:00Z")
    send(body(october, status="resolved"), monitor)
    staff_client.post("/desk/sla/billing/", {"month": "2026-10"})
    billing = staff_client.get("/desk/sla/billing/?month=2026-10").content.decode()
    assert 'data-testid="month-drafts"' in billing and "SBC cluster 2 answers no SIP OPTIONS" in billing
    assert "not confirmed yet" in billing
    page = staff_client.get(f"/desk/sla/contracts/{contract_a.pk}/?month=2026-10").content.decode()
    assert 'data-testid="unconfirmed-minutes"' in page and "90 min" in page
    assert 'data-testid="month-drafts"' not in staff_client.get("/desk/sla/billing/?month=2026-09").content.decode()
