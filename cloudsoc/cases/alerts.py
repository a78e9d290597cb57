"""The alert store: dedup of repeated matches into one alert, suppression accounting, queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, insert, select, update

from cloudsoc.cases.suppress import Suppressions
from cloudsoc.core import db
from cloudsoc.core.timeutil import aware, utcnow
from cloudsoc.detect.engine import Match

A = db.alerts.c


@dataclass
class RecordStats:
    new: int = 0
    updated: int = 0
    suppressed: int = 0  # events silenced by a suppression
    unchanged: int = 0  # every event already belonged to an alert of the rule

    def add(self, other: RecordStats) -> None:
        for k in ("new", "updated", "suppressed", "unchanged"):
            setattr(self, k, getattr(self, k) + getattr(other, k))


def record(
    conn: Connection, matches: list[Match], suppressions: Suppressions, window: timedelta
) -> RecordStats:
    """Store matches as alerts; idempotent: an event counts once per rule, whatever reruns happen."""
    stats = RecordStats()
    now = utcnow()
    for m in matches:
        fresh = _new_events(conn, m)
        if not fresh:
            stats.unchanged += 1
            continue
        fields = {"account_id": m.account_id, "region": m.region, "principal": m.principal, "group": m.group}
        sup = suppressions.find(m.rule.id, fields, now)
        if sup is not None:
            _count_hit(conn, sup.id, len(fresh), now)
        alert_id = _existing(conn, m, window, "suppressed" if sup else "open")
        if alert_id is None:
            alert_id = _insert(conn, m, now, sup.id if sup else None)
            stats.new += sup is None
        else:
            _update(conn, alert_id, m, len(fresh), now)
            stats.updated += sup is None
        stats.suppressed += len(fresh) if sup else 0
        conn.execute(insert(db.alert_events), [
            {"rule_id": m.rule.id, "event_id": e, "alert_id": alert_id, "event_time": aware(m.first_seen)}
            for e in fresh
        ])  # fmt: skip
    return stats


def _new_events(conn: Connection, m: Match) -> list[str]:
    E = db.alert_events.c
    known: set[str] = set()
    for i in range(0, len(m.event_ids), 500):
        chunk = m.event_ids[i : i + 500]
        rows = conn.execute(select(E.event_id).where(E.rule_id == m.rule.id, E.event_id.in_(chunk)))
        known.update(r[0] for r in rows)
    return [e for e in m.event_ids if e not in known]


def dedup_key(m: Match) -> str:
    return f"{m.account_id or ''}|{m.group}"


def _existing(conn: Connection, m: Match, window: timedelta, status: str) -> int | None:
    cond = and_(A.rule_id == m.rule.id, A.dedup_key == dedup_key(m), A.status == status)
    if m.rule.kind != "finding":  # a finding's updates always land on its one alert
        first = aware(m.first_seen)
        cond = and_(cond, A.first_seen > first - window, A.first_seen <= first + window)
    row = conn.execute(select(A.id).where(cond).order_by(A.first_seen.desc()).limit(1)).first()
    return None if row is None else int(row[0])


def _insert(conn: Connection, m: Match, now: datetime, suppressed_by: str | None) -> int:
    r = m.rule
    res = conn.execute(insert(db.alerts).values(
        rule_id=r.id, rule_version=r.version, kind=r.kind, title=r.title, severity=m.context.get("severity", r.severity),
        tags=r.tags, account_id=m.account_id, region=m.region, principal=m.principal, dedup_key=dedup_key(m),
        first_seen=aware(m.first_seen), last_seen=aware(m.last_seen), count=0,
        status="suppressed" if suppressed_by else "open", suppressed_by=suppressed_by,
        context=_jsonable(m.context), created_at=now, updated_at=now,
    ))  # fmt: skip
    alert_id = int(res.inserted_primary_key[0])  # type: ignore[index]
    _update(conn, alert_id, m, len(m.event_ids), now)
    return alert_id


def _update(conn: Connection, alert_id: int, m: Match, fresh: int, now: datetime) -> None:
    values: dict[str, Any] = {
        "count": A.count + fresh,
        "first_seen": case((A.first_seen > aware(m.first_seen), aware(m.first_seen)), else_=A.first_seen),
        "last_seen": case((A.last_seen < aware(m.last_seen), aware(m.last_seen)), else_=A.last_seen),
        "updated_at": now,
    }
    if m.rule.kind == "finding":  # the newest version of a finding decides severity and title
        values.update(
            severity=m.context.get("severity", m.rule.severity),
            title=m.rule.title,
            context=_jsonable(m.context),
        )
    conn.execute(update(db.alerts).where(A.id == alert_id).values(**values))


def _count_hit(conn: Connection, sup_id: str, events: int, now: datetime) -> None:
    S = db.suppression_hits.c
    res = conn.execute(
        update(db.suppression_hits)
        .where(S.suppression_id == sup_id)
        .values(hits=S.hits + events, last_hit=now)
    )
    if res.rowcount == 0:
        conn.execute(insert(db.suppression_hits).values(suppression_id=sup_id, hits=events, last_hit=now))


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in d.items()}


# ---- queries -------------------------------------------------------------------------------
def list_alerts(conn: Connection, *, status: str | None = "open", severity: str | None = None,
                rule: str | None = None, limit: int = 100) -> list[dict[str, Any]]:  # fmt: skip
    q = select(db.alerts)
    if status:
        q = q.where(A.status == status)
    if severity:
        q = q.where(A.severity == severity)
    if rule:
        q = q.where(A.rule_id == rule)
    rows = conn.execute(q.order_by(A.last_seen.desc(), A.id.desc()).limit(limit)).mappings()
    return [_public(dict(r)) for r in rows]


def get_alert(conn: Connection, alert_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(db.alerts).where(A.id == alert_id)).mappings().first()
    if row is None:
        return None
    out = _public(dict(row))
    E = db.alert_events.c
    events = conn.execute(select(E.event_id).where(E.alert_id == alert_id).order_by(E.event_time, E.event_id))
    out["event_ids"] = [r[0] for r in events]
    return out


def _public(row: dict[str, Any]) -> dict[str, Any]:
    for k in ("first_seen", "last_seen", "created_at", "updated_at"):
        if isinstance(row.get(k), datetime):
            row[k] = aware(row[k]).isoformat()
    row["attack"] = [t for t in row.get("tags", []) if t.startswith("attack.")]
    return row
