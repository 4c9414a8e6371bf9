import datetime

import pytest
import time_machine
from rest_framework.test import APIClient

from contracts.models import ServiceTerms

pytestmark = pytest.mark.django_db

DSTNY_API = {
    "slug": "dstny-alcom-2022",
    "timezone": "Europe/Mariehamn",
    "holiday_country": "FI",
    "holiday_subdivision": "01",
    "support_days": "holiday_free_weekdays",
    "support_opens": "08:30",
    "support_closes": "17:00",
    "service_start_hours": 4,
    "customer_reply_hours": 48,
    "availability_target": "99.8",
    "availability_period": "fixed_30_days",
    "discount_ladder": [
        {"below": "99.8", "percent": "5"},
        {"below": "99.7", "percent": "10"},
        {"below": "99.6", "percent": "15"},
        {"below": "99.5", "percent": "20"},
        {"below": "99.4", "percent": "25"},
    ],
    "a_number_countries": ["AX", "FI"],
}

TELIA_API = {
    "slug": "telia-smart-connect",
    "timezone": "Europe/Stockholm",
    "holiday_country": "SE",
    "holiday_subdivision": None,
    "support_days": "all_days",
    "support_opens": "00:00",
    "support_closes": "24:00",
    "service_start_hours": None,
    "customer_reply_hours": None,
    "availability_target": None,
    "availability_period": None,
    "discount_ladder": [],
    "a_number_countries": ["SE"],
}


def valid_terms_payload(**overrides):
    payload = {
        "slug": "own-terms",
        "name": "Own terms",
        "ticket_prefix": "OWN",
        "currency": "SEK",
        "timezone": "Europe/Stockholm",
        "holiday_country": "SE",
        "holiday_categories": ["public", "de_facto"],
        "support_days": "holiday_free_weekdays",
        "support_opens": "08:00",
        "support_closes": "16:30",
        "service_start_hours": 8,
        "customer_reply_hours": 72,
        "a_number_countries": ["SE"],
        "availability_target": "99.9",
        "availability_period": "calendar_month",
        "discount_ladder": [{"below": "99.9", "percent": "10"}, {"below": "99.5", "percent": "30"}],
    }
    payload.update(overrides)
    return payload


def test_seed_terms_carry_the_values_of_the_contracts(customer_a_api):
    response = customer_a_api.get("/api/terms/")
    assert response.status_code == 200
    by_slug = {row["slug"]: row for row in response.json()["results"]}
    assert set(by_slug) == {"dstny-alcom-2022", "telia-smart-connect"}
    for expected in (DSTNY_API, TELIA_API):
        row = by_slug[expected["slug"]]
        assert {key: row[key] for key in expected} == expected


def test_terms_a_seed_is_silent_on_are_null_not_invented(customer_a_api):
    telia = customer_a_api.get("/api/terms/telia-smart-connect/").json()
    for silent in (
        "delivery_deadline_days",
        "late_delivery_discount_percent",
        "claim_window_months",
        "liability_cap_percent",
        "maintenance_windows",
        "planned_work_notice_days",
        "termination_notice_months",
    ):
        assert telia[silent] is None, silent
    assert telia["planned_work_notice_working_days"] == 10  # T §5.1
    assert telia["invoice_due_days"] == 30  # T §7.2.2


def test_dstny_terms_carry_the_other_clauses(customer_a_api):
    dstny = customer_a_api.get("/api/terms/dstny-alcom-2022/").json()
    assert dstny["planned_work_notice_days"] == 14  # D §11.3
    assert dstny["delivery_deadline_days"] == 90  # D §8.2
    assert dstny["delivery_cancellation_days"] == 120  # D §9.2
    assert dstny["late_delivery_discount_percent"] == "50"  # D §9.1
    assert dstny["liability_cap_percent"] == "25"  # D §19.2
    assert dstny["claim_window_months"] == 1  # D §20.1
    assert dstny["invoice_due_days"] == 14  # D §15.11
    assert dstny["invoice_period"] == "monthly"  # D §15.2
    assert dstny["invoice_objection_days"] == 8  # D §15.13
    assert dstny["licence_change_notice_months"] == 6  # D §7.5
    assert dstny["force_majeure_termination_months"] == 3  # D §22.2
    assert dstny["termination_notice_months"] == 6  # D §23.1
    telia = customer_a_api.get("/api/terms/telia-smart-connect/").json()
    assert (telia["invoice_period"], telia["invoice_due_days"]) == ("quarterly", 30)  # T §7.2
    assert dstny["maintenance_windows"][2] == {"weekdays": [6, 7], "start": "00:00", "end": "24:00"}


def test_terms_can_be_read_by_id_and_by_slug(customer_a_api, dstny):
    by_id = customer_a_api.get(f"/api/terms/{dstny.pk}/").json()
    by_slug = customer_a_api.get("/api/terms/dstny-alcom-2022/").json()
    assert by_id == by_slug


def test_unknown_terms_answer_404(customer_a_api):
    assert customer_a_api.get("/api/terms/no-such-terms/").status_code == 404
    assert customer_a_api.get("/api/terms/999999/").status_code == 404


def test_anonymous_callers_are_refused():
    assert APIClient().get("/api/terms/").status_code == 401


def test_customers_cannot_write_terms(customer_a_api):
    assert customer_a_api.post("/api/terms/", valid_terms_payload(), format="json").status_code == 403
    response = customer_a_api.patch("/api/terms/dstny-alcom-2022/", {"service_start_hours": 1}, format="json")
    assert response.status_code == 403
    assert ServiceTerms.objects.get(slug="dstny-alcom-2022").service_start_hours == 4


def test_staff_add_their_own_terms(staff_api):
    response = staff_api.post("/api/terms/", valid_terms_payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["version"] == 1
    assert body["support_opens"] == "08:00"
    assert body["availability_target"] == "99.9"
    assert ServiceTerms.objects.get(slug="own-terms").support_closes == 16 * 60 + 30


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"timezone": "Europe/Atlantis"}, "timezone", "Unknown time zone"),
        ({"support_opens": "17:00", "support_closes": "08:30"}, "support_closes", "close after it opens"),
        ({"support_closes": "25:00"}, "support_closes", "not a time of day"),
        ({"support_opens": "8.30"}, "support_opens", "HH:MM"),
        ({"holiday_country": "XX"}, "holiday_country", "No holiday calendar"),
        ({"holiday_subdivision": "99"}, "holiday_subdivision", "not a subdivision"),
        ({"holiday_categories": ["bank", "nonsense"]}, "holiday_categories", "categories"),
        ({"holiday_country": None}, "holiday_country", "need a holiday country"),
        (
            {"discount_ladder": [{"below": "99.5", "percent": "5"}, {"below": "99.7", "percent": "10"}]},
            "discount_ladder",
            "fall strictly",
        ),
        (
            {"discount_ladder": [{"below": "99.8", "percent": "10"}, {"below": "99.7", "percent": "10"}]},
            "discount_ladder",
            "rise strictly",
        ),
        ({"discount_ladder": [{"below": "99.95", "percent": "5"}]}, "discount_ladder", "above the availability target"),
        ({"discount_ladder": [{"below": "abc", "percent": "5"}]}, "discount_ladder", "below must be a number"),
        ({"discount_ladder": [{"below": "99"}]}, "discount_ladder", "exactly the keys"),
        ({"availability_period": None}, "availability_period", "go together"),
        ({"a_number_countries": ["ZZ"]}, "a_number_countries", "ISO country codes"),
        ({"a_number_countries": []}, "a_number_countries", "ISO country codes"),
        ({"a_number_countries": [{}]}, "a_number_countries", "ISO country codes"),
        ({"a_number_types": [{}]}, "a_number_types", "kinds of number"),
        (
            {"maintenance_windows": [{"weekdays": [1], "start": "20:00", "end": "05:00"}]},
            "maintenance_windows",
            "start must be before end",
        ),
        (
            {"maintenance_windows": [{"weekdays": [8], "start": "00:00", "end": "05:00"}]},
            "maintenance_windows",
            "1 (Monday) to 7 (Sunday)",
        ),
        (
            {"planned_work_notice_days": 14, "planned_work_notice_working_days": 10},
            "planned_work_notice_working_days",
            "not both",
        ),
        (
            {"delivery_deadline_days": 90, "delivery_cancellation_days": 60},
            "delivery_cancellation_days",
            "cannot come before",
        ),
        ({"ticket_prefix": "dst"}, "ticket_prefix", "capital letters"),
        ({"currency": "sek"}, "currency", "ISO 4217"),
    ],
)
def test_invalid_terms_are_refused_on_the_field_and_nothing_is_written(staff_api, overrides, field, fragment):
    before = ServiceTerms.objects.count()
    response = staff_api.post("/api/terms/", valid_terms_payload(**overrides), format="json")
    assert response.status_code == 400
    body = response.json()
    assert field in body, body
    assert any(fragment in message for message in body[field]), body[field]
    assert ServiceTerms.objects.count() == before


def test_a_taken_slug_is_refused(staff_api):
    response = staff_api.post("/api/terms/", valid_terms_payload(slug="dstny-alcom-2022"), format="json")
    assert response.status_code == 400
    assert "slug" in response.json()


def test_unused_terms_are_edited_in_place(staff_api):
    staff_api.post("/api/terms/", valid_terms_payload(), format="json")
    response = staff_api.patch("/api/terms/own-terms/", {"service_start_hours": 6}, format="json")
    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert ServiceTerms.objects.filter(slug="own-terms").count() == 1
    assert ServiceTerms.objects.get(slug="own-terms").service_start_hours == 6


def test_terms_in_use_are_never_rewritten_a_change_makes_a_new_version(staff_api, contract_a, dstny):
    from contracts import notices

    contract_a.customer.contacts.create(name="Anna", email="anna@alfa.example", is_primary=True)
    response = staff_api.patch(
        "/api/terms/dstny-alcom-2022/",
        {"service_start_hours": 2, "effective_from": "2030-01-01"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    revised = response.json()
    assert revised["version"] == 2
    assert revised["service_start_hours"] == 2
    assert revised["effective_from"] == "2030-01-01"
    dstny.refresh_from_db()
    assert dstny.service_start_hours == 4  # D §28: history under the old terms stays true
    contract_a.refresh_from_db()
    assert contract_a.terms_id == dstny.pk
    # Until the customer has the notice, the new version is not the customer's (D §28).
    assert contract_a.terms_in_force(datetime.date(2030, 1, 1)) == dstny
    notices.send_pending()
    assert contract_a.terms_in_force(datetime.date(2029, 12, 31)) == dstny
    assert contract_a.terms_in_force(datetime.date(2030, 1, 1)).version == 2


def test_a_contract_read_with_its_terms_answers_as_the_versions_do(
    staff_api, contract_a, dstny, django_assert_num_queries
):
    """`with_terms` spares reading the versions only while none is later than the contract's."""
    from contracts import notices
    from contracts.models import Contract

    def read():
        return Contract.objects.with_terms().get(pk=contract_a.pk)

    contract = read()
    with django_assert_num_queries(0):
        assert contract.terms_in_force(datetime.date(2030, 1, 1)) == dstny
    contract_a.customer.contacts.create(name="Anna", email="anna@alfa.example", is_primary=True)
    response = staff_api.patch(
        "/api/terms/dstny-alcom-2022/", {"service_start_hours": 2, "effective_from": "2030-01-01"}
    )
    assert response.status_code == 201, response.json()
    assert read().terms_in_force(datetime.date(2030, 1, 1)) == dstny  # no notice yet (D §28)
    notices.send_pending()
    assert read().terms_in_force(datetime.date(2029, 12, 31)) == dstny
    assert read().terms_in_force(datetime.date(2030, 1, 1)).version == 2


def test_a_new_version_comes_into_force_on_its_date(staff_api, customer_a_api, contract_a):
    with time_machine.travel(datetime.datetime(2026, 11, 20, 12, tzinfo=datetime.UTC), tick=False):
        response = staff_api.patch(
            "/api/terms/dstny-alcom-2022/",
            {"customer_reply_hours": 72, "effective_from": "2026-12-23"},
            format="json",
        )
        assert response.status_code == 201, response.json()
        current = customer_a_api.get("/api/terms/dstny-alcom-2022/").json()
        assert (current["version"], current["customer_reply_hours"]) == (1, 48)
    with time_machine.travel(datetime.datetime(2026, 12, 23, 12, tzinfo=datetime.UTC), tick=False):
        current = customer_a_api.get("/api/terms/dstny-alcom-2022/").json()
        assert (current["version"], current["customer_reply_hours"]) == (2, 72)
        listed = customer_a_api.get("/api/terms/").json()["results"]
        assert [row["version"] for row in listed if row["slug"] == "dstny-alcom-2022"] == [2]
        versions = customer_a_api.get("/api/terms/dstny-alcom-2022/versions/").json()
        assert [row["version"] for row in versions["results"]] == [2, 1]


def test_an_invalid_revision_writes_nothing(staff_api, contract_a):
    response = staff_api.patch("/api/terms/dstny-alcom-2022/", {"timezone": "Mars/Olympus"}, format="json")
    assert response.status_code == 400
    assert "timezone" in response.json()
    assert ServiceTerms.objects.filter(slug="dstny-alcom-2022").count() == 1


def test_a_terms_calendar_is_the_business_calendar_of_its_clauses(dstny):
    calendar = dstny.calendar
    # Åland's Självstyrelsedagen, 9 June, is a holiday there (Tuesday 2026-06-09).
    assert not calendar.is_business_day(datetime.date(2026, 6, 9))
    assert calendar.is_business_day(datetime.date(2026, 6, 10))


def test_new_swedish_terms_get_swedens_real_days_off_without_naming_categories(staff_api, admin_client):
    payload = valid_terms_payload(status_page_url="https://status.example.se/")
    del payload["holiday_categories"]
    response = staff_api.post("/api/terms/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["holiday_categories"] == ["public", "de_facto"]
    assert response.json()["status_page_url"] == "https://status.example.se/"
    calendar = ServiceTerms.objects.get(slug="own-terms").calendar
    for eve in (datetime.date(2027, 6, 25), datetime.date(2027, 12, 24), datetime.date(2027, 12, 31)):
        assert not calendar.is_working_day(eve)  # Midsommarafton, Julafton, Nyårsafton (Fridays)
    finnish = staff_api.post(
        "/api/terms/",
        valid_terms_payload(
            slug="finnish",
            ticket_prefix="FIN",
            holiday_country="FI",
            holiday_categories=[],
            timezone="Europe/Helsinki",
        ),
        format="json",
    )
    assert finnish.json()["holiday_categories"] == ["public"]


def test_the_terms_admin_page_shows_the_next_twelve_months_of_days_off(admin_client, telia):
    with time_machine.travel(datetime.datetime(2026, 11, 23, 10, tzinfo=datetime.UTC), tick=False):
        swedish = admin_client.get(f"/admin/contracts/serviceterms/{telia.pk}/change/", HTTP_ACCEPT_LANGUAGE="sv")
    page = swedish.content.decode()
    assert "2026-12-24 Julafton" in page and "2027-06-25 Midsommarafton" in page
    assert "2027-12-24" not in page  # twelve months ahead only


def test_the_version_in_force_is_the_newest_that_has_taken_effect_among_those_asked_about(dstny, telia):
    from contracts.models import ServiceTerms

    second = ServiceTerms.objects.get(pk=dstny.pk)
    second.pk, second.version, second.effective_from = None, 2, datetime.date(2027, 1, 1)
    second.save()
    third = ServiceTerms.objects.get(pk=dstny.pk)
    third.pk, third.version, third.effective_from = None, 3, datetime.date(2030, 1, 1)
    third.save()

    def versions(on, queryset=ServiceTerms.objects):
        return {terms.slug: terms.version for terms in queryset.in_force(on)}

    assert versions(datetime.date(2026, 12, 31)) == {dstny.slug: 1, telia.slug: 1}
    assert versions(datetime.date(2027, 1, 1)) == {dstny.slug: 2, telia.slug: 1}
    assert versions(datetime.date(2030, 1, 1))[dstny.slug] == 3
    # A queryset narrowed first chooses among its own rows.
    assert versions(datetime.date(2030, 1, 1), ServiceTerms.objects.filter(version__lt=3)) == {
        dstny.slug: 2,
        telia.slug: 1,
    }
    assert ServiceTerms.objects.version_in_force(dstny.slug, datetime.date(2029, 12, 31)) == second
    assert ServiceTerms.objects.version_in_force("no-such-terms", datetime.date(2029, 12, 31)) is None
