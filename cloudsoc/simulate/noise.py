"""The noise budget: a simulated day of an organization's benign CloudTrail, detected with the
configured rules. A day without an intruder must raise no high or critical alert; the low and
medium ones it raises are what analysts would wade through."""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from cloudsoc.cases.alerts import list_alerts
from cloudsoc.cases.detection import detect_new
from cloudsoc.core import db
from cloudsoc.core.config import Home
from cloudsoc.detect import rules as rule_loader
from cloudsoc.lake.ingest import ingest
from cloudsoc.simulate.generate import generate_day


@dataclass
class NoiseReport:
    events: int
    by_severity: dict[str, int]
    by_rule: dict[str, int]  # "severity rule" -> alerts

    @property
    def loud(self) -> int:
        """High and critical alerts: each one is a budget breach."""
        return self.by_severity.get("high", 0) + self.by_severity.get("critical", 0)


def noise_day(home: Home, events: int = 100_000, accounts: int = 6, workers: int = 2) -> NoiseReport:
    """Generate, ingest and detect one benign day in a scratch home; the rules come from ``home``."""
    with tempfile.TemporaryDirectory(prefix="cloudsoc-noise-") as tmp:
        scratch = Home(Path(tmp), home.settings)
        gen = generate_day(
            scratch.root / "input", events=events, accounts=accounts, attacks=False, workers=workers
        )
        ingest(scratch, [str(scratch.root / "input")], workers=workers)
        placeholders = {"org_accounts": gen.accounts, **home.settings.detect.placeholders}
        rules = rule_loader.load(home.rule_paths(), placeholders)
        detect_new(scratch, rules)
        with db.connect(scratch.database_url).connect() as conn:
            alerts = list_alerts(conn, limit=1_000_000)
    return NoiseReport(gen.events, dict(Counter(str(a["severity"]) for a in alerts)),
                       dict(Counter(f"{a['severity']} {a['rule_id']}" for a in alerts)))  # fmt: skip
