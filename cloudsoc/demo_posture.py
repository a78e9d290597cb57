"""The compliance part of ``make demo``: a full posture scan of the sandbox organization before the
attack, and afterwards the day's compliance work: drift caught from CloudTrail and fixed where policy
allows, the fixes of one account applied and judged again, the scan repeated and compared, reports,
the audit bundle and the findings in Security Hub."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import yaml
from rich.console import Console

from cloudsoc.aws.session import client
from cloudsoc.cli.output import emit_table
from cloudsoc.core import db
from cloudsoc.core.config import Home, load_settings
from cloudsoc.core.timeutil import aware
from cloudsoc.posture import asff, bundle, remediate, report, run, store
from cloudsoc.posture.continuous import changes
from cloudsoc.respond.access import Responder
from cloudsoc.simulate.runner import Runner
from cloudsoc.watch import Watch

console = Console()
RDP = {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}


def baseline(home: Home) -> None:
    console.rule("[bold]compliance posture: the organization before anyone attacks it")
    r = run.scan(home)
    s = r.summary()
    console.print(f"scan {s['scan']}: {len(s['accounts'])} accounts x {len(s['regions'])} regions, {s['api_calls']} "
                  f"API calls through CloudSOCReadOnly, collected in {s['seconds']['collect']}s, judged in "
                  f"{s['seconds']['evaluate']}s; {s['collection_errors']} calls failed (kept as data)")  # fmt: skip
    _scores(s["frameworks"])
    fails = Counter(x.check for x in r.scan.results if x.status == "FAIL")
    emit_table("most widespread failures", ["check", "failing resources"], fails.most_common(10))


def _scores(fws: dict[str, Any]) -> None:
    emit_table("framework scores", ["framework", "score %", "pass", "fail", "error", "manual"],
               [[f, v["score"], *(v["counts"].get(k, 0) for k in ("PASS", "FAIL", "ERROR", "MANUAL"))]
                for f, v in fws.items()])  # fmt: skip


def compliance_day(home: Home) -> None:
    console.rule("[bold]compliance: drift caught and fixed, an account remediated, reports and evidence")
    _allow_auto_fix(home, "dev")
    _drift(home)
    _fix_account(home, "dev")
    _compare(home, "dev")
    _reports(home)


def _allow_auto_fix(home: Home, tier: str) -> None:
    path = home.root / "cloudsoc.yaml"
    settings = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
    settings.setdefault("posture", {})["auto_fix"] = [{"account": tier, "check": "*"}]
    path.write_text(yaml.safe_dump(settings))
    home.settings = load_settings(path)
    console.print(
        f"policy: new failures in {tier} accounts are fixed automatically; elsewhere fixes are planned"
    )


def _drift(home: Home) -> None:
    """The CI pipeline opens RDP to the world on dev's database tier; the watcher sees it in CloudTrail."""
    watch = Watch.for_sandbox(home, posture=True)
    watch.cycle()  # the earlier events are judged first
    ctx = Runner(home).context("dev")
    ci = ctx.key_session("svc-deploy", actor=ctx.actor(ip="10.20.1.15", agent="aws-cli/2.17.0 Python/3.12.6"))
    group = ctx.res["security_groups"]["database"]
    client("ec2", session=ci).authorize_security_group_ingress(GroupId=group, IpPermissions=[RDP])
    ctx.flush()
    started = time.monotonic()
    seen: list[dict[str, Any]] = []
    for _ in range(10):
        watch.cycle()
        with watch.sql.connect() as conn:
            seen = [c for c in changes(conn, 50) if group in c["resource"]]
        if any(c["new_status"] == "PASS" for c in seen):
            break
    emit_table("drift seen in CloudTrail", ["at", "check", "resource", "was", "now", "event", "alert", "fix"],
               [[c["at"], c["check_id"], c["resource"], c["old_status"], c["new_status"], c["event_name"] or "",
                 c["alert_id"] or "", f"{c['fix']['mode']}: {c['fix']['status']}" if c["fix"] else ""]
                for c in reversed(seen)])  # fmt: skip
    fail = next((c for c in seen if c["new_status"] == "FAIL"), None)
    if fail is not None and fail["event_time"] is not None:
        lag = (aware(fail["at"]) - aware(fail["event_time"])).total_seconds()
        console.print(f"from the CloudTrail event to the posture alert: {lag:.1f}s (event time has whole seconds); "
                      f"to the fix judged again: {time.monotonic() - started:.1f}s of watcher cycles")  # fmt: skip


def _fix_account(home: Home, account: str) -> None:
    acct = Runner(home).context(account).account_id
    items = remediate.run(home, account=acct, apply=True)
    rows = [i.to_dict() for i in items]
    by = Counter((r["action"], r["status"], r["after"]) for r in rows)
    emit_table(f"posture fix --account {account} --apply: {len(rows)} failures with a fix",
               ["action", "status", "judged again", "count"], [[a, s, after or "", n] for (a, s, after), n in by.items()])  # fmt: skip
    prod = remediate.run(home, account=Runner(home).context("prod").account_id)
    console.print(f"prod: {len(prod)} fixes planned, not applied (prod needs an approver: --approved-by)")


def _compare(home: Home, account: str) -> None:
    """Scan again; the organization's scores hold (other accounts still fail), the account's rise."""
    acct = Runner(home).context(account).account_id
    r = run.scan(home)
    with db.connect(home.database_url).connect() as conn:
        d = store.diff(conn, store.resolve(conn, back=1), r.scan.id)
        trend = store.trend(conn, scope=f"account:{acct}")
    console.print(f"scan again: {len(d['new_failures'])} new failures, {len(d['resolved'])} resolved, "
                  f"{d['still_failing']} still failing")  # fmt: skip
    by: dict[str, list[Any]] = {}
    for row in trend:
        by.setdefault(row["framework"], []).append(row["score"])
    emit_table(f"{account} account scores over the scans (trend)", ["framework", "scores %"],
               [[f, " -> ".join(str(x) for x in scores)] for f, scores in by.items()])  # fmt: skip


def _reports(home: Home) -> None:
    out = home.root / "posture"
    with db.connect(home.database_url).connect() as conn:
        scan_id = store.resolve(conn)
        doc = report.build(conn, scan_id)
        for fmt in ("html", "csv", "json", "ocsf"):
            (out / f"report.{fmt}").write_bytes(report.render(doc, fmt))
        made = bundle.write_bundle(conn, scan_id, out / "audit-bundle.tar.gz")
    problems = bundle.verify_bundle(out / "audit-bundle.tar.gz")
    imported = asff.import_findings(asff.findings(doc), Responder.for_home(home).session)
    console.print(f"reports: {out}/report.html (charts per framework, section, account), .csv, .json, .ocsf")
    console.print(f"audit bundle: {out / 'audit-bundle.tar.gz'} ({len(made['files'])} files with SHA-256), "
                  f"verified: {problems or 'yes'}")  # fmt: skip
    console.print(f"Security Hub: {imported['imported']} ASFF findings imported with BatchImportFindings, "
                  f"{len(imported['failed'])} refused")  # fmt: skip
