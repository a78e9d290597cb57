"""The command line: JSON shapes, exit codes, follow mode, Python rules."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from cloudsoc.cli.main import app
from tests.conftest import record, write_trail

runner = CliRunner()

PY_RULE = """
TITLE = "Describe calls from the test user"
SEVERITY = "low"
TAGS = ["attack.discovery", "attack.t1580"]
EVENT_NAMES = ["DescribeInstances"]
TESTS = [
    {"name": "alice describes", "match": True, "events": [{"eventName": "DescribeInstances", "userIdentity": {"userName": "alice"}}]},
    {"name": "bob describes", "match": False, "events": [{"eventName": "DescribeInstances", "userIdentity": {"userName": "bob"}}]},
]


def rule(event):
    return event.get("userIdentity", {}).get("userName") == "alice"


def alert_context(event):
    return {"user": event["userIdentity"]["userName"]}
"""


def _json(args: list[str]) -> tuple[int, object]:
    result = runner.invoke(app, [*args, "-o", "json"])
    return result.exit_code, orjson.loads(result.stdout) if result.stdout.strip() else None


def test_ingest_detect_alerts_round_trip(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    write_trail(tmp_path / "in" / "a.json.gz", [record(i) for i in range(5)])
    (tmp_path / "in" / "junk.json").write_bytes(b"\x00\x01 not a log")
    code, summary = _json(["ingest", str(tmp_path / "in"), "--home", home])
    assert code == 2  # partial: one file quarantined
    assert isinstance(summary, dict) and summary["events_ingested"] == 5 and summary["partial"] is True
    assert summary["quarantined"][0]["uri"].endswith("junk.json") and summary["quarantined"][0]["reason"]
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "alice_describes.py").write_text(PY_RULE)
    code, run = _json(["detect", "--home", home, "--rules", str(rules)])  # one JSON line per run
    assert code == 0 and isinstance(run, dict) and run["alerts"]["new"] == 1
    _, alerts = _json(["alerts", "list", "--home", home])
    assert isinstance(alerts, list)
    [alert] = [a for a in alerts if a["rule_id"] == "alice_describes"]
    assert alert["count"] == 5 and alert["kind"] == "python" and alert["context"]["user"] == "alice"
    _, shown = _json(["alerts", "show", str(alert["id"]), "--home", home])
    assert isinstance(shown, dict) and len(shown["event_ids"]) == 5
    _, rows = _json(["hunt", "--home", home, "--sql", "SELECT count(*) AS n FROM cloudtrail"])
    assert rows == [{"n": 5}]


def test_follow_picks_up_new_files(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    write_trail(tmp_path / "in" / "a.json", [record(i) for i in range(3)])
    runner.invoke(app, ["ingest", str(tmp_path / "in"), "--home", home])
    result = runner.invoke(
        app, ["detect", "--home", home, "--follow", "--cycles", "2", "--interval", "0", "-o", "json"]
    )
    runs = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [r["files"] for r in runs] == [1, 0]


def test_rules_list_reports_unloadable_rules_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "broken.yml").write_text(
        "title: x\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel: [\n"
    )
    _, data = _json(["rules", "list", "--home", str(tmp_path / "home"), "--rules", str(tmp_path)])
    assert isinstance(data, dict)
    [err] = [e for e in data["errors"] if e["path"].endswith("broken.yml")]
    assert err["line"] and "YAML" in err["reason"]


def test_rules_test_fails_a_rule_without_both_polarities(tmp_path: Path) -> None:
    (tmp_path / "one_sided.yml").write_text(
        "title: x\nlogsource: {product: aws, service: cloudtrail}\ntags: [attack.t1580]\n"
        "detection:\n  sel: {eventName: ListUsers}\n  condition: sel\n"
        "tests:\n  - {name: lists, match: true, events: [{eventName: ListUsers}]}\n"
    )
    code, data = _json(["rules", "test", str(tmp_path)])
    assert code == 1 and isinstance(data, dict) and data["failed"] == 1


def test_the_command_flushes_its_output_and_keeps_its_exit_code(tmp_path: Path) -> None:
    """``cloudsoc`` ends its process without the interpreter's teardown: what it printed and the
    exit code that says how the run went must still reach the caller."""
    import subprocess
    import sys

    write_trail(tmp_path / "in" / "a.json", [record(i) for i in range(3)])
    (tmp_path / "in" / "junk.json").write_bytes(b"\x00\x01 not a log")
    cmd = [sys.executable, "-m", "cloudsoc", "ingest", str(tmp_path / "in"), "--home", str(tmp_path / "h")]
    partial = subprocess.run([*cmd, "-o", "json"], capture_output=True, timeout=300)
    assert partial.returncode == 2
    summary = orjson.loads(partial.stdout)
    assert summary["events_ingested"] == 3 and summary["partial"] is True
    again = subprocess.run([*cmd[:4], str(tmp_path / "in" / "a.json"), *cmd[5:], "-o", "json"],
                           capture_output=True, timeout=300)  # fmt: skip
    assert again.returncode == 0 and orjson.loads(again.stdout)["files_skipped"] == 1
    usage = subprocess.run(
        [sys.executable, "-m", "cloudsoc", "no-such-command"], capture_output=True, timeout=60
    )
    assert usage.returncode == 2 and b"No such command" in usage.stderr
