"""``cloudsoc simulate run|revert``: techniques detonated against the sandbox, with their state
kept between commands (a technique stays warm until it is reverted) and a log of every run."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from cloudsoc.aws.recorder import LogEntry, Recorder
from cloudsoc.aws.sandbox import HOME_REGION, Sandbox
from cloudsoc.core.config import Home
from cloudsoc.core.errors import CloudSOCError
from cloudsoc.simulate.technique import TECHNIQUES, Ctx, Technique


class SimulationError(CloudSOCError):
    pass


@dataclass
class RunResult:
    run_id: str
    technique: str
    account: str
    region: str
    started: float
    finished: float
    delivered: list[str]
    events: list[LogEntry] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)  # ids of the findings the services raised

    @property
    def event_ids(self) -> set[str]:
        return {e.event_id for e in self.events} | set(self.findings)

    @property
    def first_event_at(self) -> float | None:
        return min((e.at for e in self.events), default=None)

    @property
    def synthetic(self) -> int:
        return sum(e.synthetic for e in self.events)

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "technique": self.technique, "account": self.account, "region": self.region,
                "events": len(self.events), "synthetic": self.synthetic, "failed_calls": sum(bool(e.error) for e in self.events),
                "seconds": round(self.finished - self.started, 3), "delivered": self.delivered}  # fmt: skip


class Runner:
    def __init__(self, home: Home) -> None:
        self.home = home
        self.sandbox = Sandbox(home.root)
        self.dir = home.root / "simulate"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state_file = self.dir / "state.json"

    def context(self, account: str = "prod", region: str = HOME_REGION) -> Ctx:
        state = self.sandbox.state()
        if state.account(account) not in state.accounts.values():
            raise SimulationError(f"unknown account {account!r}; the sandbox has {', '.join(state.accounts)}")
        return Ctx(self.sandbox, state, Recorder(state.org_id), account=account, region=region)

    def run(self, technique_id: str, account: str = "prod", region: str = HOME_REGION,
            ctx: Ctx | None = None) -> RunResult:  # fmt: skip
        """Warm up (unless warm), detonate, and deliver the CloudTrail the detonation wrote."""
        tech = _technique(technique_id)
        ctx = ctx or self.context(account, region)
        saved = self._states()
        entry = saved.get(technique_id)
        started = time.time()
        if entry is None or entry.get("status") != "warm":
            with ctx.recorder.paused():
                entry = {
                    "status": "warm",
                    "account": ctx.account,
                    "region": ctx.region,
                    "state": tech.warmup(ctx),
                }
            saved[technique_id] = entry
            self._save(saved)
        mark = len(ctx.recorder.log)
        tech.detonate(ctx, entry["state"])
        events = ctx.recorder.log[mark:]
        findings = [str(f["id"]) for f in ctx.findings]
        delivered = ctx.flush()
        entry.update(status="detonated", run_id=ctx.run_id)
        self._save(saved)
        result = RunResult(ctx.run_id, technique_id, ctx.account_id, ctx.region, started, time.time(), delivered,
                           events, findings)  # fmt: skip
        self._log(result)
        return result

    def revert(self, technique_id: str) -> bool:
        """Undo a technique's detonation and warm-up; False when there was nothing to revert."""
        tech = _technique(technique_id)
        saved = self._states()
        entry = saved.pop(technique_id, None)
        if entry is None:
            return False
        ctx = self.context(entry["account"], entry["region"])
        with ctx.recorder.paused():
            tech.revert(ctx, entry["state"])
        self._save(saved)
        return True

    def status(self) -> dict[str, str]:
        return {k: str(v.get("status")) for k, v in self._states().items()}

    def _states(self) -> dict[str, Any]:
        if not self.state_file.exists():
            return {}
        data: dict[str, Any] = json.loads(self.state_file.read_text())
        return data

    def _save(self, states: dict[str, Any]) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(states, indent=1, default=str))
        tmp.replace(self.state_file)

    def _log(self, result: RunResult) -> None:
        runs = self.dir / "runs"
        runs.mkdir(exist_ok=True)
        body = {**result.to_dict(), "calls": [asdict(e) for e in result.events]}
        (runs / f"{result.run_id}.json").write_text(json.dumps(body, indent=1))


def _technique(technique_id: str) -> Technique:
    try:
        return TECHNIQUES.get(technique_id)()
    except KeyError as exc:
        raise SimulationError(str(exc.args[0])) from None
