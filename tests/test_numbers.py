"""T §3.1: the Telia service covers Swedish fixed and mobile numbers only; the terms say which
kinds of number an A-number may be, and a refused number is named for what it is."""

import pytest

pytestmark = pytest.mark.django_db


def report(api, contract, a_number, b_number="08-123 456 78"):
    return api.post(
        "/api/tickets/",
        {
            "contract": contract.pk,
            "a_number": a_number,
            "b_number": b_number,
            "fault_occurred_at": "2026-11-20T10:00:00+01:00",
            "description": "Samtal kopplas inte fram.",
        },
        format="json",
    )


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("020-123 456", "a toll-free number"),
        ("0900-123 45 67", "a premium-rate number"),
        ("0939-123 456", "a premium-rate number"),
        ("0944-123 456", "a premium-rate number"),
        ("0771-123 456", "a shared-cost number"),
        ("075-123 45 67", "a personal number"),
    ],
)
def test_t3_1_other_kinds_of_number_are_refused_by_name(staff_api, contract_b, number, kind):
    response = report(staff_api, contract_b, number)
    assert response.status_code == 400
    assert response.json()["a_number"] == [
        f"{number} is {kind}; these terms only cover fixed-line numbers and mobile numbers (T §3.1)."
    ]


@pytest.mark.parametrize("number", ["08-123 456 78", "070-123 45 67", "+46 18 12 34 56"])
def test_t3_1_swedish_fixed_and_mobile_numbers_are_taken(staff_api, contract_b, number):
    response = report(staff_api, contract_b, number, b_number="020-123 456")  # any caller may call
    assert response.status_code == 201, response.json()


def test_terms_without_number_kinds_take_any_valid_number(staff_api, contract_a):
    response = report(staff_api, contract_a, "018 12345", b_number="0800 123 456")
    assert response.status_code == 201, response.json()


def test_an_unknown_kind_on_the_terms_is_refused(staff_api):
    response = staff_api.patch("/api/terms/telia-smart-connect/", {"a_number_types": ["landline"]}, format="json")
    assert response.status_code == 400
    assert "fixed_line, mobile" in response.json()["a_number_types"][0]
