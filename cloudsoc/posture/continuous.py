"""Continuous evaluation: a CloudTrail event that changes a resource makes cloudsoc collect that resource
again, judge its checks again, raise a posture alert on a new failure and, where policy allows, fix it.

The inventory of the latest scan is the baseline, kept in memory and refreshed piece by piece; the
status of every (check, resource) lives in ``posture_state``. Lake files are marked done in the same
transaction as the changes they caused, so a crash repeats a pass: collecting and judging again finds
the state already stored, and the alert store ignores an event it holds.
"""

from __future__ import annotations

import functools
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from cloudsoc.core import db
from cloudsoc.core.config import Home
from cloudsoc.core.timeutil import aware, utcnow
from cloudsoc.lake.store import Lake, sql_str
from cloudsoc.posture import fix as fixes
from cloudsoc.posture import scope as scopes
from cloudsoc.posture import store
from cloudsoc.posture.check import CheckSpec, Result
from cloudsoc.posture.collect import Scope, collect
from cloudsoc.posture.inventory import GLOBAL_SERVICES, Inventory
from cloudsoc.posture.scan import evaluate
from cloudsoc.posture.scan import select as select_checks
from cloudsoc.posture.triggers import COMPANIONS, EVENT_NAMES, refresh_of

P = db.posture_state.c


@dataclass
class Change:
    check: str
    account: str
    region: str
    resource: str
    old: str | None
    new: str
    message: str
    event_id: str | None = None
    event_name: str | None = None
    event_time: datetime | None = None
    alert_id: int | None = None
    fix: dict[str, Any] | None = None
    id: int | None = None  # its row in posture_changes
    evidence: dict[str, Any] = field(default_factory=dict)

    def result(self) -> Result:
        return Result(self.check, self.new, self.account, self.region, self.resource, self.message,  # type: ignore[arg-type]
                      self.evidence)  # fmt: skip


@dataclass
class PostureCycle:
    events: int = 0
    refreshed: list[str] = field(default_factory=list)  # account/region/service collected again
    changes: list[Change] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PostureWatch:
    def __init__(self, home: Home, sql: Engine | None = None, scope: Scope | None = None) -> None:
        self.home = home
        self.sql = sql or db.connect(home.database_url)
        self._scope = scope
        self._inventory: Inventory | None = None

    @functools.cached_property
    def scope(self) -> Scope:
        return self._scope or scopes.for_home(self.home)

    @property
    def inventory(self) -> Inventory:
        """The latest scan's inventory (a first full scan when there is none), refreshed in place."""
        if self._inventory is None:
            with self.sql.connect() as conn:
                try:
                    row = store.scan_row(conn, store.resolve(conn))
                except store.ScanNotFound:
                    row = None
            if row is None or not row["inventory_path"] or not Path(row["inventory_path"]).exists():
                from cloudsoc.posture.run import scan

                self._inventory = scan(self.home, sql=self.sql).inventory
            else:
                self._inventory = Inventory.load(Path(row["inventory_path"]))
            self._seed_state()
        return self._inventory

    def cycle(self) -> PostureCycle:
        started = time.monotonic()
        out = PostureCycle()
        lake = Lake(self.home.lake)
        with self.sql.connect() as conn:
            done = {r[0] for r in conn.execute(select(db.posture_files.c.path))}
        files = [f for f in lake.files("cloudtrail") if f not in done]
        if not files:
            return out
        events = _events(lake, files)
        out.events = len(events)
        if events:
            inv = self.inventory
            touched = self._refresh(inv, events, out)
            out.changes = self.judge(touched, events)
            self._fix(out.changes, events)
        with self.sql.begin() as conn:
            conn.execute(insert(db.posture_files), [{"path": f, "at": utcnow()} for f in files])
        out.seconds = round(time.monotonic() - started, 3)
        return out

    # -- collect again -------------------------------------------------------------------------
    def _refresh(self, inv: Inventory, events: list[dict[str, Any]], out: PostureCycle) -> set[str]:
        wanted: dict[tuple[str, str, str], set[str] | None] = {}
        for e in events:
            hit = refresh_of(e)
            if hit is None or e["account"] not in inv.accounts:
                continue
            service, key = hit
            region = self.scope.home_region if service in GLOBAL_SERVICES else e["region"]
            place = (e["account"], region, service)
            keys = wanted.get(place, set())
            wanted[place] = None if key is None or keys is None else keys | {key}
        for (account, region, service), keys in wanted.items():
            self.collect_again(account, region, service, keys)
            out.refreshed.append(f"{account}/{region}/{service}")
        return {service for _, _, service in wanted}

    def collect_again(self, account: str, region: str, service: str, keys: set[str] | None = None) -> None:
        part = Scope(
            [t for t in self.scope.targets if t.account == account], [region], self.scope.home_region
        )
        collect(part, services={service}, only=keys, inventory=self.inventory, workers=4)

    # -- judge again ---------------------------------------------------------------------------
    def judge(self, services: set[str], events: list[dict[str, Any]],
               fixed: dict[tuple[str, str, str, str], dict[str, Any]] | None = None) -> list[Change]:  # fmt: skip
        reads = set().union(*(COMPANIONS.get(s, {s}) for s in services)) if services else set()
        specs = select_checks(services=reads)
        results = evaluate(self.inventory, specs)
        cause = _causes(events)
        changes: list[Change] = []
        with self.sql.begin() as conn:
            old = store.current(conn, [s.id for s in specs])
            for r in store.by_resource(results).values():
                if old.get(r.key()) != r.status:
                    ev = cause.get((r.account, _service_of(specs, r.check, services))) or cause.get(("*", ""))
                    changes.append(_change(r, old.get(r.key()), ev, (fixed or {}).get(r.key())))
            store.save_state(conn, results, [s.id for s in specs])
            for c in changes:
                if c.new == "FAIL":
                    c.alert_id = fixes.raise_alert(conn, self.home, c, _spec(specs, c.check))
                c.id = _record(conn, c)
        return changes

    def _fix(self, changes: list[Change], events: list[dict[str, Any]]) -> None:
        """Fix the new failures policy allows; then collect and judge again, so the state shows it."""
        new_fails = [c for c in changes if c.new == "FAIL"]
        fixed: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        services: set[str] = set()
        for c in new_fails:
            outcome = fixes.auto_fix(self.home, c.result())
            if outcome is None:
                continue
            c.fix = outcome
            with self.sql.begin() as conn:
                fixes.note_fix(conn, c)
            if outcome.get("status") in ("applied", "already_done"):
                fixed[(c.check, c.account, c.region, c.resource)] = outcome
                services.update(fixes.spec(c.check).services)
                self.collect_again(c.account, fixes.action_region(c.region, self.scope.home_region),
                                   collector_service(fixes.spec(c.check)))  # fmt: skip
        if fixed:
            changes.extend(self.judge(services, events, fixed))

    def _seed_state(self) -> None:
        """The first time: the latest scan's results are the state the events change."""
        with self.sql.begin() as conn:
            if conn.execute(select(P.check_id).limit(1)).first() is not None:
                return
            try:
                latest = store.resolve(conn)
            except store.ScanNotFound:
                return
            store.save_state(conn, store.results(conn, latest))


def _events(lake: Lake, files: list[str]) -> list[dict[str, Any]]:
    """The successful calls among ``files`` that a check cares about, oldest first."""
    con = lake.connect({"cloudtrail": files})
    names = ", ".join(sql_str(n) for n in EVENT_NAMES)
    rows = con.execute(
        "select event_id, event_time, event_name, account_id, region, principal_arn, "
        "json_extract(raw, '$.requestParameters') from cloudtrail "
        f"where error_code is null and event_name in ({names}) order by event_time"
    ).fetchall()
    con.close()
    import orjson

    return [{"id": r[0], "time": r[1], "eventName": r[2], "account": r[3], "region": r[4], "principal": r[5],
             "requestParameters": orjson.loads(r[6]) if r[6] else None} for r in rows]  # fmt: skip


def _causes(events: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The latest event per (account, service), and the latest of all under ("*", "")."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for e in events:
        hit = refresh_of(e)
        if hit is not None:
            out[(e["account"], hit[0])] = e
            out[("*", "")] = e
    return out


def _service_of(specs: list[CheckSpec], check: str, services: set[str]) -> str:
    spec = _spec(specs, check)
    return next((s for s in services if COMPANIONS.get(s, {s}) & set(spec.services)), spec.services[0])


def _spec(specs: list[CheckSpec], check: str) -> CheckSpec:
    return next(s for s in specs if s.id == check)


def collector_service(spec: CheckSpec) -> str:
    return "s3" if spec.services[0] == "s3control" else spec.services[0]


def _change(r: Result, old: str | None, ev: dict[str, Any] | None, fix: dict[str, Any] | None) -> Change:
    return Change(r.check, r.account, r.region, r.resource, old, r.status, r.message,
                  event_id=ev["id"] if ev else None, event_name=ev["eventName"] if ev else None,
                  event_time=aware(ev["time"]) if ev else None, fix=fix, evidence=r.evidence)  # fmt: skip


def _record(conn: Connection, c: Change) -> int:
    res = conn.execute(insert(db.posture_changes).values(
        at=utcnow(), check_id=c.check, account_id=c.account, region=c.region, resource=c.resource,
        old_status=c.old, new_status=c.new, event_id=c.event_id, event_name=c.event_name,
        event_time=c.event_time, alert_id=c.alert_id, fix=c.fix))  # fmt: skip
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def changes(conn: Connection, limit: int = 100, since: timedelta | None = None) -> list[dict[str, Any]]:
    C = db.posture_changes.c
    q = select(db.posture_changes).order_by(C.id.desc()).limit(limit)
    if since is not None:
        q = q.where(C.at >= utcnow() - since)
    return [dict(r._mapping) for r in conn.execute(q)]
