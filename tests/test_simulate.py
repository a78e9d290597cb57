"""Attack techniques against the sandbox: each one detected from its own CloudTrail, reverted, and
the coverage it adds up to; background activity stays under the noise budget."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cloudsoc.aws.sandbox import Sandbox
from cloudsoc.aws.session import client
from cloudsoc.cli.main import app
from cloudsoc.core.config import Home
from cloudsoc.detect import rules as rule_loader
from cloudsoc.simulate.background import background
from cloudsoc.simulate.campaign import STAGES
from cloudsoc.simulate.coverage import heatmap_svg, navigator_layer
from cloudsoc.simulate.noise import noise_day
from cloudsoc.simulate.runner import Runner
from cloudsoc.simulate.technique import TACTICS, TECHNIQUES
from cloudsoc.simulate.validate import Pipeline, validate

ALL = TECHNIQUES.names()


def test_catalog_is_complete_and_every_reference_resolves() -> None:
    rules = {r.id for r in rule_loader.load([Path(__file__).parents[1] / "content" / "detections"]).rules}
    for tid, tech in TECHNIQUES.items():
        assert tech.tactic in TACTICS, tid
        assert tech.title and tech.attack and tech.expects, tid
        assert all(re.fullmatch(r"T\d{4}(\.\d{3})?", a) for a in tech.attack), tid
        assert set(tech.expects) <= rules, f"{tid} expects unknown rules {set(tech.expects) - rules}"
    assert {t for _, ts in STAGES for t in ts} <= set(ALL)


@pytest.mark.parametrize("technique", ALL)
def test_technique_is_detected_from_its_cloudtrail(sandbox_home: Home, technique: str) -> None:
    result = validate(sandbox_home, [technique]).results[0]
    assert result.error is None, result.error
    assert result.detected, f"missing {result.missing}; fired {result.fired}"
    assert result.seconds_to_detect is not None and result.events > 0


def test_detonation_changes_the_sandbox_and_revert_restores_it(sandbox_home: Home) -> None:
    runner = Runner(sandbox_home)
    mgmt = runner.context()
    iam = client("iam", session=mgmt.admin())
    runner.run("aws.persistence.iam-create-admin-user")
    assert iam.get_user(UserName="malicious-iam-user")["User"]
    assert runner.status()["aws.persistence.iam-create-admin-user"] == "detonated"
    assert runner.revert("aws.persistence.iam-create-admin-user") is True
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName="malicious-iam-user")
    assert runner.revert("aws.persistence.iam-create-admin-user") is False
    runner.run("aws.defense-evasion.cloudtrail-stop")
    trail = client("cloudtrail", session=mgmt.admin())
    assert trail.get_trail_status(Name="account-trail")["IsLogging"] is False
    runner.revert("aws.defense-evasion.cloudtrail-stop")
    assert all(t["Name"] != "account-trail" for t in trail.describe_trails()["trailList"])


def test_run_log_marks_the_run(sandbox_home: Home) -> None:
    runner = Runner(sandbox_home)
    result = runner.run("aws.defense-evasion.cloudtrail-stop")
    runner.revert("aws.defense-evasion.cloudtrail-stop")
    log = json.loads((sandbox_home.root / "simulate" / "runs" / f"{result.run_id}.json").read_text())
    assert log["technique"] == "aws.defense-evasion.cloudtrail-stop"
    assert [c["event_name"] for c in log["calls"]] == ["StopLogging"]


def test_background_activity_raises_no_high_or_critical_alert(sandbox_home: Home) -> None:
    runner = Runner(sandbox_home)
    pipeline = Pipeline(sandbox_home, runner)
    pipeline.step()  # what earlier tests delivered is not background
    before = pipeline.last_alert_id()
    done = background([runner.context(a) for a in ("prod", "dev")], 120)
    assert sum(done.values()) == 120 and len(done) >= 4
    pipeline.step()
    from sqlalchemy import select

    from cloudsoc.core import db

    with pipeline.sql.connect() as conn:
        rows = conn.execute(
            select(db.alerts.c.rule_id, db.alerts.c.severity).where(db.alerts.c.id > before)
        ).all()
    assert not [r for r in rows if r.severity in ("high", "critical")], rows


@pytest.mark.xdist_group("heavy")
def test_a_simulated_benign_day_stays_within_the_noise_budget(home: Home) -> None:
    report = noise_day(home, events=100_000)
    assert report.events >= 100_000
    assert report.loud == 0, report.by_rule


def test_navigator_layer_and_heatmap(sandbox_home: Home) -> None:
    techniques = ["aws.defense-evasion.cloudtrail-stop", "aws.persistence.iam-create-admin-user"]
    results = validate(sandbox_home, techniques).results
    layer = navigator_layer(results)
    assert layer["domain"] == "enterprise-attack"
    ids = {t["techniqueID"]: t for t in layer["techniques"]}
    assert ids["T1562.008"]["score"] == 100 and "cloudtrail_logging_stopped" in ids["T1562.008"]["comment"]
    svg = heatmap_svg(results)
    assert svg.startswith("<svg") and "2/2 techniques detected" in svg and "cloudtrail-stop" in svg


def test_cli_simulate_and_validate(sandbox_home: Home, tmp_path: Path) -> None:
    cli = CliRunner()
    listed = cli.invoke(app, ["simulate", "list", "--output", "json"])
    assert listed.exit_code == 0 and len(json.loads(listed.stdout)) == len(ALL)
    status = cli.invoke(app, ["sandbox", "status", "--home", str(sandbox_home.root), "--output", "json"])
    assert json.loads(status.stdout)["running"] is True
    layer = tmp_path / "layer.json"
    out = cli.invoke(app, ["validate", "--home", str(sandbox_home.root), "-t", "aws.defense-evasion.cloudtrail-stop",
                           "--navigator", str(layer), "--output", "json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["detected"] == 1 and json.loads(layer.read_text())["techniques"]
    assert Sandbox(sandbox_home.root).status()["running"] is True
