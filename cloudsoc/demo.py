"""``make demo``: a day of multi-account CloudTrail with an intrusion in it, ingested, detected,
and the alerts on screen. Runs on embedded defaults; nothing to configure."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from rich.console import Console
from sqlalchemy import select

from cloudsoc.cases.alerts import list_alerts
from cloudsoc.cases.detection import detect_new
from cloudsoc.core import db
from cloudsoc.core.config import Home
from cloudsoc.detect import rules as rule_loader
from cloudsoc.lake.ingest import ingest
from cloudsoc.simulate.generate import generate_day

console = Console()


def main() -> None:
    home = Home.open(Path(".cloudsoc") / "demo")
    for stale in ("lake", "quarantine", "state.db", "state.db-wal", "state.db-shm", "input", "cloudsoc.yaml"):
        p = home.root / stale
        shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)
    console.rule("[bold]cloudsoc demo: one day of a six-account organization")
    gen = generate_day(home.root / "input", events=60_000, accounts=6, workers=2)
    # What Organizations ListAccounts gives a real deployment: shares inside the org are not exfiltration.
    (home.root / "cloudsoc.yaml").write_text(
        yaml.safe_dump({"detect": {"placeholders": {"org_accounts": gen.accounts}}})
    )
    home = Home.open(home.root)
    console.print(f"generated {gen.events:,} CloudTrail events in {gen.files} delivery files, "
                  f"{len(gen.attacks)} of them from an intruder")  # fmt: skip
    summary = ingest(home, [str(home.root / "input")])
    console.print(f"ingested {summary.events_ingested:,} events in {summary.seconds}s "
                  f"({summary.files_ignored} digest files recognized and skipped)")  # fmt: skip
    rules = rule_loader.load(home.rule_paths(), home.settings.detect.placeholders)
    result = detect_new(home, rules)
    console.print(
        f"detected over {result.events:,} events with {len(rules.alerting())} rules in {result.seconds}s"
    )
    sql = db.connect(home.database_url)
    with sql.connect() as conn:
        alerts = list_alerts(conn, limit=200)
        caught = {r[0] for r in conn.execute(select(db.alert_events.c.event_id))}
    from cloudsoc.cli.output import emit_table

    emit_table(f"{len(alerts)} open alerts", ["severity", "rule", "account", "principal", "count", "first seen"],
               [[a["severity"], a["rule_id"], a["account_id"], a["principal"], a["count"], a["first_seen"]]
                for a in sorted(alerts, key=_rank)])  # fmt: skip
    missed = [a for a in gen.attacks if a["event_id"] not in caught]
    console.print(f"intruder events caught: {len(gen.attacks) - len(missed)}/{len(gen.attacks)}")
    for a in missed:
        console.print(f"  [yellow]not alerted[/]: {a['name']} ({a['event_name']})")
    console.print(f"data kept in {home.root}; try: cloudsoc alerts list --home {home.root}")


def _rank(alert: dict[str, object]) -> tuple[int, str]:
    order = ["critical", "high", "medium", "low", "info"]
    return order.index(str(alert["severity"])), str(alert["first_seen"])


if __name__ == "__main__":
    main()
