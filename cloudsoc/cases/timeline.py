"""The incident timeline: one ordered record of everything that happened to an incident.

Every layer appends through ``add``; ``ref`` names the entry so that a resumed playbook or a repeated
run writes it once (an append with a ref already present is ignored)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from cloudsoc.core import db
from cloudsoc.core.timeutil import utcnow

T = db.incident_timeline.c
KINDS = ("event", "alert", "status", "comment", "assign", "action", "playbook", "evidence", "notification")


def add(conn: Connection, incident_id: int, kind: str, summary: str, *, actor: str = "cloudsoc",
        data: dict[str, Any] | None = None, ref: str | None = None, at: datetime | None = None) -> bool:  # fmt: skip
    """Append an entry; False when an entry with the same ``ref`` is already there."""
    if kind not in KINDS:
        raise ValueError(f"unknown timeline kind {kind!r}")
    at = at or utcnow()
    ref = ref or f"{kind}:{at.isoformat()}:{summary}"
    if conn.execute(select(T.id).where(T.incident_id == incident_id, T.ref == ref)).first():
        return False
    try:
        with conn.begin_nested():
            conn.execute(db.incident_timeline.insert().values(
                incident_id=incident_id, at=at, kind=kind, actor=actor, summary=summary, data=data or {}, ref=ref,
            ))  # fmt: skip
    except IntegrityError:  # another worker wrote the same entry first
        return False
    return True


def entries(conn: Connection, incident_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(T.at, T.kind, T.actor, T.summary, T.data, T.ref)
        .where(T.incident_id == incident_id)
        .order_by(T.at, T.id)
    ).mappings()
    return [{**dict(r), "at": r["at"].isoformat()} for r in rows]
