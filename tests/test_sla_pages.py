"""The outage board, the contract's SLA page, the billing export and the customers' view."""

import datetime

import pytest
import time_machine

from sla.models import Outage

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def board_post(client, **overrides):
    data = {
        "started_at": "2026-10-06T09:00",  # the desk's zone, Europe/Stockholm: 10:00 in Åland
        "ended_at": "2026-10-06T11:00",
        "kind": "unplanned",
        "responsibility": "supplier",
        "service": "dstny-alcom-2022",
        "contracts": "",
        "tickets": "",
        "description": "Plattformen nere",
    }
    data.update(overrides)
    return client.post("/desk/sla/", data)


def test_staff_register_and_end_an_outage_on_the_board(staff_client, contract_a):
    assert board_post(staff_client, contracts=str(contract_a.pk)).status_code == 302
    assert board_post(staff_client, ended_at="").status_code == 302
    ongoing = Outage.objects.get(ended_at__isnull=True)
    page = staff_client.get("/desk/sla/").content.decode()
    assert "Ongoing" in page and "End now" in page
    staff_client.post(f"/desk/sla/outages/{ongoing.pk}/end/")
    ongoing.refresh_from_db()
    assert ongoing.ended_at == NOW


def test_the_board_names_what_is_wrong(staff_client):
    page = board_post(
        staff_client, ended_at="2026-10-06T08:00", contracts="12x", tickets="DST-2026-999999"
    ).content.decode()
    assert "Give contract numbers" in page and "No such tickets: DST-2026-999999" in page
    page = board_post(staff_client, ended_at="2026-10-06T08:00").content.decode()
    assert "cannot end before it starts" in page
    assert not Outage.objects.exists()


def test_the_contract_page_shows_the_month_the_chart_and_the_reasons(staff_client, contract_a):
    board_post(staff_client)
    board_post(
        staff_client, responsibility="customer_change", started_at="2026-10-07T09:00", ended_at="2026-10-07T10:00"
    )
    page = staff_client.get(f"/desk/sla/contracts/{contract_a.pk}/?month=2026-10").content.decode()
    assert "99.7222 %" in page and "5 % = 5.00 EUR" in page
    assert "<svg" in page and "bar-below" in page
    assert "D §17.1" in page


def test_customers_see_their_own_availability_and_only_theirs(
    client, customer_a_user, contract_a, contract_b, staff_client
):
    board_post(staff_client)
    client.force_login(customer_a_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(f"/portal/contracts/{contract_a.pk}/availability/?month=2026-10").content.decode()
    assert "99.7222 %" in page
    assert client.get(f"/portal/contracts/{contract_b.pk}/availability/").status_code == 404
    assert client.get("/desk/sla/").status_code == 302


def test_the_chart_draws_with_plain_numbers_in_swedish(staff_client, contract_a):
    import re

    board_post(staff_client)
    staff_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "sv"
    page = staff_client.get(f"/desk/sla/contracts/{contract_a.pk}/?month=2026-10").content.decode()
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert re.findall(r'(?:x|y|height)="[^"]*,[^"]*"', svg) == []
    assert "Prisavdrag" in page
