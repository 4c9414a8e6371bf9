"""The pages in a real headless Chromium: a customer reports a fault, staff work it."""

import datetime
import os
import shutil

import pytest

from contracts.models import ContactPerson
from tests.factories import ContractFactory, CustomerFactory, CustomerUserFactory, ensure_seed_terms
from tickets.models import Ticket

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
if not shutil.which(CHROMIUM):
    if os.environ.get("REQUIRE_BROWSER"):
        raise RuntimeError(f"REQUIRE_BROWSER is set but {CHROMIUM} is missing")
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402 - only once Chromium is known to be there

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
# itself are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# A live server needs committed data, so these tests commit and the database is flushed after.
pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "x-customer-pass-42"


@pytest.fixture(scope="module")
def browser():
    # Playwright gives the browser a fresh, empty profile of its own.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def sign_in(browser, live_server, username, password):
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Mariehamn")
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


@pytest.fixture(autouse=True)
def plain_http_cookies(settings):
    # The live server speaks plain HTTP: a Secure cookie would never come back.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture
def people(django_user_model):
    ensure_seed_terms()
    staff = django_user_model.objects.create_user("desk", email="desk@desk.example", password=PASSWORD, is_staff=True)
    customer = CustomerFactory(name="Rederi Ab", language="en")
    ContactPerson.objects.create(customer=customer, name="Anna", email="anna@rederi.example", is_primary=True)
    ContractFactory(customer=customer)
    user = CustomerUserFactory(customer=customer, username="rederi")
    return staff, user


def test_a_fault_report_from_the_customer_to_staff_and_back(browser, live_server, people):
    staff, customer_user = people
    customer = sign_in(browser, live_server, "rederi", PASSWORD)
    customer.click("text=Report a fault")
    expect(customer.locator("label[for=id_a_number]")).to_contain_text("the number that was called")
    customer.fill("#id_a_number", "018 12345")
    customer.fill("#id_b_number", "040 123 4567")
    customer.fill("#id_fault_occurred_at", "2026-01-02T09:15")
    customer.fill("#id_description", "Calls to the switchboard drop after 3 seconds.")
    customer.click("text=Send the report")
    number = customer.locator("[data-testid=ticket-number]").inner_text()
    ticket = Ticket.objects.get()
    assert number == ticket.number
    expect(customer.locator(".receipt")).to_contain_text("Service starts at the latest")

    desk = sign_in(browser, live_server, "desk", PASSWORD)
    first_row = desk.locator("table.queue tbody tr").first
    expect(first_row).to_contain_text(number)
    first_row.locator("a").first.click()
    desk.click("[data-testid=start]")
    expect(desk.locator(".headline")).to_contain_text("In progress")
    desk.fill("#id_message", "Which phone model do you use?")
    desk.click("[data-testid=request-info]")
    expect(desk.locator(".headline")).to_contain_text("Waiting for customer")

    customer.goto(f"{live_server.url}/portal/tickets/{number}/")
    expect(customer.locator("[data-testid=waiting-banner]")).to_contain_text("Please answer by")
    expect(customer.locator(".timeline")).to_contain_text("Which phone model do you use?")
    customer.fill("#id_message", "A Yealink T54W.")
    customer.click('main form button:has-text("Send")')
    expect(customer.locator("[data-testid=waiting-banner]")).to_have_count(0)

    desk.reload()
    expect(desk.locator(".timeline")).to_contain_text("A Yealink T54W.")
    expect(desk.locator(".headline")).to_contain_text("In progress")


def test_html_in_a_report_is_shown_as_text_and_never_runs(browser, live_server, people):
    customer = sign_in(browser, live_server, "rederi", PASSWORD)
    dialogs = []
    customer.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    customer.goto(f"{live_server.url}/portal/report/")
    customer.fill("#id_a_number", "018 12345")
    customer.fill("#id_b_number", "040 123 4567")
    customer.fill("#id_fault_occurred_at", "2026-01-02T09:15")
    customer.fill("#id_description", '<script>alert("x")</script><img src=x onerror=alert(1)>')
    customer.click("text=Send the report")
    customer.click("text=Follow the ticket")
    expect(customer.locator(".timeline")).to_contain_text('<script>alert("x")</script>')
    desk = sign_in(browser, live_server, "desk", PASSWORD)
    desk.goto(f"{live_server.url}/desk/tickets/{Ticket.objects.get().number}/")
    expect(desk.locator(".timeline")).to_contain_text("onerror=alert(1)")
    assert dialogs == []


def test_staff_register_an_outage_and_the_customer_sees_the_discount(browser, live_server, people):
    from django.utils import timezone

    from contracts.models import Contract

    contract = Contract.objects.get()
    desk = sign_in(browser, live_server, "desk", PASSWORD)
    desk.goto(f"{live_server.url}/desk/sla/")
    last_month = (timezone.localdate().replace(day=1) - __import__("datetime").timedelta(days=1)).replace(day=6)
    desk.fill("#id_started_at", f"{last_month:%Y-%m-%d}T09:00")
    desk.fill("#id_ended_at", f"{last_month:%Y-%m-%d}T12:00")
    desk.fill("#id_contracts", str(contract.pk))
    desk.fill("#id_description", "Platform down")
    desk.click("main form.card button[type=submit]")
    expect(desk.locator(".alert.ok")).to_contain_text("The outage is registered.")
    customer = sign_in(browser, live_server, "rederi", PASSWORD)
    customer.goto(f"{live_server.url}/portal/contracts/{contract.pk}/availability/?month={last_month:%Y-%m}")
    # 180 of 43,200 minutes: 99.5833 %, below 99.6: the 15 % step.
    expect(customer.locator("#month dl.facts")).to_contain_text("99.5833 %")
    expect(customer.locator("#month dl.facts")).to_contain_text("15 %")
    expect(customer.locator(".chart rect.bar-below")).to_have_count(1)


SCRIPT = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 1">'


def test_markup_in_every_text_field_is_shown_as_text_on_every_page(browser, live_server, people):
    """Every free-text field a customer, a sender or staff can fill, on every page that shows it."""
    import datetime
    from decimal import Decimal

    from django.utils import timezone

    from contracts.models import Contract
    from sla import claims
    from sla import services as sla_services
    from tickets import inbound, services

    staff, customer_user = people
    staff.is_superuser = True  # the admin pages too
    staff.save()
    contract = Contract.objects.get()
    customer = contract.customer
    customer.name = f"Rederi {SCRIPT}"
    customer.save()
    ContactPerson.objects.create(customer=customer, name=f"Bo {SCRIPT}", email="bo@rederi.example")
    now = timezone.now()
    ticket = services.ticket_create(
        contract=contract,
        reported_by=customer_user,
        channel="web",
        a_number="018 12345",
        b_number="040 123 4567",
        fault_occurred_at=now - datetime.timedelta(hours=1),
        description=f"Desc {SCRIPT}",
    )
    services.ticket_start(ticket=ticket, actor=staff)
    services.ticket_reply(ticket=ticket, actor=staff, message=f"Note {SCRIPT}", internal=True)
    services.ticket_request_info(ticket=ticket, actor=staff, message=f"Ask {SCRIPT}")
    services.ticket_reply(ticket=ticket, actor=customer_user, message=f"Answer {SCRIPT}")
    services.time_log(ticket=ticket, actor=staff, minutes=15, worked_on=now.date(), note=f"Work {SCRIPT}")
    sla_services.outage_register(
        started_at=now - datetime.timedelta(hours=3),
        ended_at=now - datetime.timedelta(hours=2),
        kind="unplanned",
        responsibility="supplier",
        description=f"Outage {SCRIPT}",
        contracts=[contract],
        tickets=[ticket],
        actor=staff,
    )
    claims.claim_file(
        contract=contract,
        discovered_on=now.date(),
        description=f"Claim {SCRIPT}",
        tickets=[ticket],
        month=now.date().replace(day=1),
        amount=Decimal("12.00"),
        actor=customer_user,
    )
    inbound.receive(
        f"From: stranger@elsewhere.example\r\nSubject: Mail {SCRIPT}\r\nMessage-ID: <xss@x>\r\n"
        f"Content-Type: text/html; charset=utf-8\r\n\r\n<p>Body</p>{SCRIPT}\r\n".encode()
    )

    def visit(page, paths):
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        for path in paths:
            response = page.goto(f"{live_server.url}{path}")
            assert response.status < 400, path
            page.wait_for_load_state("load")
            assert page.evaluate("window.__xss") is None, f"a script ran on {path}"
        assert dialogs == []
        return page

    desk = sign_in(browser, live_server, "desk", PASSWORD)
    visit(
        desk,
        [
            "/desk/",
            f"/desk/?q={ticket.number}",
            f"/desk/tickets/{ticket.number}/",
            "/desk/sla/",
            f"/desk/sla/contracts/{contract.pk}/",
            "/desk/claims/",
            "/desk/inbox/",
            "/desk/delivery/",
            f"/desk/billable/?month={now:%Y-%m}",
            f"/admin/contracts/customer/{customer.pk}/change/",
            "/admin/tickets/ticket/",
            f"/desk/sla/billing/?month={now:%Y-%m}",
        ],
    )
    desk.goto(f"{live_server.url}/desk/tickets/{ticket.number}/")
    expect(desk.locator(".timeline")).to_contain_text(f"Note {SCRIPT}")

    portal = sign_in(browser, live_server, "rederi", PASSWORD)
    visit(
        portal,
        [
            "/portal/",
            f"/portal/tickets/{ticket.number}/",
            "/portal/claims/",
            f"/portal/contracts/{contract.pk}/availability/?month={now:%Y-%m}",
        ],
    )
    portal.goto(f"{live_server.url}/portal/tickets/{ticket.number}/")
    expect(portal.locator(".timeline")).to_contain_text(f"Answer {SCRIPT}")
    expect(portal.locator(".timeline")).not_to_contain_text("Note <script>")  # staff notes stay with staff


def test_staff_register_a_phone_report_through_the_page(browser, live_server, people):
    staff, _user = people
    desk = sign_in(browser, live_server, "desk", PASSWORD)
    desk.goto(f"{live_server.url}/desk/report/")
    desk.select_option("#id_customer", label="Rederi Ab")
    desk.select_option("#id_contract", index=1)
    desk.fill("#id_received_at", "2026-01-02T09:20")
    desk.fill("#id_a_number", "018 12345")
    desk.fill("#id_b_number", "040 123 4567")
    desk.fill("#id_fault_occurred_at", "2026-01-02T09:15")
    desk.fill("#id_description", "Called in: the switchboard does not answer.")
    desk.click("main button[type=submit]")
    ticket = Ticket.objects.get()
    expect(desk.locator(".alert.ok")).to_contain_text(f"Ticket {ticket.number} registered.")
    assert ticket.channel == "phone" and ticket.reported_by == staff


def test_a_long_unbroken_line_stays_inside_its_message(browser, live_server, people):
    from tickets import services

    staff, customer_user = people
    from contracts.models import Contract

    contract = Contract.objects.get()
    trace = "INVITE sip:+46812345678@pbx.example;transport=tcp;branch=z9hG4bK" + "a1b2c3d4" * 400
    ticket = services.ticket_create(
        contract=contract,
        reported_by=customer_user,
        channel="web",
        a_number="018 12345",
        b_number="040 123 4567",
        fault_occurred_at=None,
        category="support",
        description=trace,
    )
    services.ticket_reply(ticket=ticket, actor=staff, message=trace, internal=True)
    for width, height in ((1280, 900), (390, 844)):
        desk = sign_in(browser, live_server, "desk", PASSWORD)
        desk.set_viewport_size({"width": width, "height": height})
        desk.goto(f"{live_server.url}/desk/tickets/{ticket.number}/")
        scroll_width = desk.evaluate("document.documentElement.scrollWidth")
        wide = desk.evaluate(
            """Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 12).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right) + ' ' + Math.round(e.getBoundingClientRect().width))"""
        )
        assert scroll_width <= width, (width, scroll_width, wide)


def test_the_desk_updates_in_place_under_the_content_security_policy(browser, live_server, people):
    """htmx loads the outages beside a ticket, links one in a click and refreshes the queue with
    its count in the tab title, all without a reload and without a script the policy refuses."""
    from django.utils import timezone

    from contracts.models import Contract
    from sla import services as sla_services
    from tickets import services

    staff, customer_user = people
    contract = Contract.objects.get()
    now = timezone.now()
    ticket = services.ticket_create(
        contract=contract,
        reported_by=customer_user,
        channel="web",
        a_number="018 12345",
        b_number="040 123 4567",
        fault_occurred_at=now - datetime.timedelta(minutes=10),
        description="The switchboard does not answer.",
    )
    outage = sla_services.outage_register(
        started_at=now - datetime.timedelta(minutes=30),
        ended_at=None,
        kind="unplanned",
        responsibility="supplier",
        contracts=[contract],
        description="Switchboard cluster down",
    )
    desk = sign_in(browser, live_server, "desk", PASSWORD)
    refused = []
    desk.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    desk.goto(f"{live_server.url}/desk/tickets/{ticket.number}/")
    expect(desk.locator("#ticket-outages")).to_contain_text("Switchboard cluster down")
    desk.click(f"[data-testid=link-{outage.pk}]")
    expect(desk.locator("#ticket-outages")).to_contain_text("The ticket is linked to the outage.")
    assert list(outage.tickets.all()) == [ticket]

    desk.goto(f"{live_server.url}/desk/")
    expect(desk).to_have_title("(1) Queue")
    services.ticket_create(
        contract=contract,
        reported_by=customer_user,
        channel="web",
        a_number="018 12345",
        b_number="040 123 4567",
        fault_occurred_at=now - datetime.timedelta(minutes=2),
        description="A second report arrives while the agent looks.",
    )
    desk.evaluate(
        "htmx.ajax('GET', document.querySelector('#queue').getAttribute('hx-get'), {target: '#queue', swap: 'innerHTML'})"
    )
    expect(desk.locator("#queue")).to_contain_text("A second report arrives")
    expect(desk).to_have_title("(2) Queue")
    assert refused == []


def test_a_canned_reply_fills_the_message_box(browser, live_server, people):
    from contracts.models import Contract
    from tickets import services
    from tickets.models import CannedReply

    staff, customer_user = people
    CannedReply.objects.create(title="Received", language="en", body="We are looking at {ticket.number}.")
    ticket = services.ticket_create(
        contract=Contract.objects.get(),
        reported_by=customer_user,
        channel="web",
        category="support",
        description="How do I forward calls?",
    )
    desk = sign_in(browser, live_server, "desk", PASSWORD)
    desk.goto(f"{live_server.url}/desk/tickets/{ticket.number}/")
    desk.fill("#id_message", "Hello,")
    desk.select_option("#canned-reply", label="Received")
    expect(desk.locator("#id_message")).to_have_value(f"Hello,\n\nWe are looking at {ticket.number}.")


def test_staff_tick_tickets_and_assign_them_at_once_while_the_queue_holds_still(browser, live_server, people):
    from contracts.models import Contract
    from tickets import services

    staff, customer_user = people
    contract = Contract.objects.get()
    tickets = [
        services.ticket_create(
            contract=contract,
            reported_by=customer_user,
            channel="web",
            category="support",
            description=f"Question {i} about call forwarding.",
        )
        for i in range(3)
    ]
    desk = sign_in(browser, live_server, "desk", PASSWORD)
    desk.goto(f"{live_server.url}/desk/")
    expect(desk.locator("[data-bulk-for=assign]")).to_be_hidden()  # nothing ticked: only the hint
    desk.check(f"input[name=ticket][value='{tickets[0].number}']")
    desk.check(f"input[name=ticket][value='{tickets[1].number}']")
    expect(desk.locator("[data-bulk-count]")).to_have_text("2 ticked")
    expect(desk.locator("[data-bulk-for=classify]")).to_be_hidden()
    # A report arriving meanwhile does not replace the rows under the agent's ticks.
    services.ticket_create(
        contract=contract,
        reported_by=customer_user,
        channel="web",
        category="support",
        description="Arrives while the agent ticks.",
    )
    refresh = "htmx.ajax('GET', document.querySelector('#queue').getAttribute('hx-get'), {source: '#queue', target: '#queue', swap: 'innerHTML'})"
    desk.evaluate(refresh)
    desk.wait_for_timeout(300)
    expect(desk.locator("#queue")).not_to_contain_text("Arrives while the agent ticks.")
    expect(desk.locator("input[name=ticket]:checked")).to_have_count(2)
    desk.select_option("#bulk select[name=assignee]", label="desk")
    desk.click("#bulk button[type=submit]:not([formaction])")
    expect(desk.locator(".alert.ok")).to_contain_text("2 tickets assigned to desk.")
    assert {t.number for t in Ticket.objects.filter(assignee=staff)} == {tickets[0].number, tickets[1].number}
    expect(desk.locator("#queue")).to_contain_text("Arrives while the agent ticks.")


def test_an_account_manager_sees_the_notice_count_and_opens_the_notices(browser, live_server, people):
    """A new report on their contract shows as "1 new" in the header when the queue refreshes;
    the notices page leads to the ticket, which reads the notice."""
    from django.utils import timezone

    from contracts.models import Contract
    from tickets import services

    staff, customer_user = people
    contract = Contract.objects.get()
    contract.account_managers.add(staff)
    desk = sign_in(browser, live_server, "desk", PASSWORD)
    desk.goto(f"{live_server.url}/desk/")
    expect(desk.locator("#notices-link")).to_have_text("Notices")
    ticket = services.ticket_create(
        contract=contract,
        reported_by=customer_user,
        channel="web",
        a_number="018 12345",
        b_number="040 123 4567",
        fault_occurred_at=timezone.now() - datetime.timedelta(minutes=5),
        description="Nobody can call in.",
    )
    desk.evaluate(
        "htmx.ajax('GET', document.querySelector('#queue').getAttribute('hx-get'), {target: '#queue', swap: 'innerHTML'})"
    )
    expect(desk.locator("header [data-testid=notice-count]")).to_have_text("1 new")
    desk.click("#notices-link")
    expect(desk.locator("h1")).to_have_text("Notices")
    row = desk.locator("[data-testid=notice]")
    expect(row).to_contain_text("Rederi Ab")
    expect(row).to_contain_text("New report on a contract you manage")
    desk.click(f"text={ticket.number}")
    desk.wait_for_url(f"**/desk/tickets/{ticket.number}/")
    expect(desk.locator("header [data-testid=notice-count]")).to_have_count(0)


def test_the_staff_pages_fit_a_phone(browser, live_server, people):
    """The customer, contract and outage pages at 390 px: wide tables scroll inside their box,
    never the page; planned work is registered through the page and shows on the board."""
    from django.utils import timezone

    from contracts.models import Contract
    from sla import services as sla_services
    from tickets import services

    staff, customer_user = people
    contract = Contract.objects.get()
    now = timezone.now()
    ticket = services.ticket_create(
        contract=contract,
        reported_by=customer_user,
        channel="web",
        a_number="018 12345",
        b_number="040 123 4567",
        fault_occurred_at=now - datetime.timedelta(minutes=10),
        description="The switchboard does not answer.",
    )
    outage = sla_services.outage_register(
        started_at=now - datetime.timedelta(hours=2),
        kind="unplanned",
        responsibility="supplier",
        contracts=[contract],
        tickets=[ticket],
        description="Switchboard cluster down",
    )
    desk = sign_in(browser, live_server, "desk", PASSWORD)
    desk.set_viewport_size({"width": 390, "height": 844})
    desk.goto(f"{live_server.url}/desk/sla/outages/new/?kind=planned")
    ahead = timezone.localtime(now + datetime.timedelta(days=20))
    desk.fill("#id_started_at", f"{ahead:%Y-%m-%d}T22:00")
    desk.fill("#id_ended_at", f"{ahead + datetime.timedelta(days=1):%Y-%m-%d}T02:00")
    desk.fill("#id_announced_at", f"{timezone.localtime(now):%Y-%m-%d}T08:00")
    desk.select_option("#id_announced_via", "email")
    desk.fill("#id_description", "Platform upgrade")
    desk.click("main form.card button[type=submit]")
    expect(desk.locator(".alert.ok")).to_contain_text("The outage is registered.")
    for path in (
        "/desk/customers/",
        f"/desk/customers/{contract.customer_id}/",
        f"/desk/sla/contracts/{contract.pk}/",
        f"/desk/sla/outages/{outage.pk}/",
        f"/desk/sla/outages/{outage.pk}/edit/",
        "/desk/sla/",
        f"/desk/tickets/{ticket.number}/",
    ):
        desk.goto(f"{live_server.url}{path}")
        scroll_width = desk.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= 390, (path, scroll_width)
    desk.goto(f"{live_server.url}/desk/sla/")
    expect(desk.locator("#upcoming")).to_contain_text("Platform upgrade")
    desk.goto(f"{live_server.url}/desk/sla/outages/{outage.pk}/")
    desk.click(f"[data-testid=unlink-{ticket.number}]")
    expect(desk.locator(".alert.ok")).to_contain_text(f"{ticket.number} is no longer linked to the outage.")
    desk.fill("#link-number", ticket.number)
    desk.click("[data-testid=link]")
    expect(desk.locator(".alert.ok")).to_contain_text(f"{ticket.number} is linked to the outage.")
    desk.click("[data-testid=end]")
    expect(desk.locator(".alert.ok")).to_contain_text("The outage is ended.")


def test_an_update_posted_on_the_outage_page_shows_on_the_public_status_page_at_phone_width(
    browser, live_server, people
):
    """Staff post an update from the outage page on a phone; an anonymous visitor reads it on
    the terms' status page, in the terms' language until switching to English, never the
    outage's internal description; the page fits 390 px and links its feed."""
    from django.utils import timezone

    from sla import services as sla_services
    from sla.models import OutageUpdateMail

    now = timezone.now()
    outage = sla_services.outage_register(
        started_at=now - datetime.timedelta(minutes=40),
        kind="unplanned",
        responsibility="supplier",
        description="INTERNAL: core switch rack 4",
    )
    desk = sign_in(browser, live_server, "desk", PASSWORD)
    desk.set_viewport_size({"width": 390, "height": 844})
    desk.goto(f"{live_server.url}/desk/sla/outages/{outage.pk}/")
    desk.click("[data-testid=post-update-submit]")
    expect(desk.locator("#id_text_error")).to_contain_text("Write the update")
    desk.fill("#id_text", "Calls to the switchboard fail. We are working on it.")
    desk.select_option("#id_state", "investigating")
    desk.check("#id_notify")
    desk.click("[data-testid=post-update-submit]")
    expect(desk.locator(".alert.ok")).to_contain_text("e-mailed to the affected customers")
    expect(desk.locator("[data-testid=update]")).to_contain_text("Calls to the switchboard fail.")
    assert OutageUpdateMail.objects.count() == 1  # Rederi, the one customer with a contract

    visitor = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844}).new_page()
    visitor.goto(f"{live_server.url}/status/dstny-alcom-2022/")
    expect(visitor.locator("html")).to_have_attribute("lang", "sv")
    expect(visitor.locator("[data-testid=state]")).to_have_attribute("data-state", "outage")
    expect(visitor.locator("#ongoing")).to_contain_text("Calls to the switchboard fail. We are working on it.")
    expect(visitor.locator("body")).not_to_contain_text("INTERNAL")
    assert visitor.evaluate("document.documentElement.scrollWidth") <= 390
    visitor.click("button[lang=en]")
    expect(visitor.locator("html")).to_have_attribute("lang", "en")
    expect(visitor.locator("h1")).to_have_text("Operational status")
    expect(visitor.locator("#ongoing")).to_contain_text("Calls to the switchboard fail.")
    feed_path = visitor.locator("a[href$='feed.atom']").get_attribute("href")
    feed = visitor.request.get(f"{live_server.url}{feed_path}")
    assert feed.ok and "application/atom+xml" in feed.headers["content-type"]
    assert "Calls to the switchboard fail." in feed.text()
    visitor.context.close()


def test_an_image_attachment_is_shown_on_the_ticket_page(browser, live_server, people, settings, tmp_path):
    """A screenshot sent with the report shows as a picture, loaded under the pages' CSP; a file
    named .png that holds HTML is only a link."""
    from tests.test_portal_extras import tiny_png

    settings.MEDIA_ROOT = tmp_path
    customer = sign_in(browser, live_server, "rederi", PASSWORD)
    customer.goto(f"{live_server.url}/portal/report/")
    customer.fill("#id_a_number", "018 12345")
    customer.fill("#id_b_number", "040 123 4567")
    customer.fill("#id_fault_occurred_at", "2026-01-02T09:15")
    customer.fill("#id_description", "The display shows an error.")
    customer.set_input_files(
        "#id_attachments",
        files=[
            {"name": "display.png", "mimeType": "image/png", "buffer": tiny_png()},
            {"name": "fake.png", "mimeType": "image/png", "buffer": b"<html><script>alert(1)</script></html>"},
        ],
    )
    customer.click("text=Send the report")
    customer.click("text=Follow the ticket")
    image = customer.locator("ul.files img")
    expect(image).to_have_count(1)
    expect(image).to_have_attribute("alt", "display.png")
    # Waited for inside the element's own function: a string to poll would be eval'd, which the
    # page's Content-Security-Policy forbids.
    loaded_width = "img => img.complete ? img.naturalWidth : new Promise(done => img.addEventListener('load', () => done(img.naturalWidth)))"
    assert image.evaluate(loaded_width) == 1  # loaded and decoded, not a broken image
    expect(customer.locator("ul.files")).to_contain_text("fake.png")


def test_a_customer_chooses_a_new_password_from_the_mailed_link(browser, live_server, people, settings):
    from django.core import mail

    staff, customer_user = people
    customer_user.email = "rederi@rederi.example"
    customer_user.save()
    settings.SITE_URL = live_server.url
    context = browser.new_context(locale="en-GB")
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.click("text=Forgot your password?")
    page.fill("#id_email", "rederi@rederi.example")
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_have_text("Check your e-mail")
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/accounts/password/reset/" in line)
    page.goto(link.strip())
    page.fill("#id_new_password1", "Brand-New-Secret-91")
    page.fill("#id_new_password2", "Brand-New-Secret-91")
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_have_text("Password saved")
    signed_in = sign_in(browser, live_server, "rederi", "Brand-New-Secret-91")
    expect(signed_in.locator("header")).to_contain_text("rederi")


def test_a_customer_withdraws_a_report_after_saying_yes(browser, live_server, people):
    from contracts.models import Contract
    from tickets import services

    staff, customer_user = people
    ticket = services.ticket_create(
        contract=Contract.objects.get(),
        reported_by=customer_user,
        channel="web",
        category="support",
        description="Can we forward calls to a mobile?",
    )
    page = sign_in(browser, live_server, "rederi", PASSWORD)
    page.goto(f"{live_server.url}/portal/tickets/{ticket.number}/")
    page.click("text=Withdraw the report")
    expect(page.locator("h1")).to_have_text(f"Withdraw the report {ticket.number}?")
    page.click("text=No, keep it open")
    expect(page.locator("h1")).to_contain_text(ticket.number)
    ticket.refresh_from_db()
    assert ticket.status == "new"  # asked, not done
    page.click("text=Withdraw the report")
    page.fill("#id_message", "It works again.")
    page.click("text=Yes, withdraw it")
    expect(page.locator(".alert.ok")).to_contain_text(f"Your report {ticket.number} is withdrawn")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.close_reason) == ("closed", "withdrawn")
    expect(page.locator("text=Withdraw the report")).to_have_count(0)
