"""PagerDuty Events API v2 (``POST /v2/enqueue``): 202 with the dedup key on success; 400 "invalid
event" naming the missing fields. Keeps each alert's state by dedup key."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.servers.base import ApiServer, Reply, Request, reply_json

SEVERITIES = ("critical", "error", "warning", "info")
STATES = {"trigger": "triggered", "acknowledge": "acknowledged", "resolve": "resolved"}


class PagerDutyServer(ApiServer):
    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.alerts: dict[str, str] = {}  # dedup_key -> triggered | acknowledged | resolved

    def handle(self, req: Request) -> Reply:
        if req.method != "POST" or req.path != "/v2/enqueue":
            return reply_json(404, {"status": "not found"})
        try:
            event = json.loads(req.body)
        except ValueError:
            return _invalid(["Event object is not valid JSON"])
        errors = _problems(event)
        if errors:
            return _invalid(errors)
        key = event.get("dedup_key") or uuid.uuid4().hex
        if event["event_action"] != "trigger" and key not in self.alerts:
            return reply_json(202, {"status": "success", "message": "Event processed", "dedup_key": key})
        self.alerts[key] = STATES[event["event_action"]]
        return reply_json(202, {"status": "success", "message": "Event processed", "dedup_key": key})


def _problems(event: Any) -> list[str]:
    if not isinstance(event, dict):
        return ["Event object must be a JSON object"]
    errors = [f"'{f}' is missing or blank" for f in ("routing_key", "event_action") if not event.get(f)]
    if event.get("event_action") and event["event_action"] not in STATES:
        errors.append("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
    if event.get("event_action") == "trigger":
        payload = event.get("payload") or {}
        errors += [
            f"'payload.{f}' is missing or blank"
            for f in ("summary", "source", "severity")
            if not payload.get(f)
        ]
        if payload.get("severity") and payload["severity"] not in SEVERITIES:
            errors.append("'payload.severity' is invalid (must be one of: critical, error, warning, info)")
    elif event.get("event_action") and not event.get("dedup_key"):
        errors.append("'dedup_key' is required for acknowledge and resolve")
    return errors


def _invalid(errors: list[str]) -> Reply:
    return reply_json(
        400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
    )
