"""Executions and steps in the state database, and the lease that gives one worker a run at a time.

Every write a run makes goes through here. A step is written ``started`` before its task runs and
finished after, in the same transaction as the lease check, so a worker that lost its lease never
writes a step."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from cloudsoc.cases import timeline
from cloudsoc.core import db
from cloudsoc.core.errors import CloudSOCError
from cloudsoc.core.timeutil import aware

X = db.playbook_executions.c
S = db.playbook_steps.c
ACTIVE = ("running", "waiting")
TERMINAL = ("succeeded", "failed", "cancelled")
StepKey = tuple[str, int]
Entry = tuple[str, str, dict[str, Any], str]  # timeline kind, summary, data, ref


class LeaseLost(CloudSOCError):
    """Another worker took over the run (this one was too slow to renew its lease)."""


class Store:
    def __init__(self, sql: Engine, owner: str, lease_seconds: float) -> None:
        self.sql = sql
        self.owner = owner
        self.lease = timedelta(seconds=lease_seconds)

    # -- executions -------------------------------------------------------------------------------
    def create(self, values: dict[str, Any], entry: Entry | None) -> int:
        """A new execution's id; the existing one's for the same playbook and incident (``entry`` is
        only written for a new one)."""
        try:
            with self.sql.begin() as conn:
                new_id = int(
                    conn.execute(db.playbook_executions.insert().values(**values)).inserted_primary_key[0]  # type: ignore[index]
                )
                self._timeline(conn, values.get("incident_id"), entry)
                return new_id
        except IntegrityError:
            with self.sql.connect() as conn:
                found = conn.execute(select(X.id).where(
                    X.playbook == values["playbook"], X.incident_id == values["incident_id"])).scalar_one()  # fmt: skip
            return int(found)

    def execution(self, execution_id: int) -> dict[str, Any]:
        with self.sql.connect() as conn:
            row = conn.execute(select(db.playbook_executions).where(X.id == execution_id)).mappings().first()
        if row is None:
            raise CloudSOCError(f"no playbook execution {execution_id}")
        return _aware_row(dict(row))

    def executions(self, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        q = select(db.playbook_executions).order_by(X.id.desc()).limit(limit)
        if status:
            q = q.where(X.status == status)
        with self.sql.connect() as conn:
            return [_aware_row(dict(r)) for r in conn.execute(q).mappings()]

    def due(self, now: datetime, limit: int = 50) -> list[int]:
        """Runs a worker may take: running ones nobody holds (new, or their worker died) and waiting
        ones whose wait, retry delay or approval timeout is over (or that got a decision)."""
        free = or_(X.lease_until.is_(None), X.lease_until < now)
        ready = or_(X.status == "running", and_(X.status == "waiting", X.wake_at <= now))
        with self.sql.connect() as conn:
            return list(conn.execute(select(X.id).where(free, ready).order_by(X.id).limit(limit)).scalars())

    def claim(self, execution_id: int, now: datetime) -> bool:
        """Take the run's lease with one compare-and-set UPDATE: true for exactly one contender."""
        with self.sql.begin() as conn:
            done = conn.execute(update(db.playbook_executions).where(
                X.id == execution_id, X.status.in_(ACTIVE), or_(X.lease_until.is_(None), X.lease_until < now),
            ).values(lease_owner=self.owner, lease_until=now + self.lease, status="running"))  # fmt: skip
            return done.rowcount == 1

    def release(self, execution_id: int) -> None:
        with self.sql.begin() as conn:
            conn.execute(update(db.playbook_executions).where(X.id == execution_id, X.lease_owner == self.owner)
                         .values(lease_owner=None, lease_until=None))  # fmt: skip

    def _renew(self, conn: Connection, execution_id: int, now: datetime, **values: Any) -> None:
        mine = (X.id == execution_id, X.lease_owner == self.owner, X.status.in_(ACTIVE))
        done = conn.execute(update(db.playbook_executions).where(*mine)
                            .values(lease_until=now + self.lease, updated_at=now, **values))  # fmt: skip
        if done.rowcount != 1:
            raise LeaseLost(f"execution {execution_id}: cancelled, or the lease of {self.owner} was taken")

    def renew(self, execution_id: int, now: datetime) -> None:
        with self.sql.begin() as conn:
            self._renew(conn, execution_id, now)

    def settle(self, execution_id: int, now: datetime, values: dict[str, Any], incident_id: int | None,
               entry: Entry | None = None) -> None:  # fmt: skip
        """Record where the run stands (waiting, finished) while still holding its lease."""
        with self.sql.begin() as conn:
            if values.get("status") == "waiting" and self._decided(conn, execution_id, values["current"]):
                values = {**values, "wake_at": now}  # an approval was decided while this pass ran
            self._renew(conn, execution_id, now, **values)
            self._timeline(conn, incident_id, entry)

    @staticmethod
    def _decided(conn: Connection, execution_id: int, paths: list[str]) -> bool:
        q = select(S.id).where(S.execution_id == execution_id, S.path.in_(paths), S.kind == "approval",
                                      S.status != "started")  # fmt: skip
        return conn.execute(q.limit(1)).first() is not None

    def wake(self, execution_id: int, now: datetime, entry: Entry | None, incident_id: int | None) -> None:
        with self.sql.begin() as conn:
            conn.execute(update(db.playbook_executions).where(X.id == execution_id, X.status == "waiting")
                         .values(wake_at=now, updated_at=now))  # fmt: skip
            self._timeline(conn, incident_id, entry)

    def cancel(self, execution_id: int, now: datetime) -> bool:
        with self.sql.begin() as conn:
            done = conn.execute(update(db.playbook_executions).where(X.id == execution_id, X.status.in_(ACTIVE))
                                .values(status="cancelled", finished_at=now, updated_at=now))  # fmt: skip
            return done.rowcount == 1

    # -- steps ------------------------------------------------------------------------------------
    def steps(self, execution_id: int) -> dict[StepKey, dict[str, Any]]:
        with self.sql.connect() as conn:
            rows = conn.execute(
                select(db.playbook_steps).where(S.execution_id == execution_id).order_by(S.id)
            )
            return {(r["path"], r["attempt"]): _aware_row(dict(r)) for r in rows.mappings()}

    def begin(self, execution_id: int, now: datetime, values: dict[str, Any], incident_id: int | None,
              entry: Entry | None = None) -> dict[str, Any]:  # fmt: skip
        """Write a step ``started`` (renewing the lease in the same transaction)."""
        row = {"execution_id": execution_id, "status": "started", "started_at": now, **values}
        with self.sql.begin() as conn:
            self._renew(conn, execution_id, now, current=[values["path"]])
            row["id"] = conn.execute(db.playbook_steps.insert().values(**row)).inserted_primary_key[0]  # type: ignore[index]
            self._timeline(conn, incident_id, entry)
        return row

    def finish(self, step: dict[str, Any], now: datetime, values: dict[str, Any], incident_id: int | None,
               entry: Entry | None = None) -> dict[str, Any]:  # fmt: skip
        """Finish a started step; when someone else finished it first (an approval decided while the
        run timed it out), their result stands and is returned."""
        with self.sql.begin() as conn:
            self._renew(conn, step["execution_id"], now)
            done = conn.execute(update(db.playbook_steps).where(S.id == step["id"], S.status == "started")
                                .values(finished_at=now, **values))  # fmt: skip
            if done.rowcount == 1:
                self._timeline(conn, incident_id, entry)
                return {**step, "finished_at": now, **values}
            row = conn.execute(select(db.playbook_steps).where(S.id == step["id"])).mappings().one()
            return _aware_row(dict(row))

    def record(self, execution_id: int, now: datetime, values: dict[str, Any]) -> dict[str, Any]:
        """A step that has no side effect (Pass, Choice, Succeed, Fail), written once finished."""
        row = {"execution_id": execution_id, "started_at": now, "finished_at": now, **values}
        with self.sql.begin() as conn:
            self._renew(conn, execution_id, now)
            row["id"] = conn.execute(db.playbook_steps.insert().values(**row)).inserted_primary_key[0]  # type: ignore[index]
        return row

    def decide(self, step_id: int, now: datetime, decision: dict[str, Any]) -> bool:
        """An approver's decision, unless the step was already decided (or timed out)."""
        with self.sql.begin() as conn:
            done = conn.execute(update(db.playbook_steps).where(S.id == step_id, S.status == "started")
                                .values(status="succeeded", output=decision, finished_at=now))  # fmt: skip
            return done.rowcount == 1

    @staticmethod
    def _timeline(conn: Connection, incident_id: int | None, entry: Entry | None) -> None:
        if incident_id is None or entry is None:
            return
        kind, summary, data, ref = entry
        timeline.add(
            conn, incident_id, kind, summary, actor=str(data.get("actor", "cloudsoc")), data=data, ref=ref
        )


def _aware_row(row: dict[str, Any]) -> dict[str, Any]:
    """SQLite gives naive datetimes back: every time cloudsoc stores is UTC."""
    return {k: aware(v) if isinstance(v, datetime) else v for k, v in row.items()}
