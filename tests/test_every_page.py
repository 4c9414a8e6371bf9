"""Every page of ours, on the demo data, as staff and as a customer would open it: on a 390 px
phone no page is wider than the screen, and axe-core finds no serious or critical accessibility
violation. The pages are generated from the URL configuration, so a new page is checked from the
day it is routed."""

import os
import pathlib
import re

import pytest
from django.core.management import call_command

from tests.factories import ensure_seed_terms
from tests.test_browser import CHROMIUM, browser, plain_http_cookies  # noqa: F401 - fixtures, found by their names
from tests.test_isolation import routes

pytestmark = pytest.mark.django_db(transaction=True)

AXE = pathlib.Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
if not AXE.exists():
    if os.environ.get("REQUIRE_BROWSER"):
        raise RuntimeError(f"REQUIRE_BROWSER is set but {AXE} is missing (npm ci)")
    pytest.skip(f"no {AXE} (npm ci)", allow_module_level=True)

PHONE = {"width": 390, "height": 844}
SERIOUS = ("serious", "critical")
ZONELESS = re.compile(r"\b\d{4}-\d\d-\d\d \d\d:\d\d\b(?! ?(?:[A-Z]{3,5}|[+-]\d\d)\b| ?\(| ?–)")
# Not pages: files, feeds, actions that only take a POST, and the sign-in machinery.
NOT_PAGES = re.compile(
    r"(^api/(?!docs/)|\.csv$|raw/$|/(end|confirm|delete|bulk|bulk-link|outage-options|read)/$|"
    r"^accounts/(login|logout)/|^i18n/|^healthz|^admin/|attachments?/)"
)


@pytest.fixture
def demo(settings):
    ensure_seed_terms()  # a live server's test flushes the database, seed terms too
    settings.DEBUG = True
    call_command("load_demo", verbosity=0)
    settings.DEBUG = False


def world() -> dict:
    from contracts.models import Customer
    from sla.models import Claim, Outage
    from tickets.models import InboundEmail, SavedView, Ticket

    rederi = Customer.objects.get(memberships__user__username="rederi")
    ticket = Ticket.objects.filter(customer=rederi).order_by("id").first()
    return {
        "number": ticket.number,
        "customer": rederi.pk,
        "contract": ticket.contract_id,
        "outage": Outage.objects.order_by("id").first().pk,
        "claim": getattr(Claim.objects.first(), "pk", 1),
        "mail": getattr(InboundEmail.objects.first(), "pk", 1),
        "view": getattr(SavedView.objects.first(), "pk", 1),
    }


def paths(role: str, objects: dict) -> list[str]:
    from tests.test_isolation import ROUTES

    found = []
    for name, pattern, admin in routes():
        # Unnamed: allauth's old addresses, answered 404 before it (accounts.urls).
        if admin or name is None or NOT_PAGES.search(pattern) or name in ("account_logout", "set_language", "home"):
            continue
        kind = ROUTES.get(name)
        if (role == "customer" and kind == "staff") or (role == "staff" and name.startswith("portal")):
            continue
        path = "/" + pattern
        for key in re.findall(r"<(?:\w+:)?(\w+)>", pattern):
            value = objects["number"] if key == "number" else objects.get(_owner(name), objects["contract"])
            path = re.sub(rf"<(?:\w+:)?{key}>", str(value), path)
        if "<" not in path:
            found.append(path)
    return sorted(set(found))


def _owner(name: str) -> str:
    for kind in ("customer", "outage", "claim", "view", "contract"):
        if kind in name:
            return kind
    return "contract"


def check(chromium, live_server, username, password, role, objects, language) -> tuple[list[str], int]:
    """The problems of each page the user opens, and how many pages were checked. The policy is
    bypassed only so that axe's script can run in the page."""
    problems, checked = [], 0
    context = chromium.new_context(viewport=PHONE, locale=language, timezone_id="Europe/Mariehamn", bypass_csp=True)
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    axe = AXE.read_text()
    for path in ["/accounts/login/", *paths(role, objects)]:
        probe = context.request.get(f"{live_server.url}{path}", max_redirects=0)
        if probe.status != 200 or "text/html" not in probe.headers.get("content-type", ""):
            continue  # a form's action, a redirect or a file: not a page of its own
        page.goto(f"{live_server.url}{path}")
        if path == "/api/docs/":
            page.wait_for_selector(".swagger-ui .opblock")  # drawn by its script once the schema is read
        checked += 1
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            problems.append(f"{role} {language} {path}: {width} px wide on a {PHONE['width']} px phone")
        if role == "staff":
            # Every time on a staff page says its zone (an abbreviation, or the zone's name after it).
            for moment in ZONELESS.findall(page.inner_text("main")):
                problems.append(f"{role} {language} {path}: the time {moment!r} says no zone")
        page.evaluate(axe)
        # Swagger UI's own markup nests its buttons; of that page we answer for the contrast.
        rules = "{runOnly: ['color-contrast']}" if path == "/api/docs/" else "{resultTypes: ['violations']}"
        result = page.evaluate(f"axe.run(document, {rules})")
        for violation in result["violations"]:
            if violation["impact"] in SERIOUS:
                targets = [" ".join(node["target"]) for node in violation["nodes"][:3]]
                problems.append(f"{role} {language} {path}: {violation['id']} ({violation['impact']}) at {targets}")
    context.close()
    return problems, checked


@pytest.mark.parametrize("language", ["sv-SE", "en-GB"])
def test_every_page_fits_a_phone_and_passes_axe(browser, live_server, demo, language):  # noqa: F811 - the fixture imported above
    objects = world()
    problems, staff_pages = check(browser, live_server, "staff", "demo-staff-pass", "staff", objects, language)
    more, customer_pages = check(browser, live_server, "rederi", "demo-rederi-pass", "customer", objects, language)
    assert not problems + more, "\n" + "\n".join(problems + more)
    assert staff_pages >= 15 and customer_pages >= 6, (staff_pages, customer_pages)
