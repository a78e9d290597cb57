"""A whole posture scan: collect the inventory, keep it, evaluate every check, store the results."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from cloudsoc.core import db
from cloudsoc.core.config import Home
from cloudsoc.core.errors import ConfigError
from cloudsoc.core.timeutil import parse_time, utcnow
from cloudsoc.posture import scope as scopes
from cloudsoc.posture import store
from cloudsoc.posture.collect import Scope, Stats, collect
from cloudsoc.posture.inventory import Inventory
from cloudsoc.posture.scan import evaluate, select


@dataclass
class ScanRun:
    scan: store.Scan
    inventory: Inventory
    stats: Stats
    scores: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        return {"scan": self.scan.id, "accounts": self.scan.accounts, "regions": self.scan.regions,
                "inventory": self.scan.inventory_path, "inventory_sha256": self.scan.inventory_sha256,
                "api_calls": self.stats.calls, "collection_errors": len(self.inventory.errors),
                "seconds": self.scan.seconds, "results": self.scan.counts(),
                "frameworks": {f: {"score": s["score"], "counts": s["counts"]} for f, s in self.scores.items()}}  # fmt: skip


def inventory_path(home: Home, inventory_id: str) -> Path:
    return home.posture / "inventory" / f"{inventory_id}.json.gz"


def collect_inventory(home: Home, scope: Scope | None = None) -> tuple[Inventory, Stats, Path, str]:
    scope = scope or scopes.for_home(home)
    inv, stats = collect(scope, workers=home.settings.posture.workers)
    path = inventory_path(home, inv.id)
    return inv, stats, path, inv.save(path)


def scan(home: Home, *, accounts: list[str] | None = None, regions: list[str] | None = None,
         inventory: Path | None = None, sql: Engine | None = None) -> ScanRun:  # fmt: skip
    """Collect (or load ``inventory``), evaluate every check, store the scan and its scores. ``accounts``
    (ids or names) and ``regions`` narrow what is collected, or what of ``inventory`` is evaluated."""
    t0 = time.monotonic()
    if inventory is None:
        inv, stats, path, digest = collect_inventory(home, scopes.for_home(home, accounts, regions))
        where, places = sorted(inv.accounts), inv.regions
    else:
        inv, stats, path = Inventory.load(inventory), Stats(), inventory
        digest = hashlib.sha256(inventory.read_bytes()).hexdigest()
        where, places = _narrow(inv, accounts, regions)
    t1 = time.monotonic()
    results = evaluate(inv, select(), where, places)
    t2 = time.monotonic()
    started = parse_time(inv.started) if inv.started else utcnow()
    partial = bool(accounts or regions)
    sc = store.Scan(id=_scan_id(inv, where, places, partial), started_at=started, finished_at=utcnow(),
                    results=results, trigger="partial" if partial else "full", inventory_path=str(path),
                    inventory_sha256=digest, accounts=where, regions=places,
                    seconds={"collect": round(t1 - t0, 3), "evaluate": round(t2 - t1, 3)})  # fmt: skip
    engine = sql or db.connect(home.database_url)
    with engine.begin() as conn:
        scores = store.save(conn, sc)
        if not partial:  # a whole scan is the new current state of every check
            store.save_state(conn, results)
    return ScanRun(sc, inv, stats, scores)


def _narrow(
    inv: Inventory, accounts: list[str] | None, regions: list[str] | None
) -> tuple[list[str], list[str]]:
    """The accounts (ids or names) and regions of a stored inventory that a scan evaluates."""
    where = sorted(
        a for a, v in inv.accounts.items() if not accounts or a in accounts or v.get("name") in accounts
    )
    places = [r for r in inv.regions if not regions or r in regions]
    if accounts and not where:
        raise ConfigError(f"inventory {inv.id} holds no account {', '.join(accounts)}")
    if regions and not places:
        raise ConfigError(f"inventory {inv.id} holds no region {', '.join(regions)}")
    return where, places


def _scan_id(inv: Inventory, accounts: list[str], regions: list[str], partial: bool) -> str:
    """One scan per inventory, and one per part of it judged: judging a part never replaces the whole."""
    base = f"scan-{inv.id.removeprefix('inv-')}"
    if not partial:
        return base
    return f"{base}-{hashlib.sha256(','.join([*accounts, '|', *regions]).encode()).hexdigest()[:8]}"
