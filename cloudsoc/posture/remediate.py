"""``cloudsoc posture fix``: plan the fixes of a scan's failures, apply them when asked (under the
account tier's approval policy), then collect and judge the fixed resources again."""

from __future__ import annotations

from sqlalchemy import Engine

from cloudsoc.core import db
from cloudsoc.core.config import Home
from cloudsoc.posture import fix as fixes
from cloudsoc.posture import store
from cloudsoc.posture.continuous import PostureWatch
from cloudsoc.respond.access import Responder


def run(home: Home, *, scan: str = "latest", check: str | None = None, account: str | None = None,
        resource: str | None = None, apply: bool = False, approved_by: str | None = None,
        sql: Engine | None = None) -> list[fixes.FixItem]:  # fmt: skip
    sql = sql or db.connect(home.database_url)
    with sql.connect() as conn:
        failed = store.results(conn, store.resolve(conn, scan), status="FAIL", check=check, account=account)
    if resource:
        failed = [
            r
            for r in failed
            if resource in (r.resource, r.resource.rsplit("/", 1)[-1], r.resource.rsplit(":", 1)[-1])
        ]
    responder = Responder.for_home(home)
    items = [it for r in failed if (it := fixes.item(home, responder, r)) is not None]
    for it in items:
        fixes.plan(responder, it)
    if not apply:
        return items
    for it in items:
        if it.plan.get("error"):
            continue
        try:
            fixes.apply(responder, it, approved_by)
        except fixes.FixRefused as exc:
            it.outcome = {"status": "refused", "error": str(exc)}
    _judge_again(home, sql, [it for it in items if it.outcome.get("status") in ("applied", "already_done")])
    return items


def _judge_again(home: Home, sql: Engine, done: list[fixes.FixItem]) -> None:
    if not done:
        return
    fixed = {it.result.key(): {"mode": "apply", "action": it.action, "status": it.outcome.get("status"),
                               "approved_by": it.outcome.get("approved_by")} for it in done}  # fmt: skip
    changes = PostureWatch(home, sql).judge_fixed(
        {fixes.acted_in(it.result, it.params) for it in done}, fixed
    )
    now = {(c.check, c.account, c.region, c.resource): c.new for c in changes}
    with sql.connect() as conn:
        state = store.current(conn, [it.result.check for it in done])
    for it in done:
        it.after = now.get(it.result.key()) or state.get(it.result.key())
