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


def test_a_correlation_over_a_python_refined_rule_is_reported(tmp_path: Path) -> None:
    """Such a rule's matches are decided per event at alert time, never among the rows a
    correlation counts: refused at load time rather than never firing."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "trail_stopped.yml").write_text(RULE)
    (rules / "trail_stopped.py").write_text("def rule(event):\n    return True\n")
    (rules / "stops.yml").write_text(
        "title: Many stops\nname: stops\ncorrelation:\n  type: event_count\n"
        "  rules: [5d6f0e1a-7b3c-4c2d-9e8f-0a1b2c3d4e5f]\n  group-by: [userIdentity.arn]\n"
        "  timespan: 10m\n  condition: {gte: 2}\nlevel: high\n"
    )
    loaded = load([rules])
    assert [r.id for r in loaded.rules] == ["trail_stopped"]
    assert [(Path(e.path).name, e.reason) for e in loaded.errors] == [
        ("stops.yml", "unsupported: correlation over a rule refined by a Python rule file")
    ]


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


def test_raw_field_values_in_sql_agree_with_the_python_reading() -> None:
    """DuckDB's JSON reader answers most raw paths; lists, dotted keys and floats take the Python
    function. Either way a field must read exactly as the per-event evaluator reads it."""
    import duckdb

    from cloudsoc.detect import udf
    from cloudsoc.detect.sql import raw_values

    records: list[dict[str, object]] = [
        {"requestParameters": {"withDecryption": True, "name": "/prod/db", "port": 5432, "ratio": 0.25,
                               "policy": {"Effect": "Allow", "Resource": "arn:aws:s3:::b/*", "note": "é"},
                               "items": [{"cidrIp": "0.0.0.0/0"}, {"cidrIp": "10.0.0.0/8"}], "empty": None}},
        {"requestParameters": {"items": {"cidrIp": "192.0.2.0/24"}, "name": None}, "vpcEndpointId": "vpce-1"},
        {"requestParameters": {"aws:SourceIp": "203.0.113.9", "nested": [[{"name": "deep"}]]}},
        {"eventName": "ListBuckets", "requestParameters": None},
    ]  # fmt: skip
    paths = ["requestParameters.withDecryption", "requestParameters.name", "requestParameters.port",
             "requestParameters.ratio", "requestParameters.policy", "requestParameters.policy.note",
             "requestParameters.items.cidrIp", "requestParameters.empty", "requestParameters.aws:SourceIp",
             "requestParameters.nested.name", "vpcEndpointId", "requestParameters.missing", "eventName"]  # fmt: skip
    con = duckdb.connect()
    udf.register(con)
    con.execute("CREATE TABLE t (i INTEGER, raw VARCHAR)")
    con.executemany(
        "INSERT INTO t VALUES (?, ?)", [(i, orjson.dumps(r).decode()) for i, r in enumerate(records)]
    )
    for path in paths:
        for i, got in con.execute(f"SELECT i, {raw_values(path)} FROM t ORDER BY i").fetchall():
            want = udf.values_at(records[i], path)
            assert [_json_or_text(v) for v in got] == [_json_or_text(v) for v in want], (path, i, got, want)


def _json_or_text(value: str) -> object:
    """Objects compare by content: their text may differ in spacing between readers."""
    return orjson.loads(value) if value.startswith("{") else value


def test_cidr_tests_in_sql_agree_with_python() -> None:
    import duckdb

    from cloudsoc.detect import udf
    from cloudsoc.detect.ir import Atom
    from cloudsoc.detect.sql import scalar

    addresses = ["10.1.2.3", "010.1.2.3", "10.1.2.256", "10.1.2", "10.1.2.3.4", "11.0.0.1", "0.0.0.0",
                 "255.255.255.255", "::ffff:10.1.2.3", "fd00::1", "2001:db8::1", "AWS Internal",
                 "ec2.amazonaws.com", ""]  # fmt: skip
    networks = ["10.0.0.0/8", "10.1.2.3/32", "0.0.0.0/0", "fc00::/7", "::/0", "2001:db8::/32"]
    con = duckdb.connect()
    udf.register(con)
    for net in networks:
        test = scalar(Atom("sourceIPAddress", "cidr", net), "x")
        rows = con.execute(
            f"SELECT x, coalesce({test}, FALSE) FROM (SELECT unnest(?::VARCHAR[]) AS x)", [addresses]
        )
        got = dict(rows.fetchall())
        assert got == {a: udf._in_cidr(a, net) for a in addresses}, net


def test_regex_literal_prefilters_are_contained_in_every_match() -> None:
    """A regular expression is run only where the texts every match must contain occur; a text
    taken from an optional part, an alternative or a class would lose matches."""
    import re

    from cloudsoc.detect.sql import required_literals

    cases = [
        (":assumed-role/[^/]+/i-[0-9a-f]{8,17}$", "arn:aws:sts::1:assumed-role/web/i-0abc12345678",
         [":assumed-role/", "/i-"]),
        (".+:assumed-role/aws:.+", "x:assumed-role/aws:sso", [":assumed-role/aws:"]),
        ("abc?def", "abdef", ["def"]),
        ("abc(xyz)?ghi", "abcghi", ["abc", "ghi"]),
        ("x{2}yzw", "xxyzw", ["yzw"]),
        (r"foo\.bar\d+baz", "foo.bar12baz", ["foo.bar", "baz"]),
        ("[]abc]xyz", "]xyz", ["xyz"]),
        ("ab+cde", "abbbcde", ["cde"]),
        ("abc+?def", "abccdef", ["def"]),
        ("evil|good", "good", []),
        ("(?i)ADMIN", "admin", []),
        ("role(?i:ADMIN)", "roleadmin", []),
        (r"key\x41bc", "keyAbc", []),
    ]  # fmt: skip
    for pattern, example, literals in cases:
        assert re.search(pattern, example), pattern
        assert required_literals(pattern) == literals, pattern
        assert all(t in example for t in literals), pattern


def test_value_sets_written_as_ranges_select_the_same_rows_as_in() -> None:
    import duckdb

    from cloudsoc.detect.sql import one_of

    present = [
        "AccessDenied",
        "AccessDeniedException",
        "Client.Unauthorized",
        "NoSuchKey",
        "Throttling",
        "it's",
    ]
    con = duckdb.connect()
    for wanted in [{"AccessDenied"}, {"AccessDenied", "AccessDeniedException", "Throttling"}, {"it's", "Gone"},
                   set(present[::2]), set()]:  # fmt: skip
        for max_runs in (None, 1):
            test = one_of("x", wanted, present, max_runs)
            rows = con.execute(f"SELECT x FROM (SELECT unnest(?::VARCHAR[]) AS x) WHERE {test}", [present])
            assert {r[0] for r in rows.fetchall()} == wanted & set(present), (wanted, test)
