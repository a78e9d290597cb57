"""The events behind an alert, read back from the lake: the entities they name and a short line per
event for the incident timeline."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import select

from cloudsoc.cases import entities
from cloudsoc.core import db
from cloudsoc.core.timeutil import aware
from cloudsoc.lake.store import Lake

TIMELINE_EVENTS = 25  # per alert: enough to tell the story, not a copy of the lake


class LakeEvents:
    def __init__(self, lake_root: Path, sql: SqlEngine) -> None:
        self.lake = Lake(lake_root)
        self.sql = sql

    def __call__(self, alert: dict[str, Any]) -> tuple[dict[str, list[str]], list[tuple[str, datetime, str]]]:
        E = db.alert_events.c
        with self.sql.connect() as conn:
            ids = [r[0] for r in conn.execute(select(E.event_id).where(E.alert_id == alert["id"]))]
        if not ids:
            return entities.empty(), []
        first, last = aware(alert["first_seen"]), aware(alert["last_seen"])
        since, until = first - timedelta(days=1), last + timedelta(days=1)  # lake days are UTC dates
        found = entities.empty()
        lines: list[tuple[str, datetime, str]] = []
        for source in ("cloudtrail", "guardduty"):
            files = self.lake.files(source, since, until)
            if not files:
                continue
            con = self.lake.connect({source: files})
            try:
                rows = con.execute(
                    f"SELECT event_id, event_time, raw FROM {source} WHERE event_id IN (SELECT unnest(?)) "
                    "ORDER BY event_time",
                    [ids],
                ).fetchall()
            finally:
                con.close()
            found = entities.merge(found, entities.from_raw(source, [r[2] for r in rows]))
            lines += [(r[0], r[1], _line(source, r[2])) for r in rows[:TIMELINE_EVENTS]]
        return found, lines


def _line(source: str, raw: str) -> str:
    rec = orjson.loads(raw)
    if source == "guardduty":
        return f"GuardDuty {rec.get('Type')}: {rec.get('Title')}"
    who = str((rec.get("userIdentity") or {}).get("arn") or "?").rsplit(":", 1)[-1]
    err = f" ({rec['errorCode']})" if rec.get("errorCode") else ""
    return f"{rec.get('eventName')} by {who} from {rec.get('sourceIPAddress')}{err}"
