"""Jira REST API v2: one issue per cloudsoc incident, created on the first message (found again by
its label if an earlier create got no answer), then commented and moved through the workflow's
transitions; its status is read back by the ticket sync."""

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
from cloudsoc.integrations.config import JiraChannel


def label(incident_id: int) -> str:
    return f"cloudsoc-incident-{incident_id}"


@channel("jira")
class Jira(TicketChannel[JiraChannel]):
    def check_access(self) -> None:  # reading the project proves the URL, the token and the project key
        self._call("GET", f"/project/{self.config.project}")

    def update(self, msg: Message, ticket: Ticket, *, created: bool) -> Ticket:
        ticket = self._transition(ticket, str(msg.incident.get("status") or ""))
        if not created:
            self._call(
                "POST", f"/issue/{ticket.ref}/comment", json={"body": f"{msg.subject}\n\n{msg.body}".strip()}
            )
        return ticket

    def read_state(self, ticket: Ticket) -> RemoteState:
        issue = self._call("GET", f"/issue/{ticket.ref}", params={"fields": "status", "expand": "changelog"})
        status = _status(issue)
        by = "unknown"
        for history in reversed((issue.get("changelog") or {}).get("histories") or []):
            if any(item.get("field") == "status" for item in history.get("items") or []):
                by = str((history.get("author") or {}).get("displayName") or by)
                break
        return RemoteState(state=status, by=f"jira:{by}", why=f"{ticket.number} moved to {status} in Jira")

    def status_of(self, state: str) -> str | None:
        return self.config.statuses.get(state)

    def find(self, incident_id: int) -> Ticket | None:
        jql = f'project = "{self.config.project}" AND labels = "{label(incident_id)}"'
        found = self._call("GET", "/search", params={"jql": jql, "fields": "status", "maxResults": "1"})
        issues = found.get("issues") or []
        if not issues:
            return None
        return Ticket(ref=str(issues[0]["key"]), number=str(issues[0]["key"]), state=_status(issues[0]))

    def create(self, msg: Message, incident_id: int) -> Ticket:
        fields = {"project": {"key": self.config.project}, "summary": msg.subject[:250] or msg.event,
                  "description": msg.body, "issuetype": {"name": self.config.issue_type},
                  "labels": [*self.config.labels, label(incident_id)]}  # fmt: skip
        made = self._call("POST", "/issue", json={"fields": fields})
        if "key" not in made:
            raise DeliveryError("Jira created an issue but returned no key", retry=False)
        # a new issue starts in the workflow's first status; read it rather than guess its name
        issue = self._call("GET", f"/issue/{made['key']}", params={"fields": "status"})
        return Ticket(ref=str(made["key"]), number=str(made["key"]), state=_status(issue))

    def _transition(self, ticket: Ticket, status: str) -> Ticket:
        target = self.config.transitions.get(status)
        if not target or target == ticket.state:
            return ticket
        available = self._call("GET", f"/issue/{ticket.ref}/transitions").get("transitions") or []
        for t in available:
            to = str((t.get("to") or {}).get("name", ""))
            if target in (t.get("name"), to):
                if to == ticket.state:
                    return ticket
                self._call("POST", f"/issue/{ticket.ref}/transitions", json={"transition": {"id": t["id"]}})
                return Ticket(ticket.ref, ticket.number, to or target)
        names = [t.get("name") for t in available]
        raise DeliveryError(f"Jira {ticket.ref}: no transition {target!r} from {ticket.state!r}; available: {names}",
                            retry=False)  # fmt: skip

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        auth = (self.config.username, secret_or_fail(self.config.api_token))
        url = f"{self.config.base_url.rstrip('/')}/rest/api/2{path}"
        resp = self.http(method, url, auth=auth, headers={"Accept": "application/json"}, **kwargs)
        if resp.status_code == 204 or not resp.content:
            return {}
        try:
            body: dict[str, Any] = resp.json()
        except ValueError as exc:
            raise DeliveryError(f"Jira answered {resp.status_code} without JSON") from exc
        return body


def _status(issue: dict[str, Any]) -> str:
    """The name of an issue's status, as the API returns it with ``fields=status``."""
    return str(((issue.get("fields") or {}).get("status") or {}).get("name", ""))
