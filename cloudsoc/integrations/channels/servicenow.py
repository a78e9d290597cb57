"""ServiceNow Table API: one ``incident`` record per cloudsoc incident. Created on the first message
(found again by correlation_id if an earlier create got no answer), then updated with work notes and
state; its state is read back by the ticket sync."""

from __future__ import annotations

from typing import Any

from cloudsoc.integrations.channels.base import (
    DeliveryError,
    Message,
    RemoteState,
    Ticket,
    TicketChannel,
    channel,
    secret_or_fail,
)
from cloudsoc.integrations.config import ServiceNowChannel

# ServiceNow incident states and the cloudsoc status each one means.
STATE_STATUS = {"1": "new", "2": "acknowledged", "3": "acknowledged", "6": "resolved", "7": "closed",
                "8": "false_positive"}  # fmt: skip
STATE_NAME = {"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed", "8": "Canceled"}
STATUS_STATE = {"new": "1", "acknowledged": "2", "contained": "2", "eradicated": "2", "recovered": "2",
                "resolved": "6", "closed": "7", "false_positive": "8"}  # fmt: skip
# (impact, urgency): ServiceNow derives priority 1-5 from the pair
IMPACT_URGENCY = {"critical": ("1", "1"), "high": ("1", "2"), "medium": ("2", "2"), "low": ("2", "3"),
                  "informational": ("3", "3")}  # fmt: skip


def correlation_id(incident_id: int) -> str:
    return f"cloudsoc-incident-{incident_id}"


@channel("servicenow")
class ServiceNow(TicketChannel[ServiceNowChannel]):
    def check_access(self) -> None:  # reading one record proves the URL, the credentials and the role
        self._call("GET", "", params={"sysparm_limit": "1", "sysparm_fields": "sys_id"})

    def read_state(self, ticket: Ticket) -> RemoteState:
        rec = self._call("GET", f"/{ticket.ref}", params={
            "sysparm_fields": "sys_id,number,state,sys_updated_by,close_notes,close_code"})  # fmt: skip
        state = str(rec.get("state", ""))
        why = rec.get("close_notes") or f"{ticket.number} is {STATE_NAME.get(state, state)} in ServiceNow"
        return RemoteState(
            state=state, by=f"servicenow:{rec.get('sys_updated_by') or 'unknown'}", why=str(why)
        )

    def status_of(self, state: str) -> str | None:
        return STATE_STATUS.get(state)

    def find(self, incident_id: int) -> Ticket | None:
        found = self._call("GET", "", params={"sysparm_query": f"correlation_id={correlation_id(incident_id)}",
                                              "sysparm_limit": "1", "sysparm_fields": "sys_id,number,state"})  # fmt: skip
        return _ticket(found["records"][0]) if found.get("records") else None

    def create(self, msg: Message, incident_id: int) -> Ticket:
        impact, urgency = IMPACT_URGENCY.get(str(msg.incident.get("severity")), ("2", "2"))
        record: dict[str, Any] = {
            "short_description": msg.subject[:160], "description": msg.body, "impact": impact,
            "urgency": urgency, "category": self.config.category, "correlation_id": correlation_id(incident_id),
            "correlation_display": "cloudsoc",
        }  # fmt: skip
        for key in ("assignment_group", "caller_id"):
            if getattr(self.config, key):
                record[key] = getattr(self.config, key)
        return _ticket(self._call("POST", "", json=record))

    def update(self, msg: Message, ticket: Ticket, *, created: bool) -> Ticket:
        want = STATUS_STATE.get(str(msg.incident.get("status")))
        if created and (not want or want == ticket.state):  # a new ticket already says it all
            return ticket
        change: dict[str, Any] = {"work_notes": f"{msg.subject}\n\n{msg.body}".strip()}
        if want and want != ticket.state:
            change["state"] = want
            if want in ("6", "7"):
                change["close_code"] = self.config.close_code
                change["close_notes"] = f"{msg.subject} (cloudsoc incident {msg.incident_id})"
        return _ticket(self._call("PATCH", f"/{ticket.ref}", json=change))

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        resp = self.http(method, self._url(path), auth=self._auth(), headers={"Accept": "application/json"},
                         **kwargs)  # fmt: skip
        try:
            result: dict[str, Any] | list[Any] = resp.json()["result"]
        except (ValueError, KeyError) as exc:
            raise DeliveryError(f"ServiceNow answered {resp.status_code} without a result") from exc
        return result if isinstance(result, dict) else {"records": result}

    def _url(self, path: str) -> str:
        return f"{self.config.instance_url.rstrip('/')}/api/now/table/incident{path}"

    def _auth(self) -> tuple[str, str]:
        return (self.config.username, secret_or_fail(self.config.password))


def _ticket(rec: dict[str, Any]) -> Ticket:
    try:
        return Ticket(ref=str(rec["sys_id"]), number=str(rec.get("number") or rec["sys_id"]),
                      state=str(rec.get("state", "1")))  # fmt: skip
    except KeyError as exc:
        raise DeliveryError(f"ServiceNow record without {exc}", retry=False) from exc
