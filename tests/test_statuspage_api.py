"""The status page in the shapes of Atlassian Statuspage's public API v2, which monitors and
dashboards read: the same outages as the page, renamed, and nothing the page does not show."""

import datetime

import jsonschema
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla import services as sla_services
from tests.factories import ContractFactory

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)  # 12:00 in Mariehamn
PAGE = "/status/dstny-alcom-2022/"
API = PAGE + "api/v2/"
DOCUMENTS = (
    "summary.json",
    "status.json",
    "components.json",
    "incidents.json",
    "incidents/unresolved.json",
    "scheduled-maintenances.json",
    "scheduled-maintenances/upcoming.json",
    "scheduled-maintenances/active.json",
)
HIDDEN = ("INTERNAL-NOTE", "ALFA-ONLY", "BETA-ONLY", "TELIA-ONLY", "Alfa Ab", "Beta AB", "staffer")


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def ago(hours: float) -> datetime.datetime:
    return NOW - datetime.timedelta(hours=hours)


def outage(started, ended=None, *, kind="unplanned", contracts=(), service="dstny-alcom-2022", note="the core switch"):
    return sla_services.outage_register(
        started_at=started,
        ended_at=ended,
        kind=kind,
        responsibility="supplier",
        contracts=list(contracts),
        service=None if contracts else service,
        announced_at=NOW if kind == "planned" else None,
        announced_via="email" if kind == "planned" else "",
        description=f"INTERNAL-NOTE: {note}",
    )


def post(item, text, at, state="", notify=False):
    return sla_services.outage_post_update(outage=item, text=text, state=state, notify=notify, now=at)


@pytest.fixture
def scene(contract_a, customer_b, dstny, telia):
    """On the Dstny service: a service-wide outage going on with two updates, one over since
    yesterday, planned work in ten days and Alfa's own outage; Beta's outage and one of the
    whole Telia service, which the Dstny page never shows."""
    wide = outage(ago(2))
    first = post(wide, "Calls to the switchboard fail; we are on it.", ago(1.5), state="identified", notify=True)
    second = post(wide, "A faulty card; the new one arrives within the hour.", ago(0.5))
    over = outage(ago(30), ago(28), note="yesterday's fault")
    post(over, "Calls drop now and then.", ago(29.5), state="investigating")
    watched = post(over, "A fix is in; we are watching it.", ago(28.5), state="monitoring")
    planned = outage(NOW + datetime.timedelta(days=10), NOW + datetime.timedelta(days=10, hours=2), kind="planned")
    announced = post(planned, "Platform upgrade: calls drop for up to two minutes.", NOW)
    alfa = outage(ago(1), contracts=[contract_a], note="Alfa's trunk")
    post(alfa, "ALFA-ONLY: your trunk is down.", ago(1))
    beta = outage(ago(1), contracts=[ContractFactory(customer=customer_b, terms=dstny)], note="Beta's trunk")
    post(beta, "BETA-ONLY: your trunk is down.", ago(1))
    telia_wide = outage(ago(1), service="telia-smart-connect", note="Telia's core")
    post(telia_wide, "TELIA-ONLY: calls fail.", ago(1))
    return locals()


def get(client, document: str, slug_page: str = API) -> dict:
    response = client.get(slug_page + document)
    assert response.status_code == 200, document
    assert response["Content-Type"] == "application/json"
    return response.json()


def test_the_summary_for_anyone_has_the_service_its_unresolved_incident_and_the_planned_work(client, scene, dstny):
    wide, over, planned = scene["wide"], scene["over"], scene["planned"]
    page = {
        "id": "dstny-alcom-2022",
        "name": dstny.name,
        "url": "http://testserver" + PAGE,
        "time_zone": "Europe/Mariehamn",
        "updated_at": "2026-11-23T12:00:00+02:00",  # the outages were registered now
    }
    component = {
        "id": "dstny-alcom-2022",
        "name": dstny.name,
        "status": "major_outage",
        "created_at": None,  # the terms apply from always
        "updated_at": "2026-11-23T10:00:00+02:00",  # the outage going on started
        "position": 1,
        "description": None,
        "showcase": True,
        "start_date": None,
        "group_id": None,
        "page_id": "dstny-alcom-2022",
        "group": False,
        "only_show_if_degraded": False,
    }

    def update(row, status):
        at = row.posted_at.astimezone(datetime.timezone(datetime.timedelta(hours=2))).isoformat()
        return {
            "id": str(row.pk),
            "status": status,
            "body": row.text,
            "incident_id": str(row.outage_id),
            "created_at": at,
            "updated_at": at,
            "display_at": at,
            "affected_components": None,
            "deliver_notifications": row.notify_customers,
            "custom_tweet": None,
            "tweet_id": None,
        }

    body = get(client, "summary.json")
    assert body == {
        "page": page,
        "components": [component],
        "incidents": [
            {
                "id": str(wide.pk),
                "name": "Avbrott sedan 2026-11-23 10:00 (Europe/Mariehamn)",  # the terms speak Swedish
                "status": "identified",  # the latest state an update named
                "created_at": "2026-11-23T12:00:00+02:00",
                "updated_at": "2026-11-23T12:00:00+02:00",
                "monitoring_at": None,
                "resolved_at": None,
                "impact": "major",
                "shortlink": f"http://testserver{PAGE}#outage-{wide.pk}",
                "started_at": "2026-11-23T10:00:00+02:00",
                "page_id": "dstny-alcom-2022",
                "incident_updates": [update(scene["second"], "identified"), update(scene["first"], "identified")],
                "components": [component],
            }
        ],
        "scheduled_maintenances": [
            {
                "id": str(planned.pk),
                "name": "Planerat systemarbete 2026-12-03 12:00–14:00 (Europe/Mariehamn)",
                "status": "scheduled",
                "created_at": "2026-11-23T12:00:00+02:00",
                "updated_at": "2026-11-23T12:00:00+02:00",
                "monitoring_at": None,
                "resolved_at": None,
                "impact": "none",
                "shortlink": f"http://testserver{PAGE}#outage-{planned.pk}",
                "started_at": "2026-12-03T12:00:00+02:00",
                "page_id": "dstny-alcom-2022",
                "incident_updates": [update(scene["announced"], "scheduled")],
                "components": [component],
                "scheduled_for": "2026-12-03T12:00:00+02:00",
                "scheduled_until": "2026-12-03T14:00:00+02:00",
            }
        ],
        "status": {"indicator": "major", "description": "Avbrott"},
    }
    incidents = get(client, "incidents.json")["incidents"]
    assert [item["id"] for item in incidents] == [str(wide.pk), str(over.pk)]  # newest first
    yesterday = incidents[1]
    assert (yesterday["status"], yesterday["resolved_at"], yesterday["monitoring_at"]) == (
        "resolved",
        "2026-11-22T08:00:00+02:00",
        "2026-11-22T07:30:00+02:00",
    )
    assert [u["status"] for u in yesterday["incident_updates"]] == ["monitoring", "investigating"]
    assert get(client, "incidents/unresolved.json")["incidents"] == body["incidents"]
    assert get(client, "status.json") == {"page": page, "status": body["status"]}
    assert get(client, "components.json") == {"page": page, "components": [component]}
    maintenances = body["scheduled_maintenances"]
    assert get(client, "scheduled-maintenances.json")["scheduled_maintenances"] == maintenances
    assert get(client, "scheduled-maintenances/upcoming.json")["scheduled_maintenances"] == maintenances
    assert get(client, "scheduled-maintenances/active.json")["scheduled_maintenances"] == []


def test_no_document_shows_another_services_another_customers_or_anything_internal(client, scene, customer_a_user):
    for document in DOCUMENTS:
        content = client.get(API + document).content.decode()
        for hidden in HIDDEN:
            assert hidden not in content, (document, hidden)
        assert str(scene["alfa"].pk) not in [
            item["id"] for item in client.get(API + document).json().get("incidents", [])
        ]
    client.force_login(customer_a_user)
    for document in DOCUMENTS:
        content = client.get(API + document).content.decode()
        for hidden in ("INTERNAL-NOTE", "BETA-ONLY", "TELIA-ONLY", "Beta AB"):
            assert hidden not in content, (document, hidden)


def test_a_signed_in_customer_also_reads_its_own_outage_as_a_minor_incident(client, scene, customer_a_user):
    client.force_login(customer_a_user)
    incidents = get(client, "incidents/unresolved.json")["incidents"]
    assert [(item["id"], item["impact"]) for item in incidents] == [
        (str(scene["alfa"].pk), "minor"),  # started an hour ago
        (str(scene["wide"].pk), "major"),
    ]
    assert incidents[0]["incident_updates"][0]["body"] == "ALFA-ONLY: your trunk is down."
    assert incidents[0]["status"] == "investigating"  # no update named a state


def test_the_telia_page_has_its_own_outage_only(client, scene):
    body = get(client, "summary.json", "/status/telia-smart-connect/api/v2/")
    assert [item["id"] for item in body["incidents"]] == [str(scene["telia_wide"].pk)]
    assert body["scheduled_maintenances"] == [] and body["page"]["time_zone"] == "Europe/Stockholm"


def test_planned_work_goes_from_scheduled_to_in_progress_verifying_and_completed(client, dstny):
    start = NOW + datetime.timedelta(days=1)
    planned = outage(start, start + datetime.timedelta(hours=2), kind="planned")
    post(planned, "The work starts tomorrow at 12:00.", NOW)

    def read(at):
        with time_machine.travel(at, tick=False):
            return get(client, "summary.json"), get(client, "scheduled-maintenances.json")

    summary, every = read(NOW)
    assert summary["scheduled_maintenances"][0]["status"] == "scheduled"
    assert summary["status"] == {"indicator": "none", "description": "Alla system fungerar"}
    summary, every = read(start + datetime.timedelta(minutes=30))
    assert summary["scheduled_maintenances"][0]["status"] == "in_progress"
    assert summary["components"][0]["status"] == "under_maintenance"
    assert summary["status"]["indicator"] == "none"  # Statuspage's indicator rates incidents only
    with time_machine.travel(start + datetime.timedelta(hours=1), tick=False):
        post(planned, "Done; we are checking the calls.", start + datetime.timedelta(hours=1), state="monitoring")
        assert get(client, "scheduled-maintenances/active.json")["scheduled_maintenances"][0]["status"] == "verifying"
        assert get(client, "scheduled-maintenances/upcoming.json")["scheduled_maintenances"] == []
    summary, every = read(start + datetime.timedelta(hours=3))
    assert summary["scheduled_maintenances"] == [] and summary["components"][0]["status"] == "operational"
    statuses = [u["status"] for u in every["scheduled_maintenances"][0]["incident_updates"]]
    assert every["scheduled_maintenances"][0]["status"] == "completed" and statuses == ["verifying", "scheduled"]


def test_an_outage_that_is_over_is_resolved_whatever_its_last_update_said_and_not_before(client, dstny):
    item = outage(ago(3))
    post(item, "Fixed.", ago(2), state="resolved")
    incident = get(client, "incidents.json")["incidents"][0]
    assert incident["status"] == "monitoring" and incident["resolved_at"] is None  # staff have not ended it
    assert get(client, "incidents/unresolved.json")["incidents"] == [incident]
    sla_services.outage_update(outage=item, changes={"ended_at": ago(1)})
    incident = get(client, "incidents.json")["incidents"][0]
    assert incident["status"] == "resolved" and incident["resolved_at"] == "2026-11-23T11:00:00+02:00"
    assert get(client, "incidents/unresolved.json")["incidents"] == []


def test_incidents_cover_the_pages_ninety_days(client, dstny):
    inside = outage(ago(24 * 80), ago(24 * 80 - 1))
    outage(ago(24 * 100), ago(24 * 100 - 1))
    assert [item["id"] for item in get(client, "incidents.json")["incidents"]] == [str(inside.pk)]


def test_every_document_keeps_to_statuspages_documented_fields(client, scene, customer_a_user):
    for signed_in in (False, True):
        if signed_in:
            client.force_login(customer_a_user)
        for document in DOCUMENTS:
            jsonschema.validate(get(client, document), SCHEMAS[document])


def test_the_documents_speak_english_when_the_visitor_chose_it_and_answer_as_status_json_does(
    client, scene, customer_a_user
):
    client.cookies["django_language"] = "en"
    body = get(client, "summary.json")
    assert body["incidents"][0]["name"] == "Outage since 2026-11-23 10:00 (Europe/Mariehamn)"
    assert body["status"]["description"] == "Outage"
    for signed_in in (False, True):
        if signed_in:
            client.force_login(customer_a_user)
        ours, theirs = client.get(API + "summary.json"), client.get(PAGE + "status.json")
        for header in ("Cache-Control", "Content-Language", "Access-Control-Allow-Origin", "Vary"):
            assert ours.get(header) == theirs.get(header), (signed_in, header)


def test_the_status_page_links_the_summary_for_monitoring_tools(client, dstny):
    assert f'href="{API}summary.json"' in client.get(PAGE).content.decode()


def test_unknown_terms_and_writes_are_refused(client, dstny):
    for document in DOCUMENTS:
        assert client.get("/status/no-such-terms/api/v2/" + document).status_code == 404
        assert client.post(API + document).status_code == 405


def test_the_documents_run_the_same_queries_however_many_outages_and_updates(client, contract_a, customer_a_user):
    def count() -> dict[str, int]:
        counts = {}
        for document in ("summary.json", "incidents.json", "scheduled-maintenances.json"):
            with CaptureQueriesContext(connection) as captured:
                assert client.get(API + document).status_code == 200
            counts[document] = len(captured)
        return counts

    post(outage(ago(3)), "One.", ago(3))
    post(outage(ago(2), contracts=[contract_a]), "Own.", ago(2))
    anonymous_few = count()
    client.force_login(customer_a_user)
    customer_few = count()
    for hours in range(4, 12):
        item = outage(ago(hours), contracts=[contract_a] if hours % 2 else [])
        for n in range(3):
            post(item, f"Update {n}.", ago(hours - n * 0.1))
        sla_services.outage_update(outage=item, changes={"ended_at": ago(hours % 3)})
        ahead = outage(NOW + datetime.timedelta(days=hours), kind="planned")
        post(ahead, "Ahead.", NOW)
    assert count() == customer_few
    client.logout()
    assert count() == anonymous_few


# Statuspage's public API v2 as its documentation and its pages give it, field by field; no
# other field may appear (an extra one could carry what the page does not show).
TIME = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$"}
MAYBE_TIME = {"anyOf": [TIME, {"type": "null"}]}
ID = {"type": "string", "minLength": 1}


def strict(properties: dict) -> dict:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


PAGE_SCHEMA = strict(
    {"id": ID, "name": {"type": "string"}, "url": {"type": "string"}, "time_zone": ID, "updated_at": MAYBE_TIME}
)
STATUS_SCHEMA = strict(
    {"indicator": {"enum": ["none", "minor", "major", "critical"]}, "description": {"type": "string"}}
)
COMPONENT = strict(
    {
        "id": ID,
        "name": {"type": "string"},
        "status": {
            "enum": ["operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"]
        },
        "created_at": MAYBE_TIME,
        "updated_at": MAYBE_TIME,
        "position": {"type": "integer"},
        "description": {"type": ["string", "null"]},
        "showcase": {"type": "boolean"},
        "start_date": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
        "group_id": {"type": ["string", "null"]},
        "page_id": ID,
        "group": {"type": "boolean"},
        "only_show_if_degraded": {"type": "boolean"},
    }
)


def incident_schema(statuses: list[str], extra: dict | None = None) -> dict:
    update = strict(
        {
            "id": ID,
            "status": {"enum": statuses},
            "body": {"type": "string"},
            "incident_id": ID,
            "created_at": TIME,
            "updated_at": TIME,
            "display_at": TIME,
            "affected_components": {"type": ["array", "null"]},
            "deliver_notifications": {"type": "boolean"},
            "custom_tweet": {"type": ["string", "null"]},
            "tweet_id": {"type": ["string", "null"]},
        }
    )
    return strict(
        {
            "id": ID,
            "name": {"type": "string", "minLength": 1},
            "status": {"enum": statuses},
            "created_at": TIME,
            "updated_at": TIME,
            "monitoring_at": MAYBE_TIME,
            "resolved_at": MAYBE_TIME,
            "impact": {"enum": ["none", "minor", "major", "critical"]},
            "shortlink": {"type": "string"},
            "started_at": TIME,
            "page_id": ID,
            "incident_updates": {"type": "array", "items": update},
            "components": {"type": "array", "items": COMPONENT},
            **(extra or {}),
        }
    )


INCIDENT = incident_schema(["investigating", "identified", "monitoring", "resolved", "postmortem"])
MAINTENANCE = incident_schema(
    ["scheduled", "in_progress", "verifying", "completed"], {"scheduled_for": TIME, "scheduled_until": MAYBE_TIME}
)


def listing(key: str, item: dict) -> dict:
    return strict({"page": PAGE_SCHEMA, key: {"type": "array", "items": item}})


SCHEMAS = {
    "summary.json": strict(
        {
            "page": PAGE_SCHEMA,
            "components": {"type": "array", "items": COMPONENT},
            "incidents": {"type": "array", "items": INCIDENT},
            "scheduled_maintenances": {"type": "array", "items": MAINTENANCE},
            "status": STATUS_SCHEMA,
        }
    ),
    "status.json": strict({"page": PAGE_SCHEMA, "status": STATUS_SCHEMA}),
    "components.json": listing("components", COMPONENT),
    "incidents.json": listing("incidents", INCIDENT),
    "incidents/unresolved.json": listing("incidents", INCIDENT),
    "scheduled-maintenances.json": listing("scheduled_maintenances", MAINTENANCE),
    "scheduled-maintenances/upcoming.json": listing("scheduled_maintenances", MAINTENANCE),
    "scheduled-maintenances/active.json": listing("scheduled_maintenances", MAINTENANCE),
}
