"""``cloudsoc validate``: detonate each technique, ingest what the sandbox's CloudTrail delivered,
detect, and say per technique whether the detections it expects fired, which rules fired, how long
detection took, and which alerts the rest of the traffic raised in the same window."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import func, select

from cloudsoc.aws.session import ClientFactory
from cloudsoc.cases.detection import detect_new
from cloudsoc.core import db
from cloudsoc.core.config import Home
from cloudsoc.detect import rules as rule_loader
from cloudsoc.detect.rules import RuleSet
from cloudsoc.lake.ingest import ingest
from cloudsoc.simulate.runner import Runner, RunResult
from cloudsoc.simulate.technique import TECHNIQUES

_LEVELS = ("critical", "high", "medium", "low", "informational")


@dataclass
class TechniqueResult:
    technique: str
    title: str
    tactic: str
    attack: list[str]
    expects: list[str]
    detected: bool
    fired: list[str]  # every rule that alerted on the technique's own events
    missing: list[str]  # expected rules that did not alert
    seconds_to_detect: float | None  # first event of the attack -> its alerts stored
    events: int
    synthetic: int
    run_id: str
    noise: dict[str, int] = field(default_factory=dict)  # alerts by severity on other traffic, same window
    error: str | None = None


@dataclass
class Validation:
    results: list[TechniqueResult]
    seconds: float

    @property
    def detected(self) -> int:
        return sum(r.detected for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {"techniques": len(self.results), "detected": self.detected, "seconds": round(self.seconds, 2),
                "results": [asdict(r) for r in self.results]}  # fmt: skip


def sandbox_rules(home: Home, org_accounts: list[str]) -> RuleSet:
    """The configured rules, with the sandbox organization's accounts as ``%org_accounts%``."""
    placeholders = {"org_accounts": org_accounts, **home.settings.detect.placeholders}
    return rule_loader.load(home.rule_paths(), placeholders)


class Pipeline:
    """Ingest from the sandbox's log archive and detect: what a deployment runs continuously."""

    def __init__(self, home: Home, runner: Runner) -> None:
        state = runner.sandbox.state()
        self.home = home
        self.uri = f"s3://{state.trail_bucket}/AWSLogs/"
        self.reader = ClientFactory.of(runner.sandbox.soc_session(state, "log-archive"), "s3")
        self.rules = sandbox_rules(home, sorted(state.accounts.values()))
        self.sql = db.connect(home.database_url)

    def step(self) -> None:
        ingest(self.home, [self.uri], s3=self.reader, workers=1)
        detect_new(self.home, self.rules, self.sql)

    def last_alert_id(self) -> int:
        with self.sql.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(db.alerts.c.id), 0))).scalar_one())


def validate(
    home: Home,
    technique_ids: list[str],
    *,
    account: str = "prod",
    revert: bool = True,
    background: Callable[[], object] | None = None,
    progress: Callable[[TechniqueResult], None] | None = None,
) -> Validation:
    started = time.monotonic()
    runner = Runner(home)
    pipeline = Pipeline(home, runner)
    results = []
    for tid in technique_ids:
        result = _one(runner, pipeline, tid, account, revert, background)
        results.append(result)
        if progress:
            progress(result)
    return Validation(results, time.monotonic() - started)


def _one(runner: Runner, pipeline: Pipeline, tid: str, account: str, revert: bool,
         background: Callable[[], object] | None) -> TechniqueResult:  # fmt: skip
    tech = TECHNIQUES.get(tid)
    base: dict[str, Any] = {"technique": tid, "title": tech.title, "tactic": tech.tactic, "attack": list(tech.attack),
            "expects": list(tech.expects)}  # fmt: skip
    before = pipeline.last_alert_id()
    try:
        if background:
            background()
        run = runner.run(tid, account)
        pipeline.step()
    except Exception as exc:  # one broken technique must not stop the others
        if revert:
            _quiet_revert(runner, tid)
        return TechniqueResult(**base, detected=False, fired=[], missing=list(tech.expects), seconds_to_detect=None,
                               events=0, synthetic=0, run_id="", error=f"{type(exc).__name__}: {exc}")  # fmt: skip
    detected_at = time.time()
    fired, noise = _alerts(pipeline.sql, run, before)
    missing = [r for r in tech.expects if r not in fired]
    # From the attack's first call to its alerts being in the store (delivery, ingest, detection).
    ttd = round(detected_at - run.first_event_at, 2) if not missing and run.first_event_at else None
    if revert:
        runner.revert(tid)
    return TechniqueResult(**base, detected=not missing, fired=sorted(fired), missing=missing, seconds_to_detect=ttd,
                           events=len(run.events), synthetic=run.synthetic, run_id=run.run_id, noise=noise)  # fmt: skip


def _alerts(sql: SqlEngine, run: RunResult, after_id: int) -> tuple[set[str], dict[str, int]]:
    """Rules that alerted on the run's events, and the other alerts raised since ``after_id`` by severity."""
    ids = run.event_ids
    fired: set[str] = set()
    noise: Counter[str] = Counter()
    with sql.connect() as conn:
        rows = conn.execute(
            select(db.alerts.c.id, db.alerts.c.rule_id, db.alerts.c.severity, db.alerts.c.created_at,
                   db.alert_events.c.event_id)
            .join(db.alert_events, db.alert_events.c.alert_id == db.alerts.c.id)
            .where(db.alerts.c.updated_at >= datetime.fromtimestamp(run.started, UTC).replace(tzinfo=None))
        ).all()  # fmt: skip
    # A finding's alert names it <finding id>@<updated at>.
    mine = {r.id for r in rows if r.event_id in ids or r.event_id.split("@", 1)[0] in ids}
    for r in rows:
        if r.id in mine:
            fired.add(r.rule_id)
    for _, severity in {(r.id, r.severity) for r in rows if r.id not in mine and r.id > after_id}:
        noise[severity] += 1
    return fired, dict(noise)


def _quiet_revert(runner: Runner, tid: str) -> None:
    with contextlib.suppress(Exception):  # the original failure is what the report shows
        runner.revert(tid)
