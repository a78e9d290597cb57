"""Detection end to end: rules over the lake, alerts, dedup, suppression, findings, hunting."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
from sqlalchemy import select

from cloudsoc.cases.alerts import get_alert, list_alerts
from cloudsoc.cases.detection import detect_new, hunt
from cloudsoc.core import db
from cloudsoc.core.config import CONTENT_DIR, Home
from cloudsoc.detect.rules import load
from cloudsoc.detect.testing import run_tests
from cloudsoc.lake.ingest import ingest
from tests.conftest import SIGMA_AWS, record, write_trail

RULE = """
title: Trail stopped
id: 5d6f0e1a-7b3c-4c2d-9e8f-0a1b2c3d4e5f
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventSource: cloudtrail.amazonaws.com
    eventName: StopLogging
  condition: selection
level: high
tags: [attack.defense-evasion, attack.t1562.008]
"""


def _stop(i: int, who: str = "mallory", minute: int = 0) -> dict[str, object]:
    arn = f"arn:aws:iam::111122223333:user/{who}"
    return record(i, eventSource="cloudtrail.amazonaws.com", eventName="StopLogging", readOnly=False,
                  eventTime=f"2026-11-20T12:{minute:02d}:{i % 60:02d}Z",
                  userIdentity={"type": "IAMUser", "arn": arn, "accountId": "111122223333", "userName": who},
                  requestParameters={"name": "org-trail"})  # fmt: skip


def _rules(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "rules" / "trail_stopped.yml").write_text(RULE)
    return load([tmp_path / "rules"])


def _alerts(home: Home, status: str | None = "open") -> list[dict[str, object]]:
    with db.connect(home.database_url).connect() as conn:
        return list_alerts(conn, status=status)


def test_matches_become_one_deduplicated_alert(home: Home, tmp_path: Path) -> None:
    write_trail(
        tmp_path / "in" / "a.json", [record(i) for i in range(50)] + [_stop(100), _stop(101, minute=20)]
    )
    ingest(home, [str(tmp_path / "in")])
    rules = _rules(tmp_path)
    summary = detect_new(home, rules)
    assert summary.files == 1 and summary.events == 52
    [alert] = _alerts(home)
    assert (alert["rule_id"], alert["count"], alert["severity"]) == ("trail_stopped", 2, "high")
    assert alert["principal"] == "arn:aws:iam::111122223333:user/mallory"
    assert "attack.t1562.008" in alert["attack"]
    with db.connect(home.database_url).connect() as conn:
        assert set(get_alert(conn, int(alert["id"]))["event_ids"]) == {
            _stop(100)["eventID"],
            _stop(101)["eventID"],
        }
    # the same files again, and the same events in a new file: nothing changes
    assert detect_new(home, rules).files == 0
    write_trail(tmp_path / "in2" / "b.json", [_stop(100), _stop(101, minute=20)])
    ingest(home, [str(tmp_path / "in2")])
    detect_new(home, rules)
    assert [a["count"] for a in _alerts(home)] == [2]


def test_outside_the_window_is_a_new_alert_and_another_principal_too(home: Home, tmp_path: Path) -> None:
    late = _stop(102)
    late["eventTime"] = "2026-11-20T15:00:00Z"
    write_trail(tmp_path / "in" / "a.json", [_stop(100), late, _stop(103, who="trent")])
    ingest(home, [str(tmp_path / "in")])
    detect_new(home, _rules(tmp_path))
    assert sorted(a["count"] for a in _alerts(home)) == [1, 1, 1]


def test_suppressed_matches_are_counted_not_lost(home: Home, tmp_path: Path) -> None:
    (home.root / "suppressions").mkdir()
    (home.root / "suppressions" / "ci.yaml").write_text(orjson.dumps([{
        "id": "trent-maintenance", "rule": "trail_*", "match": {"principal": "*:user/trent"},
        "owner": "soc@example.com", "reason": "planned maintenance", "expires": "2099-01-01",
    }]).decode())  # fmt: skip
    write_trail(tmp_path / "in" / "a.json", [_stop(100), _stop(103, who="trent"), _stop(104, who="trent")])
    ingest(home, [str(tmp_path / "in")])
    summary = detect_new(home, _rules(tmp_path))
    assert summary.alerts.suppressed == 2 and summary.alerts.new == 1
    [hidden] = _alerts(home, "suppressed")
    assert hidden["suppressed_by"] == "trent-maintenance" and hidden["count"] == 2
    with db.connect(home.database_url).connect() as conn:
        assert conn.execute(select(db.suppression_hits.c.hits)).scalar() == 2


def test_guardduty_finding_updates_its_alert(home: Home, tmp_path: Path) -> None:
    finding = {"schemaVersion": "2.0", "accountId": "111122223333", "region": "us-east-1", "id": "f1",
               "type": "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
               "title": "Credentials used outside AWS", "severity": 5.0, "updatedAt": "2026-11-20T10:00:00.000Z",
               "createdAt": "2026-11-20T10:00:00.000Z", "resource": {"resourceType": "AccessKey"},
               "service": {"serviceName": "guardduty", "count": 1}}  # fmt: skip
    (tmp_path / "gd1.json").write_bytes(orjson.dumps({"Findings": [finding]}))
    ingest(home, [str(tmp_path / "gd1.json")])
    detect_new(home, _rules(tmp_path))
    [alert] = _alerts(home)
    assert alert["severity"] == "medium" and alert["rule_id"].startswith("guardduty:")
    finding.update(
        severity=8.0, updatedAt="2026-11-20T11:00:00.000Z", service={"serviceName": "guardduty", "count": 4}
    )
    (tmp_path / "gd2.json").write_bytes(orjson.dumps({"Findings": [finding]}))
    ingest(home, [str(tmp_path / "gd2.json")])
    detect_new(home, _rules(tmp_path))
    [alert] = _alerts(home)
    assert alert["severity"] == "high" and alert["count"] == 2


def test_hunt_respects_the_time_range(home: Home, tmp_path: Path) -> None:
    write_trail(tmp_path / "in" / "a.json", [_stop(100), _stop(101, minute=40)])
    ingest(home, [str(tmp_path / "in")])
    rule = _rules(tmp_path).rules
    since, until = datetime(2026, 11, 20, 12, 30, tzinfo=UTC), datetime(2026, 11, 20, 13, tzinfo=UTC)
    [m] = hunt(home, rule, since, until)
    assert m.event_ids == [_stop(101)["eventID"]]


def test_bundled_rules_pass_their_tests() -> None:
    rules = load([CONTENT_DIR / "detections"])
    assert not rules.errors, rules.errors
    results = run_tests(rules)
    failed = [f"{r.rule_id}: {r.name}: {r.detail}" for r in results if not r.passed]
    assert not failed
    assert len(rules.alerting()) >= 20


def test_every_sigmahq_rule_loads_or_is_reported() -> None:
    rules = load([SIGMA_AWS])
    assert len([r for r in rules.rules if "/rules/" in r.path]) == 57
    reported = {Path(e.path).name: e.reason for e in rules.errors}
    assert "placeholder" in reported["aws_cloudtrail_console_login_success_from_susp_locations.yml"]
    assert "aggregation" in reported["aws_enum_backup.yml"]
    assert all(e.line for e in rules.errors)


def test_sigmahq_rules_run_over_the_lake(home: Home, tmp_path: Path) -> None:
    login = record(700, eventSource="signin.amazonaws.com", eventName="ConsoleLogin", eventType="AwsConsoleSignIn",
                   responseElements={"ConsoleLogin": "Success"}, additionalEventData={"MFAUsed": "No"})  # fmt: skip
    write_trail(tmp_path / "in" / "a.json", [record(i) for i in range(20)] + [login])
    ingest(home, [str(tmp_path / "in")])
    rules = load([SIGMA_AWS / "rules"])
    summary = detect_new(home, rules)
    fired = {a["rule_id"] for a in _alerts(home)}
    assert "aws_cloudtrail_console_login_success_without_mfa" in fired
    assert summary.events == 21
