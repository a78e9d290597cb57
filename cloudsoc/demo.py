"""``make demo``: a full SOC run against the sandbox. The organization comes up, its regulars go to
work, an intruder with stolen CI/CD keys works through the kill chain, cloudsoc ingests the
organization trail from the log archive, detects, and shows the alerts; then every technique in the
library is detonated and checked, for the coverage summary, and a simulated benign day measures the
noise. Compliance posture is scanned before the attack, judged again on every change during it, and
worked on at the end: drift fixed, an account remediated, reports and the audit bundle. Embedded
defaults; nothing to configure."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from rich.console import Console

from cloudsoc.aws.sandbox import Sandbox
from cloudsoc.aws.session import client
from cloudsoc.cases import incidents, sla, timeline
from cloudsoc.cases.alerts import list_alerts
from cloudsoc.cli.incidents import print_timeline
from cloudsoc.cli.output import emit_table
from cloudsoc.core.config import Home, load_settings
from cloudsoc.core.severity import rank
from cloudsoc.core.timeutil import utcnow
from cloudsoc.demo_posture import baseline, compliance_day
from cloudsoc.respond.evidence import Locker
from cloudsoc.simulate.background import background
from cloudsoc.simulate.campaign import revert_campaign, run_campaign
from cloudsoc.simulate.coverage import heatmap_svg, navigator_layer
from cloudsoc.simulate.noise import noise_day
from cloudsoc.simulate.runner import Runner
from cloudsoc.simulate.technique import TECHNIQUES
from cloudsoc.simulate.validate import validate
from cloudsoc.watch import Watch

console = Console()
_ORDER = ["critical", "high", "medium", "low", "informational"]


def main() -> None:
    os.environ.setdefault("COLUMNS", "150")  # tables stay readable when the output is not a terminal
    root = Path(".cloudsoc") / "demo"
    Sandbox(root.resolve()).down()
    shutil.rmtree(root, ignore_errors=True)
    home = Home.open(root)
    sandbox = Sandbox(home.root)
    console.rule("[bold]cloudsoc demo: a six-account AWS organization under attack")
    try:
        state = sandbox.up()
        console.print(f"sandbox organization {state.org_id} at {state.endpoint}: "
                      + ", ".join(f"{n} {a}" for n, a in state.accounts.items()))  # fmt: skip
        baseline(home)
        _intrusion(home)
        _coverage(home)
        _noise(home)
        compliance_day(home)
    finally:
        sandbox.down()
    console.print(f"data kept in {home.root}; try: cloudsoc alerts list --home {home.root}")


def _intrusion(home: Home) -> None:
    runner = Runner(home)
    regulars = [runner.context(a) for a in ("prod", "dev")]
    done = background(regulars, 150)
    console.print(f"background activity: {sum(done.values())} actions by the accounts' regulars")
    topic, inbox = _notification_channel(home)
    # the live feed: collect, detect, judge changed resources, incidents, playbooks, as the attack goes
    watch = Watch.for_sandbox(home, posture=True)

    def between() -> None:
        background(regulars, 40)
        watch.cycle()

    results = run_campaign(runner, between=between,
                           progress=lambda stage, r: console.print(f"  intruder, {stage}: {r.technique} "
                                                                   f"({len(r.events)} calls)"))  # fmt: skip
    for _ in range(2):
        watch.cycle()
    with watch.sql.connect() as conn:
        alerts = sorted(
            list_alerts(conn, limit=500),
            key=lambda a: (_ORDER.index(str(a["severity"])), str(a["first_seen"])),
        )
    intruder = {e for r in results for e in r.event_ids}
    emit_table(f"{len(alerts)} open alerts", ["severity", "rule", "account", "principal", "count"],
               [[a["severity"], a["rule_id"], a["account_id"], a["principal"], a["count"]] for a in alerts])  # fmt: skip
    console.print(f"intruder: {len(intruder)} recorded calls in {len(results)} techniques")
    _respond(home, watch, topic, inbox)
    revert_campaign(runner)


def _notification_channel(home: Home) -> tuple[str, str]:
    """An SNS topic in the security account, with a queue subscribed to read what went out."""
    sb = Sandbox(home.root)
    session = sb.soc_session(sb.state())
    sns, sqs = client("sns", session=session), client("sqs", session=session)
    topic = sns.create_topic(Name="cloudsoc-notifications")["TopicArn"]
    inbox = sqs.create_queue(QueueName="soc-on-call-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    settings = {"notify": {"channels": {"soc-on-call": {"type": "sns", "topic_arn": topic}}}}
    (home.root / "cloudsoc.yaml").write_text(json.dumps(settings))
    home.settings = load_settings(home.root / "cloudsoc.yaml")
    return topic, inbox


def _respond(home: Home, watch: Watch, topic: str, inbox: str) -> None:
    console.rule("[bold]response: incidents, playbooks, evidence, notifications")
    waiting = watch.engine.executions("waiting")
    for ex in waiting:  # production containment waits for a human: the analyst on duty approves
        watch.engine.approve(ex.id, "analyst-on-duty", "intruder confirmed from the timeline", True)
    watch.engine.work()
    watch.settle()
    watch.notifier.deliver_due(watch.sql)
    with watch.sql.connect() as conn:
        rows = incidents.list_rows(conn, status=None)
        top = max(rows, key=lambda r: (rank(r["severity"]), len(r["entities"]["principals"])))
        entries = timeline.entries(conn, top["id"])
        acted = [(r["id"], e) for r in rows for e in timeline.entries(conn, r["id"]) if e["kind"] == "action"]
    emit_table(f"{len(rows)} incidents", ["id", "severity", "status", "title", "MTTD s", "MTTC s"],
               [[r["id"], r["severity"], r["status"], r["title"], sla.durations(r)["mttd"], sla.durations(r)["mttc"]]
                for r in rows])  # fmt: skip
    console.print(f"{len(waiting)} production playbooks approved by the analyst on duty; executions: "
                  + ", ".join(f"{e.playbook} {e.status}" for e in watch.engine.executions()))  # fmt: skip
    emit_table("containment actions", ["incident", "at", "by", "what"],
               [[i, e["at"], e["actor"], e["summary"]] for i, e in acted])  # fmt: skip
    console.print(f"timeline of incident {top['id']} (last 40 entries):")
    print_timeline(entries[-40:])
    locker = Locker.open(home)
    checks = [locker.verify(r["id"]) for r in rows if locker.artifacts(r["id"])]
    console.print(f"evidence: {sum(c.artifacts for c in checks)} artifacts in {len(checks)} signed, hash-chained "
                  f"manifests; verified: {all(c.ok for c in checks)}")  # fmt: skip
    sb = Sandbox(home.root)
    got = client("sqs", session=sb.soc_session(sb.state())).receive_message(
        QueueUrl=inbox, MaxNumberOfMessages=10
    )
    console.print(f"notifications: {len(got.get('Messages', []))} arrived on {topic} (first 10 read)")
    agg = sla.aggregate(rows, home.settings.incidents.sla, utcnow())
    console.print(f"MTTD median {agg['mttd']['median']} s, MTTC median {agg['mttc']['median']} s over "
                  f"{agg['incidents']} incidents")  # fmt: skip
    for r in rows:  # the sandbox goes back to how it was, for the coverage run
        watch.revert(r["id"], by="demo")


def _coverage(home: Home) -> None:
    console.rule("[bold]detection coverage: every technique detonated, ingested, detected, reverted")
    result = validate(home, TECHNIQUES.names())
    emit_table(f"{result.detected}/{len(result.results)} techniques detected",
               ["technique", "detected", "by", "seconds"],
               [[r.technique, "yes" if r.detected else "NO", ", ".join(r.fired) or r.error or "", r.seconds_to_detect]
                for r in result.results])  # fmt: skip
    (home.root / "coverage-navigator.json").write_text(json.dumps(navigator_layer(result.results), indent=1))
    (home.root / "coverage.svg").write_text(heatmap_svg(result.results))
    ttd = sorted(r.seconds_to_detect for r in result.results if r.seconds_to_detect is not None)
    if ttd:
        console.print(f"time to detect: median {ttd[len(ttd) // 2]:.1f}s, worst {ttd[-1]:.1f}s")
    console.print(f"ATT&CK Navigator layer and heatmap written to {home.root}")


def _noise(home: Home) -> None:
    console.rule("[bold]noise budget: a simulated day of benign activity")
    report = noise_day(home, events=100_000)
    levels = ", ".join(f"{report.by_severity.get(s, 0)} {s}" for s in _ORDER[:4])
    verdict = "[green]within budget[/]" if not report.loud else "[red]over budget[/]"
    console.print(f"{report.events:,} benign events raised {levels} alerts: {verdict}")


if __name__ == "__main__":
    main()
