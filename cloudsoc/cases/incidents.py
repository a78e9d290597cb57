"""Incidents: alerts grouped by what they share, worked through a status workflow.

An open alert joins an open incident of the same account whose alerts, within the grouping window,
share an actor (principal, user, role, access key) or a touched resource with it; alerts naming
nothing at all group by account. Severity is the worst alert's. Grouping runs in one transaction
after each detection run: an alert belongs to exactly one incident (its primary key), so a worker
that races another rolls back and retries instead of duplicating.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy import Engine as SqlEngine

from cloudsoc.cases import entities, timeline
from cloudsoc.core import db
from cloudsoc.core.errors import CloudSOCError
from cloudsoc.core.severity import normalize, rank
from cloudsoc.core.timeutil import aware, utcnow

I = db.incidents.c  # noqa: E741
A = db.alerts.c
WORKFLOW = ("new", "acknowledged", "contained", "eradicated", "resolved", "closed")
STATUSES = (*WORKFLOW, "false_positive")
OPEN = ("new", "acknowledged", "contained", "eradicated")
STAMPS = {"acknowledged": "acknowledged_at", "contained": "contained_at", "eradicated": "eradicated_at",
          "resolved": "resolved_at", "closed": "closed_at", "false_positive": "closed_at"}  # fmt: skip

# (alert row) -> (entities, [(event_id, event_time, summary)]) read from the lake
EventReader = Callable[[dict[str, Any]], tuple[dict[str, list[str]], list[tuple[str, datetime, str]]]]


class IncidentError(CloudSOCError):
    """An incident that does not exist, or a change the workflow does not allow."""


# ---- grouping ------------------------------------------------------------------------------
def group_alerts(sql: SqlEngine, read_events: EventReader, window: timedelta) -> list[int]:
    """Attach every open alert that has no incident yet; the incidents created or grown."""
    touched: list[int] = []
    with sql.begin() as conn:
        taken = select(db.incident_alerts.c.alert_id)
        q = select(db.alerts).where(A.status == "open", A.id.not_in(taken)).order_by(A.first_seen, A.id)
        for alert in [dict(r) for r in conn.execute(q).mappings()]:
            ents, events = read_events(alert)
            incident_id = _matching(conn, alert, ents, window)
            if incident_id is None:
                incident_id = _create(conn, alert, ents)
            else:
                _grow(conn, incident_id, alert, ents)
            _attach(conn, incident_id, alert, events)
            if incident_id not in touched:
                touched.append(incident_id)
    return touched


def _matching(
    conn: Connection, alert: dict[str, Any], ents: dict[str, list[str]], window: timedelta
) -> int | None:
    first = aware(alert["first_seen"])
    q = select(I.id, I.entities, I.group_key).where(
        I.status.in_(OPEN), I.account_id == alert["account_id"], I.last_alert_at >= first - window
    )
    named = any(ents[k] for k in entities.KEYS if k != "source_ips")
    for row in conn.execute(q.order_by(I.last_alert_at.desc())):
        if (named and entities.overlaps(ents, row.entities)) or (
            not named and row.group_key == _key(alert, ents)
        ):
            return int(row.id)
    return None


def _key(alert: dict[str, Any], ents: dict[str, list[str]]) -> str:
    if alert.get("principal"):
        return f"principal:{alert['principal']}"
    for k in entities.TARGET_KEYS:
        if ents[k]:
            return f"resource:{ents[k][0]}"
    return f"account:{alert.get('account_id') or ''}"


def _create(conn: Connection, alert: dict[str, Any], ents: dict[str, list[str]]) -> int:
    now = utcnow()
    res = conn.execute(db.incidents.insert().values(
        title=_title(alert), severity=normalize(alert["severity"]), status="new", account_id=alert["account_id"],
        principal=alert.get("principal"), resource=_resource(ents), group_key=_key(alert, ents),
        entities=ents, tags=_attack(alert), first_event_at=alert["first_seen"], first_alert_at=alert["created_at"],
        last_alert_at=alert["created_at"], created_at=now, updated_at=now,
    ))  # fmt: skip
    incident_id = int(res.inserted_primary_key[0])  # type: ignore[index]
    timeline.add(
        conn, incident_id, "status", "incident opened", data={"to": "new"}, ref="status:opened", at=now
    )
    return incident_id


def _grow(conn: Connection, incident_id: int, alert: dict[str, Any], ents: dict[str, list[str]]) -> None:
    row = conn.execute(select(db.incidents).where(I.id == incident_id)).mappings().one()
    values: dict[str, Any] = {
        "entities": entities.merge(row["entities"], ents),
        "tags": sorted(set(row["tags"]) | set(_attack(alert))),
        "first_event_at": _earliest(row["first_event_at"], alert["first_seen"]),
        "last_alert_at": max(aware(row["last_alert_at"]), aware(alert["created_at"])),
        "updated_at": utcnow(),
    }
    if rank(alert["severity"]) > rank(row["severity"]):
        values.update(severity=normalize(alert["severity"]), title=_title(alert))
        timeline.add(conn, incident_id, "status", f"severity raised to {alert['severity']}",
                     data={"severity": alert["severity"], "alert_id": alert["id"]}, ref=f"severity:{alert['id']}")  # fmt: skip
    conn.execute(update(db.incidents).where(I.id == incident_id).values(**values))


def _attach(
    conn: Connection, incident_id: int, alert: dict[str, Any], events: list[tuple[str, datetime, str]]
) -> None:
    conn.execute(
        db.incident_alerts.insert().values(alert_id=alert["id"], incident_id=incident_id, added_at=utcnow())
    )
    timeline.add(conn, incident_id, "alert", f"[{alert['severity']}] {alert['title']}", actor=alert["rule_id"],
                 data={"alert_id": alert["id"], "rule_id": alert["rule_id"], "count": alert["count"]},
                 ref=f"alert:{alert['id']}", at=aware(alert["created_at"]))  # fmt: skip
    for event_id, at, summary in events:
        timeline.add(conn, incident_id, "event", summary, actor="aws", data={"event_id": event_id},
                     ref=f"event:{event_id}", at=aware(at))  # fmt: skip


def _earliest(a: datetime | None, b: datetime) -> datetime:
    return aware(b) if a is None else min(aware(a), aware(b))


def _title(alert: dict[str, Any]) -> str:
    who = str(alert.get("principal") or "").rsplit("/", 1)[-1] or alert.get("account_id") or "unknown"
    return f"{alert['title']} ({who})"


def _resource(ents: dict[str, list[str]]) -> str | None:
    return next((ents[k][0] for k in entities.TARGET_KEYS if ents[k]), None)


def _attack(alert: dict[str, Any]) -> list[str]:
    return sorted(t for t in alert.get("tags") or [] if t.startswith("attack."))


# ---- workflow ------------------------------------------------------------------------------
def set_status(conn: Connection, incident_id: int, status: str, *, by: str, why: str) -> dict[str, Any]:
    """Move an incident along the workflow. Forward moves may skip stages (a playbook contains before
    anyone acknowledges: acknowledging is then implied); going back is a reopen and needs a reason."""
    row = get_row(conn, incident_id)
    old = row["status"]
    if status not in STATUSES:
        raise IncidentError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
    if status == old:
        return row
    reopen = old in ("resolved", "closed", "false_positive") and status == "acknowledged"
    forward = status == "false_positive" or (old in WORKFLOW and WORKFLOW.index(status) > WORKFLOW.index(old))
    if not (forward or reopen):
        raise IncidentError(f"incident {incident_id}: cannot go from {old} to {status}")
    if reopen and not why.strip():
        raise IncidentError("reopening an incident needs a reason")
    now = utcnow()
    values: dict[str, Any] = {"status": status, "updated_at": now}
    if reopen:  # the clocks after acknowledging run again
        values.update({c: None for c in ("contained_at", "eradicated_at", "resolved_at", "closed_at")})
        values["acknowledged_at"] = now
    elif status in WORKFLOW:  # stages skipped on the way are reached now
        values.update(
            {STAMPS[s]: now for s in WORKFLOW[1 : WORKFLOW.index(status) + 1] if row[STAMPS[s]] is None}
        )
    else:
        values["closed_at"] = now
    conn.execute(update(db.incidents).where(I.id == incident_id).values(**values))
    timeline.add(conn, incident_id, "status", f"{old} -> {status}", actor=by,
                 data={"from": old, "to": status, "why": why}, ref=f"status:{old}:{status}:{now.isoformat()}", at=now)  # fmt: skip
    return get_row(conn, incident_id)


def assign(conn: Connection, incident_id: int, assignee: str, *, by: str, why: str = "") -> None:
    get_row(conn, incident_id)
    now = utcnow()
    conn.execute(update(db.incidents).where(I.id == incident_id).values(assignee=assignee, updated_at=now))
    timeline.add(conn, incident_id, "assign", f"assigned to {assignee}", actor=by,
                 data={"assignee": assignee, "why": why}, ref=f"assign:{now.isoformat()}", at=now)  # fmt: skip


def comment(conn: Connection, incident_id: int, text: str, *, by: str) -> None:
    if not text.strip():
        raise IncidentError("an empty comment")
    get_row(conn, incident_id)
    now = utcnow()
    timeline.add(conn, incident_id, "comment", text, actor=by, ref=f"comment:{now.isoformat()}:{by}", at=now)


# ---- reading -------------------------------------------------------------------------------
def get_row(conn: Connection, incident_id: int) -> dict[str, Any]:
    row = conn.execute(select(db.incidents).where(I.id == incident_id)).mappings().first()
    if row is None:
        raise IncidentError(f"no incident {incident_id}")
    return {k: aware(v) if isinstance(v, datetime) else v for k, v in dict(row).items()}


def list_rows(conn: Connection, *, status: str | None = None, severity: str | None = None,
              since: datetime | None = None, limit: int = 100) -> list[dict[str, Any]]:  # fmt: skip
    q = select(db.incidents)
    if status == "open":
        q = q.where(I.status.in_(OPEN))
    elif status:
        q = q.where(I.status == status)
    if severity:
        q = q.where(I.severity == severity)
    if since:
        q = q.where(I.first_alert_at >= since)
    rows = conn.execute(q.order_by(I.last_alert_at.desc(), I.id.desc()).limit(limit)).mappings()
    return [{k: aware(v) if isinstance(v, datetime) else v for k, v in dict(r).items()} for r in rows]


def alerts_of(conn: Connection, incident_id: int) -> list[dict[str, Any]]:
    ia = db.incident_alerts.c
    q = select(A.id, A.rule_id, A.title, A.severity, A.first_seen, A.last_seen, A.count, A.principal, A.tags)
    rows = conn.execute(q.join_from(db.alerts, db.incident_alerts, ia.alert_id == A.id)
                        .where(ia.incident_id == incident_id).order_by(A.first_seen)).mappings()  # fmt: skip
    return [
        {k: aware(v).isoformat() if isinstance(v, datetime) else v for k, v in dict(r).items()} for r in rows
    ]


def document(conn: Connection, incident_id: int, tier: Callable[[str | None], str],
             org_accounts: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
    """The incident as playbooks, notifications and tickets receive it. ``org_accounts``: the
    organization's own accounts (playbooks leave shares among them alone)."""
    row = get_row(conn, incident_id)
    alerts = alerts_of(conn, incident_id)
    worst = max(alerts, key=lambda a: rank(a["severity"]), default={})
    incident = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}
    incident["region"] = _region(conn, incident_id)
    incident["alerts"] = len(alerts)
    incident["rule_ids"] = sorted({a["rule_id"] for a in alerts})
    return {
        "incident": incident,
        "alert": worst,
        "account": {"id": row["account_id"], "tier": tier(row["account_id"])},
        "organization": {"accounts": sorted(org_accounts or [])},
    }


def _region(conn: Connection, incident_id: int) -> str | None:
    ia = db.incident_alerts.c
    q = (select(A.region, func.count()).join_from(db.alerts, db.incident_alerts, ia.alert_id == A.id)
         .where(ia.incident_id == incident_id).group_by(A.region).order_by(func.count().desc()))  # fmt: skip
    row = conn.execute(q).first()
    return None if row is None else row[0]
