"""PagerDuty Events API v2: trigger, acknowledge and resolve one alert per cloudsoc incident, whose
dedup_key is the incident's."""

from __future__ import annotations

from typing import Any

from cloudsoc.integrations.channels.base import (
    Channel,
    DeliveryError,
    Message,
    Sent,
    Ticket,
    channel,
    need_incident,
    secret_or_fail,
)
from cloudsoc.integrations.config import PagerDutyChannel

SEVERITY = {
    "critical": "critical",
    "high": "error",
    "medium": "warning",
    "low": "info",
    "informational": "info",
}
ACK = {"acknowledged", "contained", "eradicated", "recovered"}
RESOLVE = {"resolved", "closed", "false_positive"}


def dedup_key(incident_id: int) -> str:
    return f"cloudsoc-incident-{incident_id}"


def event_action(msg: Message) -> str:
    status = str(msg.incident.get("status") or "")
    if msg.event == "incident.updated" and status in ACK:
        return "acknowledge"
    if msg.event == "incident.updated" and status in RESOLVE:
        return "resolve"
    return "trigger"


@channel("pagerduty")
class PagerDuty(Channel[PagerDutyChannel]):
    def send(self, msg: Message, ticket: Ticket | None) -> Sent:
        if msg.event == "test":  # a real page that resolves itself at once
            key = f"cloudsoc-test-{msg.id}"
            self._enqueue({"event_action": "trigger", "dedup_key": key, "payload": self._payload(msg)})
            self._enqueue({"event_action": "resolve", "dedup_key": key})
            return Sent(external_ref=key)
        key = dedup_key(need_incident(msg))
        action = event_action(msg)
        event: dict[str, Any] = {"event_action": action, "dedup_key": key}
        if action == "trigger":
            event["payload"] = self._payload(msg)
            event["client"] = "cloudsoc"
            if msg.doc.get("link"):
                event["links"] = [{"href": msg.doc["link"], "text": "cloudsoc incident"}]
        answer = self._enqueue(event)
        return Sent(external_ref=str(answer.get("dedup_key") or key))

    def _enqueue(self, event: dict[str, Any]) -> dict[str, Any]:
        body = {"routing_key": secret_or_fail(self.config.routing_key), **event}
        resp = self.http("POST", self.config.events_url.rstrip("/") + "/v2/enqueue", json=body)
        try:
            answer: dict[str, Any] = resp.json()
        except ValueError as exc:
            raise DeliveryError(f"PagerDuty answered {resp.status_code} without JSON") from exc
        return answer

    def _payload(self, msg: Message) -> dict[str, Any]:
        inc = msg.incident
        details = {k: inc.get(k) for k in ("id", "status", "account_id", "region", "principal", "resource")}
        payload: dict[str, Any] = {
            "summary": msg.subject[:1024] or msg.event,
            "source": self.config.source,
            "severity": SEVERITY.get(str(inc.get("severity")), "info"),
            "custom_details": {**details, "event": msg.event, "text": msg.body},
        }
        if inc.get("first_alert_at"):
            payload["timestamp"] = inc["first_alert_at"]
        for key, value in (("component", inc.get("resource")), ("group", inc.get("account_id")),
                           ("class", (msg.doc.get("alert") or {}).get("rule_id"))):  # fmt: skip
            if value:
                payload[key] = str(value)
        return payload
