"""Benchmark of response speed: from an attack event arriving on the live queue to the containment
action applied in the sandbox. An intruder with the dev account's CI key makes itself administrator;
the watcher collects, detects, opens the incident and runs the IAM credentials playbook (dev needs no
approval). Each run is reverted and its incident closed before the next."""

from __future__ import annotations

import json
import shutil
import statistics
import time
from datetime import datetime
from pathlib import Path

from cloudsoc.aws.sandbox import Sandbox
from cloudsoc.cases import incidents
from cloudsoc.core.config import Home
from cloudsoc.simulate.runner import Runner
from cloudsoc.watch import Watch

TECHNIQUE = "aws.persistence.iam-create-admin-user"


def measure(root: Path, runs: int = 12) -> list[float]:
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    # every run must raise fresh alerts, not update the previous run's
    (root / "cloudsoc.yaml").write_text(json.dumps({"detect": {"dedup_minutes": 0}}))
    home = Home.open(root)
    sandbox = Sandbox(home.root)
    sandbox.up()
    try:
        watch = Watch.for_sandbox(
            home, archive=False
        )  # the live path: the archive is the slower, complete feed
        runner = Runner(home)
        return [_one(watch, runner) for _ in range(runs)]
    finally:
        sandbox.down()


def _one(watch: Watch, runner: Runner) -> float:
    seen = {ex.id for ex in watch.engine.executions()}
    runner.run(TECHNIQUE, "dev")  # returns once the records are on the queue
    arrived = time.time()
    contained = None
    for _ in range(20):
        watch.cycle()
        contained = _first_applied(watch, seen)
        if contained:
            break
    if contained is None:
        raise RuntimeError("the intruder was not contained")
    incident_id, at = contained
    watch.revert(incident_id, by="bench")
    with watch.sql.begin() as conn:
        incidents.set_status(conn, incident_id, "closed", by="bench", why="benchmark run")
    runner.revert(TECHNIQUE)
    return at - arrived


def _first_applied(watch: Watch, seen: set[int]) -> tuple[int, float] | None:
    for ex in watch.engine.executions():
        if ex.id in seen or ex.incident_id is None:
            continue
        done = [datetime.fromisoformat(s["output"]["finished_at"]).timestamp() for s in watch.engine.steps(ex.id)
                if s["kind"] == "action" and s["status"] == "succeeded" and s["output"].get("status") == "applied"]  # fmt: skip
        if done:
            return ex.incident_id, min(done)
    return None


def summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"runs": len(ordered), "p50": statistics.median(ordered), "p95": p95, "max": ordered[-1]}
