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
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, insert, select, update

from cloudsoc.cases import suppress
from cloudsoc.cases.alerts import record
from cloudsoc.core import db
from cloudsoc.core.config import Home
from cloudsoc.core.timeutil import aware, utcnow
from cloudsoc.detect.engine import Match
from cloudsoc.detect.rules import Rule
from cloudsoc.lake.store import Lake, sql_str
from cloudsoc.posture import fix as fixes
from cloudsoc.posture import scope as scopes
from cloudsoc.posture import store
from cloudsoc.posture.check import CheckSpec, Result, Status
from cloudsoc.posture.collect import Scope, collect
from cloudsoc.posture.inventory import GLOBAL_SERVICES, Inventory
from cloudsoc.posture.scan import evaluate
from cloudsoc.posture.scan import select as select_checks
from cloudsoc.posture.triggers import COMPANIONS, EVENT_NAMES, refresh_of
from cloudsoc.respond.access import Responder

P = db.posture_state.c
Key = tuple[str, str, str, str]  # check, account, region, resource


@dataclass
class Change:
    check: str
    account: str
    region: str
    resource: str
    old: str | None
    new: Status
    message: str
    event_id: str | None = None
    event_name: str | None = None
    event_time: datetime | None = None
    alert_id: int | None = None
    fix: dict[str, Any] | None = None
    id: int | None = None  # its row in posture_changes
    evidence: dict[str, Any] = field(default_factory=dict)

    def result(self) -> Result:
        return Result(
            self.check, self.new, self.account, self.region, self.resource, self.message, self.evidence
        )


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
                    row = store.scan_row(conn, store.resolve(conn, whole=True))
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
    def judge(self, services: set[str], events: Sequence[dict[str, Any]] = (),
              fixed: dict[Key, dict[str, Any]] | None = None) -> list[Change]:  # fmt: skip
        """Judge again every check reading ``services`` (or what their collectors file beside them), in
        every account: an account's result may rest on another's data (an organization trail lives in
        the management account). A status that differs from the stored state is a change, tied to the
        latest of ``events`` about it and to its fix in ``fixed``; a new FAIL raises a posture alert."""
        specs = select_checks(services=set().union(*(COMPANIONS.get(s, {s}) for s in services)))
        results = evaluate(self.inventory, specs)
        cause = _causes(events)
        changes: list[Change] = []
        with self.sql.begin() as conn:
            old = store.current(conn, [s.id for s in specs])
            for r in store.by_resource(results).values():
                if old.get(r.key()) != r.status:
                    changes.append(
                        _change(r, old.get(r.key()), _cause_of(cause, r), (fixed or {}).get(r.key()))
                    )
            store.save_state(conn, results, [s.id for s in specs])
            for c in changes:
                if c.new == "FAIL":
                    c.alert_id = raise_alert(conn, self.home, c, fixes.spec(c.check))
                c.id = _record(conn, c)
        return changes

    def judge_fixed(self, places: set[tuple[str, str, str]], fixed: dict[Key, dict[str, Any]],
                    events: Sequence[dict[str, Any]] = ()) -> list[Change]:  # fmt: skip
        """Collect again ``places`` (account, region, collector service) where fixes acted, and judge the
        fixed checks again, so the state shows the fixes."""
        for account, region, service in sorted(places):
            self.collect_again(account, region, service)
        return self.judge({s for check, *_ in fixed for s in fixes.spec(check).services}, events, fixed)

    def _fix(self, changes: list[Change], events: list[dict[str, Any]]) -> None:
        """Fix the new failures policy allows (plan the others); then collect and judge again."""
        new_fails = [c for c in changes if c.new == "FAIL"]
        if not new_fails:
            return
        responder = Responder.for_home(self.home)
        fixed: dict[Key, dict[str, Any]] = {}
        places: set[tuple[str, str, str]] = set()
        for c in new_fails:
            outcome = fixes.auto_fix(self.home, responder, c.result())
            if outcome is None:
                continue
            c.fix = outcome
            with self.sql.begin() as conn:
                _note_fix(conn, c)
            if outcome["status"] in ("applied", "already_done"):
                fixed[(c.check, c.account, c.region, c.resource)] = outcome
                places.add(fixes.acted_in(c.result(), outcome["params"]))
        if fixed:
            changes.extend(self.judge_fixed(places, fixed, events))

    def _seed_state(self) -> None:
        """The first time: the latest scan's results are the state the events change."""
        with self.sql.begin() as conn:
            if conn.execute(select(P.check_id).limit(1)).first() is not None:
                return
            try:
                latest = store.resolve(conn, whole=True)
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
    return [{"id": r[0], "time": r[1], "eventName": r[2], "account": r[3], "region": r[4], "principal": r[5],
             "requestParameters": orjson.loads(r[6]) if r[6] else None} for r in rows]  # fmt: skip


def _causes(events: Sequence[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The latest event per (account, inventory service it refreshed), and the latest of all under
    ("*", "")."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for e in events:
        hit = refresh_of(e)
        if hit is not None:
            out |= {(e["account"], s): e for s in COMPANIONS.get(hit[0], {hit[0]})}
            out[("*", "")] = e
    return out


def _cause_of(cause: dict[tuple[str, str], dict[str, Any]], r: Result) -> dict[str, Any] | None:
    """The event that changed ``r``: the latest about its account and a service its check reads, else
    (another account's data changed it) the latest of all."""
    about = [e for s in fixes.spec(r.check).services if (e := cause.get((r.account, s))) is not None]
    return max(about, key=lambda e: e["time"]) if about else cause.get(("*", ""))


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


def _note_fix(conn: Connection, c: Change) -> None:
    C = db.posture_changes.c
    if c.id is not None:
        conn.execute(update(db.posture_changes).where(C.id == c.id).values(fix=c.fix))


# ---- posture alerts ------------------------------------------------------------------------------
def rule_of(s: CheckSpec) -> Rule:
    """A check seen as a detection rule, so its alerts live in the one alert store."""
    return Rule(id=f"posture.{s.id}", title=f"Posture: {s.title}", severity=s.severity, tags=["posture"],
                version="1", path=f"cloudsoc/posture/checks/{s.id}.py", line=0, kind="posture")  # fmt: skip


def raise_alert(conn: Connection, home: Home, change: Change, s: CheckSpec) -> int | None:
    """A posture alert for a new failure, tied to the CloudTrail event that caused it (deduplicated by
    resource; suppressions apply as to any alert)."""
    when = change.event_time or utcnow()
    event_ids = (
        [change.event_id]
        if change.event_id
        else [f"posture:{change.check}:{change.resource}:{when.isoformat()}"]
    )
    match = Match(rule=rule_of(s), event_ids=event_ids, first_seen=when, last_seen=when, account_id=change.account,
                  region=change.region, principal=None, group=change.resource,
                  context={"check": change.check, "resource": change.resource, "message": change.message,
                           "event_name": change.event_name})  # fmt: skip
    window = timedelta(minutes=home.settings.detect.dedup_minutes)
    record(conn, [match], suppress.load(home.suppression_paths()), window)
    A = db.alert_events.c
    row = conn.execute(
        select(A.alert_id).where(A.rule_id == match.rule.id, A.event_id == event_ids[0])
    ).first()
    return None if row is None else int(row[0])
