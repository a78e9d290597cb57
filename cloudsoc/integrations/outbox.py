"""The durable outbox: queue a message once per (channel, dedup key), claim what is due, record each
attempt's outcome. Nothing here sends; ``Notifier`` does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from cloudsoc.core import db
from cloudsoc.core.timeutil import aware
from cloudsoc.integrations.channels.base import Ticket

OB = db.notify_outbox.c
TK = db.notify_tickets.c
STATUSES = ("pending", "sent", "failed", "dead")


def plain(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as JSON would carry it (datetimes as ISO strings), as stored and as sent."""
    out: dict[str, Any] = orjson.loads(orjson.dumps(doc, default=str, option=orjson.OPT_NON_STR_KEYS))
    return out


@dataclass(frozen=True)
class Row:
    id: int
    channel: str
    dedup_key: str
    incident_id: int | None
    event: str
    payload: dict[str, Any]
    status: str
    attempts: int


def enqueue(conn: Connection, *, channel: str, key: str, incident_id: int | None, event: str,
            payload: dict[str, Any], now: datetime) -> int:  # fmt: skip
    """The id of the message with this key on this channel, queued now if it was not already."""
    found = conn.execute(select(OB.id).where(OB.channel == channel, OB.dedup_key == key)).scalar()
    if found is not None:
        return int(found)
    try:
        with conn.begin_nested():
            done = conn.execute(db.notify_outbox.insert().values(
                channel=channel, dedup_key=key, incident_id=incident_id, event=event, payload=payload,
                status="pending", attempts=0, next_attempt_at=now, created_at=now))  # fmt: skip
            return int(done.inserted_primary_key[0])  # type: ignore[index]
    except IntegrityError:  # another worker queued the same message first
        return int(conn.execute(select(OB.id).where(OB.channel == channel, OB.dedup_key == key)).scalar_one())


def due(conn: Connection, now: datetime, ids: list[int] | None = None, limit: int = 500) -> list[Row]:
    query = select(OB.id, OB.channel, OB.dedup_key, OB.incident_id, OB.event, OB.payload, OB.status, OB.attempts).where(
        OB.status.in_(("pending", "failed")), OB.next_attempt_at <= now)  # fmt: skip
    if ids is not None:
        query = query.where(OB.id.in_(ids))
    return [Row(**r) for r in conn.execute(query.order_by(OB.id).limit(limit)).mappings()]


def claim(conn: Connection, row: Row, now: datetime, lease: float) -> bool:
    """Take a due message for this worker: it is not due again until the lease ends, so two workers
    never send it at once and a worker that dies mid-send leaves it to be retried."""
    done = conn.execute(update(db.notify_outbox).where(
        OB.id == row.id, OB.status.in_(("pending", "failed")), OB.next_attempt_at <= now, OB.attempts == row.attempts,
    ).values(next_attempt_at=now + timedelta(seconds=lease)))  # fmt: skip
    return done.rowcount == 1


def record_sent(conn: Connection, row: Row, now: datetime, external_ref: str | None) -> None:
    conn.execute(update(db.notify_outbox).where(OB.id == row.id).values(
        status="sent", attempts=row.attempts + 1, sent_at=now, last_error=None, external_ref=external_ref))  # fmt: skip


def record_failure(conn: Connection, row: Row, *, error: str, dead: bool, retry_at: datetime) -> None:
    conn.execute(update(db.notify_outbox).where(OB.id == row.id).values(
        status="dead" if dead else "failed", attempts=row.attempts + 1, last_error=error[:2000],
        next_attempt_at=retry_at))  # fmt: skip


def requeue(conn: Connection, ids: list[int], now: datetime) -> int:
    """Give failed or dead messages a fresh set of attempts (after fixing a channel's settings)."""
    done = conn.execute(update(db.notify_outbox).where(OB.id.in_(ids), OB.status.in_(("failed", "dead"))).values(
        status="pending", attempts=0, next_attempt_at=now))  # fmt: skip
    return int(done.rowcount)


def listing(conn: Connection, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    query = select(OB.id, OB.channel, OB.event, OB.incident_id, OB.status, OB.attempts, OB.next_attempt_at, OB.last_error,
                   OB.external_ref, OB.dedup_key, OB.created_at, OB.sent_at)  # fmt: skip
    if status:
        query = query.where(OB.status == status)
    rows = conn.execute(query.order_by(OB.id.desc()).limit(limit)).mappings()
    times = ("next_attempt_at", "created_at", "sent_at")
    return [{k: aware(v) if k in times else v for k, v in r.items()} for r in rows]


def ticket(conn: Connection, channel: str, incident_id: int | None) -> Ticket | None:
    if incident_id is None:
        return None
    row = conn.execute(select(TK.ref, TK.number, TK.state).where(
        TK.channel == channel, TK.incident_id == incident_id)).first()  # fmt: skip
    return Ticket(ref=row.ref, number=row.number, state=row.state) if row else None


def tickets(conn: Connection, channel: str) -> list[tuple[int, Ticket]]:
    rows = conn.execute(
        select(TK.incident_id, TK.ref, TK.number, TK.state).where(TK.channel == channel)
    ).all()
    return [(r.incident_id, Ticket(ref=r.ref, number=r.number, state=r.state)) for r in rows]


def save_ticket(conn: Connection, channel: str, incident_id: int, t: Ticket, now: datetime) -> None:
    values = {"ref": t.ref, "number": t.number, "state": t.state, "updated_at": now}
    where = (TK.channel == channel, TK.incident_id == incident_id)
    if conn.execute(update(db.notify_tickets).where(*where).values(**values)).rowcount == 0:
        conn.execute(db.notify_tickets.insert().values(channel=channel, incident_id=incident_id, **values))
