"""A status board in the shapes of Atlassian Statuspage's public API v2 (`/api/v2/summary.json`
and its siblings), which monitors and dashboards already read.

The board decides what is visible (`selectors.status_board`); this only renames. The service is
one component, named as the terms; an unplanned outage is an incident, planned work a scheduled
maintenance. Names are the same neutral titles the feed shows, texts are the public updates.
Values stay within the enumerations Statuspage documents."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable, Iterable

from sla.models import OutageKind, UpdateState
from sla.selectors import StatusBoard, StatusOutage

# Statuspage's indicator rates incidents; planned work going on shows in the component's status.
INDICATORS = {"operational": "none", "degraded": "minor", "outage": "major", "maintenance": "none"}
COMPONENT_STATUSES = {
    "operational": "operational",
    "degraded": "partial_outage",
    "outage": "major_outage",
    "maintenance": "under_maintenance",
}
UNRESOLVED = ("investigating", "identified", "monitoring")
UNFINISHED = ("scheduled", "in_progress", "verifying")


class Document:
    """One board read as Statuspage's documents; `title(item)` names an outage."""

    def __init__(self, board: StatusBoard, *, zone: zoneinfo.ZoneInfo, page: str, title: Callable[[StatusOutage], str]):
        self.board = board
        self.zone = zone
        self.page = page
        self.title = title
        self.page_id = board.terms.slug
        items = [*board.ongoing, *board.ahead, *board.recent]
        items.sort(key=lambda item: (item.outage.started_at, item.outage.pk), reverse=True)
        self.incidents = [self._incident(item) for item in items if item.outage.kind == OutageKind.UNPLANNED]
        self.maintenances = [self._maintenance(item) for item in items if item.outage.kind == OutageKind.PLANNED]

    def _time(self, moment: datetime.datetime | None) -> str | None:
        return moment.astimezone(self.zone).isoformat() if moment else None

    # The documents, each with the page.

    def page_json(self) -> dict:
        items = [*self.board.ongoing, *self.board.ahead, *self.board.recent]
        changed = [moment for moment in (self._component_changed(), *map(_updated, items)) if moment]
        return {
            "id": self.page_id,
            "name": self.board.terms.name,
            "url": self.page,
            "time_zone": self.zone.key,
            "updated_at": self._time(max(changed)) if changed else None,
        }

    def status(self) -> dict:
        return {"page": self.page_json(), "status": self._status()}

    def summary(self) -> dict:
        return {
            "page": self.page_json(),
            "components": [self.component()],
            "incidents": self.unresolved(),
            "scheduled_maintenances": [entry for entry in self.maintenances if entry["status"] in UNFINISHED],
            "status": self._status(),
        }

    def components(self) -> dict:
        return {"page": self.page_json(), "components": [self.component()]}

    def incidents_json(self, *, unresolved: bool = False) -> dict:
        return {"page": self.page_json(), "incidents": self.unresolved() if unresolved else self.incidents}

    def maintenances_json(self, *, statuses: Iterable[str] | None = None) -> dict:
        wanted = set(statuses) if statuses is not None else None
        chosen = [entry for entry in self.maintenances if wanted is None or entry["status"] in wanted]
        return {"page": self.page_json(), "scheduled_maintenances": chosen}

    def unresolved(self) -> list[dict]:
        return [entry for entry in self.incidents if entry["status"] in UNRESOLVED]

    # The parts.

    def _status(self) -> dict:
        return {"indicator": INDICATORS[self.board.state], "description": self.board.state_label}

    def _start(self) -> datetime.datetime | None:
        terms = self.board.terms
        return (
            datetime.datetime.combine(terms.effective_from, datetime.time(), self.zone)
            if terms.effective_from
            else None
        )

    def _component_changed(self) -> datetime.datetime | None:
        """When the service's status last changed: an outage seen on this page started or ended."""
        moments = [self._start()]
        for item in [*self.board.ongoing, *self.board.recent]:
            moments += [item.outage.started_at, item.outage.ended_at]
        passed = [moment for moment in moments if moment and moment <= self.board.now]
        return max(passed) if passed else None

    def component(self) -> dict:
        terms = self.board.terms
        return {
            "id": self.page_id,
            "name": terms.name,
            "status": COMPONENT_STATUSES[self.board.state],
            "created_at": self._time(self._start()),
            "updated_at": self._time(self._component_changed()),
            "position": 1,
            "description": None,
            "showcase": True,
            "start_date": terms.effective_from.isoformat() if terms.effective_from else None,
            "group_id": None,
            "page_id": self.page_id,
            "group": False,
            "only_show_if_degraded": False,
        }

    def _entry(self, item: StatusOutage, status: str, update_statuses: list[str], impact: str) -> dict:
        outage = item.outage
        over = outage.ended_at is not None and outage.ended_at <= self.board.now
        monitoring = next((update.posted_at for update in item.updates if update.state == UpdateState.MONITORING), None)
        return {
            "id": str(outage.pk),
            "name": self.title(item),
            "status": status,
            "created_at": self._time(outage.created_at),
            "updated_at": self._time(_updated(item)),
            "monitoring_at": self._time(monitoring),
            "resolved_at": self._time(outage.ended_at) if over else None,
            "impact": impact,
            "shortlink": f"{self.page}#outage-{outage.pk}",
            "started_at": self._time(outage.started_at),
            "page_id": self.page_id,
            "incident_updates": [
                {
                    "id": str(update.pk),
                    "status": update_status,
                    "body": update.text,
                    "incident_id": str(outage.pk),
                    "created_at": self._time(update.posted_at),
                    "updated_at": self._time(update.posted_at),
                    "display_at": self._time(update.posted_at),
                    "affected_components": None,  # we record no component's status per update
                    "deliver_notifications": update.notify_customers,
                    "custom_tweet": None,
                    "tweet_id": None,
                }
                for update, update_status in reversed(list(zip(item.updates, update_statuses, strict=True)))
            ],
            "components": [self.component()],
        }

    def _incident(self, item: StatusOutage) -> dict:
        """Each update's status is the state it names, or the one before it; the incident's is
        its latest. The outage's times decide whether it is resolved: staff end an outage,
        so one whose update said "resolved" but has no end yet is still being watched."""
        outage = item.outage
        statuses, state = [], ""
        for update in item.updates:
            state = update.state or state
            statuses.append(_incident_status(state, outage.ended_at, update.posted_at))
        status = _incident_status(state, outage.ended_at, self.board.now)
        # The public sees service-wide outages only; a customer also its own, which hit some contracts.
        impact = "major" if outage.service_wide else "minor"
        return self._entry(item, status, statuses, impact)

    def _maintenance(self, item: StatusOutage) -> dict:
        outage = item.outage
        statuses, state = [], ""
        for update in item.updates:
            state = update.state or state
            statuses.append(_maintenance_status(state, outage.started_at, outage.ended_at, update.posted_at))
        status = _maintenance_status(state, outage.started_at, outage.ended_at, self.board.now)
        entry = self._entry(item, status, statuses, "none")
        entry["scheduled_for"] = self._time(outage.started_at)
        entry["scheduled_until"] = self._time(outage.ended_at)
        return entry


def _updated(item: StatusOutage) -> datetime.datetime:
    """As the feed's entry: the outage changed or an update was posted."""
    return max(item.latest.posted_at, item.outage.updated_at) if item.latest else item.outage.updated_at


def _incident_status(state: str, ended_at: datetime.datetime | None, at: datetime.datetime) -> str:
    if ended_at is not None and ended_at <= at:
        return "resolved"
    if state == UpdateState.RESOLVED:
        return "monitoring"
    return state or "investigating"


def _maintenance_status(
    state: str, started_at: datetime.datetime, ended_at: datetime.datetime | None, at: datetime.datetime
) -> str:
    if at < started_at:
        return "scheduled"
    if ended_at is not None and ended_at <= at:
        return "completed"
    return "verifying" if state in (UpdateState.MONITORING, UpdateState.RESOLVED) else "in_progress"


# Each address under /status/<slug>/api/v2/ and what it answers, as Statuspage's.
DOCUMENTS: dict[str, Callable[[Document], dict]] = {
    "summary": Document.summary,
    "status": Document.status,
    "components": Document.components,
    "incidents": lambda document: document.incidents_json(),
    "incidents/unresolved": lambda document: document.incidents_json(unresolved=True),
    "scheduled-maintenances": lambda document: document.maintenances_json(),
    "scheduled-maintenances/upcoming": lambda document: document.maintenances_json(statuses=["scheduled"]),
    "scheduled-maintenances/active": lambda document: document.maintenances_json(statuses=["in_progress", "verifying"]),
}
