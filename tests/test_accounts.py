"""Passwords as users handle them: forgotten, changed, and chosen the first time from a link staff
had sent, never a password passed around."""

import re

import pytest
from django.core import mail

from contracts import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(client, admin_client):
    for each in (client, admin_client):
        each.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def link_in(message) -> str:
    return re.search(r"https?://\S+/accounts/password/reset/\S+/", message.body)[0]


def test_a_forgotten_password_is_chosen_again_through_a_link_that_works_once(client, customer_a_user, settings):
    settings.SITE_URL = "https://desk.example"
    settings.ALLOWED_HOSTS = ["*"]  # even where any host name is let through
    customer_a_user.set_password("old-Secret-4711")
    customer_a_user.save()
    login = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'href="/accounts/password/reset/"' in login
    sent = client.post(
        "/accounts/password/reset/", {"email": customer_a_user.email.upper()}, HTTP_HOST="evil.example", follow=True
    )
    assert "Check your e-mail" in sent.content.decode()
    (message,) = mail.outbox
    link = link_in(message)
    assert link.startswith("https://desk.example/accounts/password/reset/")  # SITE_URL, not the Host header
    assert "evil.example" not in message.body
    path = link.removeprefix("https://desk.example")
    form = client.get(path, follow=True)
    chosen = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Brand-New-Secret-91", "new_password2": "Brand-New-Secret-91"},
        follow=True,
    )
    assert "Password saved" in chosen.content.decode()
    customer_a_user.refresh_from_db()
    assert customer_a_user.check_password("Brand-New-Secret-91")
    again = client.get(path, follow=True).content.decode()
    assert "This link has been used already or is too old." in again


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client):
    answer = client.post("/accounts/password/reset/", {"email": "nobody@nowhere.example"}, follow=True)
    assert "Check your e-mail" in answer.content.decode() and mail.outbox == []


def test_a_signed_in_user_changes_the_password_and_stays_signed_in(client, customer_a_user):
    customer_a_user.set_password("old-Secret-4711")
    customer_a_user.save()
    client.force_login(customer_a_user)
    portal = client.get("/portal/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'href="/accounts/password/change/"' in portal
    wrong = client.post(
        "/accounts/password/change/",
        {"old_password": "nope", "new_password1": "x", "new_password2": "y"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert wrong.status_code == 200 and "Your old password was entered incorrectly" in wrong.content.decode()
    done = client.post(
        "/accounts/password/change/",
        {
            "old_password": "old-Secret-4711",
            "new_password1": "Brand-New-Secret-91",
            "new_password2": "Brand-New-Secret-91",
        },
        follow=True,
    )
    assert "Password changed" in done.content.decode()
    assert client.get("/portal/").status_code == 200  # still signed in


def test_a_user_created_without_a_password_gets_a_link_in_the_customers_language(
    client, staff_api, customer_a, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://desk.example"
    customer_a.language = "sv"
    customer_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        created = staff_api.post(
            f"/api/customers/{customer_a.pk}/users/",
            {"username": "ny-anvandare", "email": "ny@alfa.example"},
            format="json",
        )
    assert created.status_code == 201, created.json()
    (message,) = mail.outbox
    assert message.to == ["ny@alfa.example"]
    assert message.body.startswith("Hej,")  # the customer's language
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="ny-anvandare")
    assert not user.has_usable_password()
    path = link_in(message).removeprefix("https://desk.example")
    form = client.get(path, follow=True)
    client.post(
        form.redirect_chain[-1][0], {"new_password1": "Brand-New-Secret-91", "new_password2": "Brand-New-Secret-91"}
    )
    user.refresh_from_db()
    assert user.check_password("Brand-New-Secret-91")
    # Its link ran out? "Forgot your password?" reaches a user who never chose one too.
    services.customer_user_create(customer=customer_a, username="senare", email="senare@alfa.example")
    mail.outbox.clear()
    client.post("/accounts/password/reset/", {"email": "senare@alfa.example"})
    assert len(mail.outbox) == 1


def test_staff_e_mail_a_sign_in_link_from_the_admin(admin_client, customer_a, django_user_model):
    from contracts.models import CustomerMembership

    with_address = services.customer_user_create(
        customer=customer_a, username="with", email="with@alfa.example", password="Some-Secret-4711"
    )
    without = django_user_model.objects.create_user("without")
    CustomerMembership.objects.create(user=without, customer=customer_a)
    mail.outbox.clear()
    ids = list(CustomerMembership.objects.values_list("pk", flat=True))
    answer = admin_client.post(
        "/admin/contracts/customermembership/", {"action": "send_sign_in_link", "_selected_action": ids}, follow=True
    )
    page = answer.content.decode()
    assert [m.to for m in mail.outbox] == [[with_address.email]]
    assert "No e-mail address, so no link: without." in page
