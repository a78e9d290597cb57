"""``Notifier``: routes incident events to channels through the durable outbox, delivers what is due
with retries and backoff, queues the daily digest, and reads ticket states back.

Enqueueing writes only to the caller's connection, so a notification commits with the change that
caused it (or not at all); delivery happens later, in ``deliver_due``, message by message."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import orjson
from sqlalchemy import Connection, Engine, or_, select

from cloudsoc.cases import timeline
from cloudsoc.core import db
from cloudsoc.core.config import Home
from cloudsoc.core.severity import LEVELS
from cloudsoc.core.timeutil import aware, utcnow
from cloudsoc.integrations import outbox, templates
from cloudsoc.integrations.channels.base import (
    CHANNELS,
    Channel,
    DeliveryError,
    Message,
    Sent,
    Ticket,
    TicketChannel,
)
from cloudsoc.integrations.config import NotifyConfig, NotifyError, load

log = logging.getLogger(__name__)
OnState = Callable[[int, str, str, str], None]
TERMINAL = ("closed", "false_positive")  # tickets no longer read back


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)  # will be retried
    dead: list[int] = field(default_factory=list)  # out of attempts or refused for good
    deferred: list[int] = field(default_factory=list)  # not tried: their channel just failed

    def to_dict(self) -> dict[str, list[int]]:
        return asdict(self)


class Notifier:
    def __init__(
        self, config: NotifyConfig, home_root: Path, *, sns_session: boto3.Session | None = None
    ) -> None:
        self.config = config
        self.home_root = home_root
        self.channels: dict[str, Channel[Any]] = {
            name: CHANNELS.get(cfg.type)(name, cfg, aws_session=sns_session)
            for name, cfg in config.channels.items()
        }
        self.routes = config.effective_routes()
        problems = self._template_problems()
        if problems:
            raise NotifyError("invalid notify templates:\n  " + "\n  ".join(problems))

    @classmethod
    def from_home(cls, home: Home, *, sns_session: boto3.Session | None = None) -> Notifier:
        return cls(load(home.settings.notify), home.root, sns_session=sns_session)

    def _template_problems(self) -> list[str]:
        problems: list[str] = []
        for name, cfg in self.config.channels.items():
            try:
                paths = {
                    templates.find(cfg.type, e, cfg.template, self.home_root) for e in templates.HEADLINES
                }
            except NotifyError as exc:
                problems.append(f"notify.channels.{name}.template: {exc}")
                continue
            problems += [p for path in sorted(paths) for p in templates.check(path)]
        return problems

    # ---- routing and queueing ----------------------------------------------------------------

    def targets(self, severity: str, event: str) -> list[str]:
        """The channels an event of an incident of this severity goes to at once (digest routes wait)."""
        names = [n for r in self.routes if not r.digest and r.matches(severity, event) for n in r.channels]
        return list(dict.fromkeys(names))

    def notify(
        self, conn: Connection, doc: dict[str, Any], event: str, *, channels: list[str] | None = None
    ) -> list[int]:
        """Queue ``event`` of the incident in ``doc`` for its routed (or the given) channels; the ids of
        the outbox rows. The same event with the same document (or the same ``doc["ref"]``) is queued
        once per channel."""
        inc = doc.get("incident") or {}
        if inc.get("id") is None:
            raise NotifyError(f"{event}: the document has no incident id")
        names = channels if channels is not None else self.targets(str(inc.get("severity")), event)
        unknown = [n for n in names if n not in self.channels]
        if unknown:
            raise NotifyError(f"unknown notify channels {unknown}; configured: {sorted(self.channels)}")
        data = outbox.plain(doc)
        # incident.opened happens once per incident; any other event is new when its document is,
        # unless the caller names it with a stable ``ref`` (a playbook step's, say)
        ref = str(doc["ref"]) if doc.get("ref") else _fingerprint(data)
        key = f"{event}:{inc['id']}" + ("" if event == "incident.opened" else f":{ref}")
        return [self._enqueue(conn, name, key, int(inc["id"]), event, data) for name in names]

    def _enqueue(self, conn: Connection, name: str, key: str, incident_id: int | None, event: str,
                 data: dict[str, Any], now: datetime | None = None) -> int:  # fmt: skip
        cfg = self.config.channels[name]
        path = templates.find(cfg.type, event, cfg.template, self.home_root)
        text = templates.render(path, templates.fields(data, event))
        payload = {"subject": text.subject, "body": text.body, "doc": data}
        # the channel is part of the key so that it also names the timeline entry uniquely
        return outbox.enqueue(conn, channel=name, key=f"notify:{name}:{key}", incident_id=incident_id,
                              event=event, payload=payload, now=now or utcnow())  # fmt: skip

    def digest(self, engine: Engine, now: datetime | None = None) -> list[int]:
        """Queue, once per channel and day, the digest of the previous UTC day's incidents that the
        digest routes send to that channel; channels with nothing to report get nothing."""
        now = now or utcnow()
        start = datetime.combine((now - timedelta(days=1)).date(), datetime.min.time(), tzinfo=UTC)
        end = start + timedelta(days=1)
        ids = []
        with engine.begin() as conn:
            for name, severities in self._digest_severities().items():
                items = _incidents_between(conn, start, end, severities)
                if items:
                    doc = outbox.plain(
                        {"digest": {"date": start.date(), "count": len(items), "incidents": items}}
                    )
                    ids.append(self._enqueue(conn, name, f"digest:{start.date()}", None, "digest", doc, now))
        return ids

    def _digest_severities(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for route in (r for r in self.routes if r.digest):
            for name in route.channels:
                out.setdefault(name, set()).update(s for s in LEVELS if route.takes(s))
        return out

    # ---- delivery ------------------------------------------------------------------------------

    def deliver_due(self, engine: Engine, now: datetime | None = None) -> DeliveryReport:
        """Try every message that is due once. A channel that fails with a retryable error gets no
        more messages in this pass (it is down or throttling), which also keeps its messages in order."""
        return self._deliver(engine, now or utcnow(), None)

    def _deliver(self, engine: Engine, now: datetime, ids: list[int] | None) -> DeliveryReport:
        report = DeliveryReport()
        with engine.connect() as conn:
            rows = outbox.due(conn, now, ids)
        down: set[str] = set()
        for row in rows:
            if row.channel in down:
                report.deferred.append(row.id)
                continue
            with engine.begin() as conn:
                if not outbox.claim(conn, row, now, self.config.delivery.lease_seconds):
                    continue  # another worker has it
                ticket = outbox.ticket(conn, row.channel, row.incident_id)
            try:
                sent = self._send(row, ticket)
            except DeliveryError as exc:
                self._failed(engine, row, exc, now, report)
                if exc.retry:
                    down.add(row.channel)
                continue
            self._sent(engine, row, sent, now)
            report.sent.append(row.id)
        return report

    def _send(self, row: outbox.Row, ticket: Ticket | None) -> Sent:
        ch = self.channels.get(row.channel)
        if ch is None:
            raise DeliveryError(f"channel {row.channel!r} is no longer configured")
        p = row.payload
        msg = Message(id=row.id, channel=row.channel, event=row.event, incident_id=row.incident_id,
                      dedup_key=row.dedup_key, subject=p["subject"], body=p["body"], doc=p["doc"])  # fmt: skip
        try:
            return ch.send(msg, ticket)
        except DeliveryError:
            raise
        except Exception as exc:  # a sender bug must not stop the queue; the row keeps the error
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc

    def _failed(
        self, engine: Engine, row: outbox.Row, exc: DeliveryError, now: datetime, report: DeliveryReport
    ) -> None:
        d = self.config.delivery
        dead = not exc.retry or row.attempts + 1 >= d.max_attempts
        # the service's Retry-After wins over our own backoff, even past its cap
        delay = min(d.backoff_seconds * 2**row.attempts, d.max_backoff_seconds)
        delay = exc.retry_after if exc.retry_after is not None else delay
        with engine.begin() as conn:
            outbox.record_failure(
                conn, row, error=str(exc), dead=dead, retry_at=now + timedelta(seconds=delay)
            )
        (report.dead if dead else report.failed).append(row.id)

    def _sent(self, engine: Engine, row: outbox.Row, sent: Sent, now: datetime) -> None:
        with engine.begin() as conn:
            outbox.record_sent(conn, row, now, sent.external_ref)
            if sent.ticket is not None and row.incident_id is not None:
                outbox.save_ticket(conn, row.channel, row.incident_id, sent.ticket, now)
            if row.incident_id is not None:
                ref = f" ({sent.ticket.number})" if sent.ticket else ""
                timeline.add(conn, row.incident_id, "notification", f"{row.event} sent to {row.channel}{ref}",
                             data={"channel": row.channel, "type": self.channels[row.channel].type, "event": row.event,
                                   "outbox_id": row.id, "external_ref": sent.external_ref},
                             ref=row.dedup_key, at=now)  # fmt: skip

    def test(self, engine: Engine, name: str) -> dict[str, Any]:
        """Send a test message to one channel now (through the outbox, so it is recorded)."""
        if name not in self.channels:
            raise NotifyError(f"unknown notify channel {name!r}; configured: {sorted(self.channels)}")
        now = utcnow()
        with engine.begin() as conn:
            mid = self._enqueue(conn, name, f"test:{now.isoformat()}", None, "test", {}, now)
        self._deliver(engine, now, [mid])
        with engine.connect() as conn:
            return next(r for r in outbox.listing(conn, limit=1000) if r["id"] == mid)

    # ---- tickets -------------------------------------------------------------------------------

    def sync_tickets(self, engine: Engine, on_state: OnState) -> int:
        """Read back the state of every open ticket; report each change that means a cloudsoc status
        through ``on_state(incident_id, status, by, why)``; the number of changes reported. A ticket that
        cannot be read is logged and read again on the next sync."""
        return sum(
            self._sync_channel(engine, name, ch, on_state)
            for name, ch in self.channels.items()
            if isinstance(ch, TicketChannel)
        )

    def _sync_channel(self, engine: Engine, name: str, ch: TicketChannel[Any], on_state: OnState) -> int:
        with engine.connect() as conn:
            held = [(i, t) for i, t in outbox.tickets(conn, name) if ch.status_of(t.state) not in TERMINAL]
        changes = 0
        for k, (incident_id, ticket) in enumerate(held):
            try:
                remote = ch.read_state(ticket)
            except DeliveryError as exc:
                if exc.retry:  # down or throttling: its other tickets wait for the next sync too
                    log.warning("ticket sync: %s failed, %d tickets left for the next sync: %s", name,
                                len(held) - k, exc)  # fmt: skip
                    break
                log.warning("ticket sync: %s ticket %s of incident %d not read: %s", name, ticket.number,
                            incident_id, exc)  # fmt: skip
                continue
            if remote.state == ticket.state:
                continue
            status = ch.status_of(remote.state)
            if status:
                on_state(incident_id, status, remote.by, remote.why)
                changes += 1
            with engine.begin() as conn:  # stored after the callback: a failed callback is retried
                outbox.save_ticket(conn, name, incident_id, Ticket(ticket.ref, ticket.number, remote.state),
                                   utcnow())  # fmt: skip
        return changes


def _fingerprint(data: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def _incidents_between(
    conn: Connection, start: datetime, end: datetime, severities: set[str]
) -> list[dict[str, Any]]:
    i = db.incidents.c
    rows = conn.execute(select(i.id, i.title, i.severity, i.status, i.account_id, i.created_at).where(
        i.severity.in_(sorted(severities)),
        or_(i.created_at.between(start, end - timedelta(microseconds=1)),
            i.updated_at.between(start, end - timedelta(microseconds=1))),
    ).order_by(i.id)).mappings()  # fmt: skip
    return [{**dict(r), "created_at": aware(r["created_at"])} for r in rows]
