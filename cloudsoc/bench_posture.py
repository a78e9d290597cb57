"""Benchmark of a full posture scan of the sandbox organization: every account, both regions, every
collector and check; collection (API calls through the read-only role) and evaluation timed apart."""

from __future__ import annotations

import shutil
import statistics
from pathlib import Path
from typing import Any

from cloudsoc.aws.sandbox import Sandbox
from cloudsoc.core.config import Home
from cloudsoc.posture.run import scan


def measure(root: Path, runs: int = 3) -> list[dict[str, Any]]:
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    home = Home.open(root)
    sandbox = Sandbox(home.root)
    sandbox.up()
    try:
        out = []
        for _ in range(runs):
            r = scan(home)
            s = r.summary()
            out.append({"collect": s["seconds"]["collect"], "evaluate": s["seconds"]["evaluate"],
                        "calls": s["api_calls"], "results": sum(s["results"].values()),
                        "accounts": len(s["accounts"]), "regions": len(s["regions"]),
                        "errors": s["collection_errors"]})  # fmt: skip
        return out
    finally:
        sandbox.down()


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median run (by total time) and its figures."""
    for r in runs:
        r["total"] = r["collect"] + r["evaluate"]
    median = sorted(runs, key=lambda r: r["total"])[len(runs) // 2]
    return median | {"runs": len(runs), "totals": [round(r["total"], 2) for r in runs],
                     "mean_total": statistics.mean(r["total"] for r in runs)}  # fmt: skip
