"""``cloudsoc posture collect``: every collector in every account and region, in parallel.

Work is one (account, region, collector) task; a bounded pool runs them. Each account is reached
through the read-only role (``CloudSOCReadOnly``), one assumed session per account and region.
A collector that breaks is recorded in the inventory like a failed call, and the run goes on.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from cloudsoc.core.timeutil import utcnow
from cloudsoc.posture.collector import COLLECTORS, CollectContext, CollectorSpec
from cloudsoc.posture.inventory import GLOBAL, Inventory

# botocore's own retries stay short: CollectContext retries throttling itself, and records what is left.
_CLIENT_CONFIG = Config(retries={"total_max_attempts": 2, "mode": "standard"}, max_pool_connections=32)


@dataclass
class Target:
    """One account and how to reach it in a region."""

    account: str
    name: str
    tier: str
    session: Callable[[str], boto3.Session]  # region -> a session acting in the account


@dataclass
class Scope:
    targets: list[Target]
    regions: list[str]
    home_region: str = "us-east-1"


@dataclass
class Stats:
    tasks: int = 0
    calls: int = 0
    seconds: float = 0.0
    by_service: dict[str, float] = field(default_factory=dict)


class _Clients:
    """Sessions and clients, made once each; a boto3 session is not safe to share while it makes clients."""

    def __init__(self, scope: Scope) -> None:
        self._targets = {t.account: t for t in scope.targets}
        self._sessions: dict[tuple[str, str], tuple[boto3.Session, threading.Lock]] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()

    def client(self, account: str, region: str, service: str) -> Any:
        key = (account, region, service)
        if key in self._clients:
            return self._clients[key]
        session, lock = self._session(account, region)
        with lock:
            if key not in self._clients:
                make: Any = session.client
                self._clients[key] = make(service, region_name=region, config=_CLIENT_CONFIG)
        return self._clients[key]

    def _session(self, account: str, region: str) -> tuple[boto3.Session, threading.Lock]:
        with self._lock:
            entry = self._sessions.get((account, region))
            if entry is None:
                entry = self._sessions[(account, region)] = (
                    self._targets[account].session(region),
                    threading.Lock(),
                )
        return entry


def tasks(scope: Scope, services: set[str] | None = None) -> list[tuple[Target, str, CollectorSpec]]:
    """(account, region, collector) to run: global collectors once per account, in the home region."""
    out: list[tuple[Target, str, CollectorSpec]] = []
    for target in scope.targets:
        for _, spec in COLLECTORS.items():
            if services is not None and spec.service not in services:
                continue
            regions = [scope.home_region] if spec.scope == GLOBAL else scope.regions
            out.extend((target, region, spec) for region in regions)
    return out


def collect(scope: Scope, *, services: set[str] | None = None, only: set[str] | None = None,
            inventory: Inventory | None = None, workers: int = 16) -> tuple[Inventory, Stats]:  # fmt: skip
    """Collect into a new inventory (or refresh part of ``inventory``: the continuous evaluation)."""
    started = time.monotonic()
    inv = inventory or Inventory(id=f"inv-{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}",
                                 started=utcnow().isoformat(), regions=list(scope.regions))  # fmt: skip
    for t in scope.targets:
        inv.add_account(t.account, t.name, t.tier)
    clients = _Clients(scope)
    lock = threading.Lock()
    stats = Stats()
    work = tasks(scope, services)

    def run(task: tuple[Target, str, CollectorSpec]) -> tuple[str, int, float]:
        target, region, spec = task
        t0 = time.monotonic()
        ctx = CollectContext(inv, target.account, region, spec.service, None, lock=lock, only=only,
                             clients=lambda svc: clients.client(target.account, region, svc))  # fmt: skip
        try:
            ctx.client = clients.client(target.account, region, spec.service)
            if only is None:
                with lock:
                    inv.clear(target.account, region, spec.service)
            spec.fn(ctx)
        except Exception as exc:  # a broken collector is a finding about the run, not its end
            with lock:
                inv.fail(target.account, region, spec.service, f"collector:{spec.service}", "",
                         type(exc).__name__, str(exc))  # fmt: skip
        return spec.service, ctx.calls, time.monotonic() - t0

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for service, calls, seconds in pool.map(run, work):
            stats.calls += calls
            stats.by_service[service] = round(stats.by_service.get(service, 0.0) + seconds, 3)
    stats.tasks = len(work)
    stats.seconds = round(time.monotonic() - started, 3)
    inv.finished = utcnow().isoformat()
    return inv, stats
