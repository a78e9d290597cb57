"""Stored scans: results, framework scores (the trend) and the difference between two scans."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from cloudsoc.core import db
from cloudsoc.core.errors import CloudSOCError
from cloudsoc.core.timeutil import utcnow
from cloudsoc.posture import frameworks
from cloudsoc.posture.check import STATUSES, Result

S, R, SC = db.posture_scans.c, db.posture_results.c, db.posture_scores.c


class ScanNotFound(CloudSOCError):
    pass


@dataclass
class Scan:
    id: str
    started_at: datetime
    finished_at: datetime
    results: list[Result]
    trigger: str = "full"
    inventory_path: str | None = None
    inventory_sha256: str | None = None
    accounts: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    source: str = "cloudsoc"

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for r in self.results if r.status == s) for s in STATUSES}


def save(conn: Connection, scan: Scan) -> dict[str, Any]:
    """Store the scan, its results and every framework's scores; return the scores."""
    conn.execute(delete(db.posture_results).where(R.scan_id == scan.id))
    conn.execute(delete(db.posture_scores).where(SC.scan_id == scan.id))
    conn.execute(delete(db.posture_scans).where(S.id == scan.id))
    conn.execute(insert(db.posture_scans).values(
        id=scan.id, started_at=scan.started_at, finished_at=scan.finished_at, trigger=scan.trigger,
        inventory_path=scan.inventory_path, inventory_sha256=scan.inventory_sha256, accounts=scan.accounts,
        regions=scan.regions, counts=scan.counts(), collect_seconds=scan.seconds))  # fmt: skip
    if scan.results:
        conn.execute(insert(db.posture_results), [
            {"scan_id": scan.id, "check_id": r.check, "account_id": r.account, "region": r.region,
             "resource": r.resource, "status": r.status, "severity": r.severity, "message": r.message,
             "evidence": r.evidence, "source": scan.source} for r in scan.results])  # fmt: skip
    scores = {fid: frameworks.evaluate(fw, scan.results) for fid, fw in frameworks.bundled().items()}
    now = utcnow()
    for fid, ev in scores.items():
        by_scope = (
            {"org": ev}
            | {f"account:{a}": v for a, v in ev["accounts"].items()}
            | {f"section:{s}": v for s, v in ev["sections"].items()}
        )
        conn.execute(insert(db.posture_scores), [
            {"scan_id": scan.id, "framework": fid, "scope": scope, "score": v["score"], "counts": v["counts"],
             "at": now} for scope, v in by_scope.items()])  # fmt: skip
    return scores


def scans(conn: Connection, limit: int = 50) -> list[dict[str, Any]]:
    q = select(db.posture_scans).order_by(S.started_at.desc()).limit(limit)
    return [dict(r._mapping) for r in conn.execute(q)]


def resolve(conn: Connection, ref: str | None = "latest", *, back: int = 0, whole: bool = False) -> str:
    """A scan id from an id, "latest", or the scan ``back`` before the latest (imports are never
    "latest"; ``whole``: only scans of every account and region count)."""
    if ref and ref != "latest":
        if conn.execute(select(S.id).where(S.id == ref)).first() is None:
            raise ScanNotFound(f"no scan {ref!r}")
        return ref
    q = select(S.id).where(S.trigger == "full" if whole else S.trigger != "import")
    q = (
        q.order_by(S.finished_at.desc()).offset(back).limit(1)
    )  # the latest judged (an old inventory may be judged again)
    row = conn.execute(q).first()
    if row is None:
        raise ScanNotFound(
            "no scan stored yet; run `cloudsoc posture scan`" if back == 0 else "no earlier scan"
        )
    return str(row[0])


def results(conn: Connection, scan_id: str, *, status: str | None = None, check: str | None = None,
            account: str | None = None) -> list[Result]:  # fmt: skip
    q = select(db.posture_results).where(R.scan_id == scan_id)
    if status:
        q = q.where(R.status == status)
    if check:
        q = q.where(R.check_id == check)
    if account:
        q = q.where(R.account_id == account)
    return [Result(r.check_id, r.status, r.account_id, r.region, r.resource, r.message, r.evidence, r.severity)
            for r in conn.execute(q.order_by(R.id))]  # fmt: skip


def scan_row(conn: Connection, scan_id: str) -> dict[str, Any]:
    row = conn.execute(select(db.posture_scans).where(S.id == scan_id)).first()
    if row is None:
        raise ScanNotFound(f"no scan {scan_id!r}")
    return dict(row._mapping)


def diff(conn: Connection, old: str, new: str) -> dict[str, Any]:
    """Failures in ``new`` that ``old`` did not have, and failures of ``old`` that ``new`` no longer has
    (the resource passes now, or is gone)."""
    before = {r.key(): r for r in results(conn, old, status="FAIL")}
    after = {r.key(): r for r in results(conn, new, status="FAIL")}
    now = {r.key(): r for r in results(conn, new)}
    return {
        "old": old, "new": new,
        "new_failures": [after[k].to_dict() for k in sorted(after.keys() - before.keys())],
        "resolved": [before[k].to_dict() | {"now": now[k].status if k in now else "GONE"}
                     for k in sorted(before.keys() - after.keys())],
        "still_failing": len(after.keys() & before.keys()),
    }  # fmt: skip


def trend(conn: Connection, framework: str | None = None, scope: str = "org") -> list[dict[str, Any]]:
    q = (select(SC.scan_id, SC.framework, SC.score, SC.counts, SC.at).where(SC.scope == scope)
         .order_by(SC.at, SC.framework))  # fmt: skip
    if framework:
        q = q.where(SC.framework == framework)
    return [dict(r._mapping) for r in conn.execute(q)]


def save_state(conn: Connection, results: list[Result], checks: list[str] | None = None) -> None:
    """The current status of each (check, resource): the judged ``checks`` (all: None) now have exactly
    ``results``; a resource that is gone leaves the state."""
    P = db.posture_state.c
    q = delete(db.posture_state)
    conn.execute(q if checks is None else q.where(P.check_id.in_(checks)))
    now = utcnow()
    worst = by_resource(results)
    if worst:
        conn.execute(insert(db.posture_state), [
            {"check_id": r.check, "account_id": r.account, "region": r.region, "resource": r.resource,
             "status": r.status, "message": r.message, "updated_at": now} for r in worst.values()])  # fmt: skip


def by_resource(results: list[Result]) -> dict[tuple[str, str, str, str], Result]:
    """One result per (check, account, region, resource): a check that judged it twice keeps the worse."""
    worst: dict[tuple[str, str, str, str], Result] = {}
    for r in results:
        if r.key() not in worst or RANK[r.status] > RANK[worst[r.key()].status]:
            worst[r.key()] = r
    return worst


RANK = {"PASS": 0, "MANUAL": 1, "ERROR": 2, "FAIL": 3}  # which of two results for one resource is worse


def current(conn: Connection, checks: list[str]) -> dict[tuple[str, str, str, str], str]:
    """The current status of every resource the ``checks`` judge."""
    P = db.posture_state.c
    rows = conn.execute(
        select(P.check_id, P.account_id, P.region, P.resource, P.status).where(P.check_id.in_(checks))
    )
    return {(r[0], r[1], r[2], r[3]): r[4] for r in rows}
