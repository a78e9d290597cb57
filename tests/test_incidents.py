"""Incidents: grouping of alerts, the status workflow, SLA clocks and measures, the CLI."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from cloudsoc.cases import incidents, sla, timeline
from cloudsoc.cases.detection import detect_new, group_incidents
from cloudsoc.cases.lake_events import LakeEvents
from cloudsoc.cli.main import app
from cloudsoc.core import db
from cloudsoc.core.config import CONTENT_DIR, Home
from cloudsoc.core.timeutil import utcnow
from cloudsoc.detect import rules as rule_loader
from cloudsoc.lake.ingest import ingest
from tests.conftest import record, write_trail

ACCT = "444455556666"
RULES = ["cloudtrail_logging_stopped.yml", "ec2_security_group_open_to_internet.yml"]


def _user(name: str, key: str) -> dict[str, Any]:
    return {"type": "IAMUser", "principalId": f"AIDA{name.upper()[:8]}", "arn": f"arn:aws:iam::{ACCT}:user/{name}",
            "accountId": ACCT, "accessKeyId": key, "userName": name}  # fmt: skip


def _open_ingress(i: int, who: dict[str, Any], group: str, minute: int) -> dict[str, Any]:
    perms = {"items": [{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
                        "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}  # fmt: skip
    return record(i, userIdentity=who, eventSource="ec2.amazonaws.com", eventName="AuthorizeSecurityGroupIngress",
                  eventTime=f"2026-11-20T10:{minute:02d}:00Z", readOnly=False, recipientAccountId=ACCT,
                  requestParameters={"groupId": group, "ipPermissions": perms},
                  responseElements={"_return": True})  # fmt: skip


def _stop_logging(i: int, who: dict[str, Any]) -> dict[str, Any]:
    return record(i, userIdentity=who, eventSource="cloudtrail.amazonaws.com", eventName="StopLogging",
                  eventTime="2026-11-20T10:00:00Z", readOnly=False, recipientAccountId=ACCT,
                  requestParameters={"name": f"arn:aws:cloudtrail:us-east-1:{ACCT}:trail/org-trail"})  # fmt: skip


def _attack(home: Home, tmp_path: Path) -> None:
    mallory, bob = _user("mallory", "AKIAMALLORY000000001"), _user("bob", "AKIABOB0000000000002")
    recs = [_stop_logging(1, mallory), _open_ingress(2, mallory, "sg-0aaa1111", 1),
            _open_ingress(3, bob, "sg-0bbb2222", 2)]  # fmt: skip
    ingest(home, [str(write_trail(tmp_path / "in" / "trail.json.gz", recs))])
    rs = rule_loader.load([CONTENT_DIR / "detections" / r for r in RULES])
    assert not rs.errors
    detect_new(home, rs)


@pytest.fixture
def attacked(home: Home, tmp_path: Path) -> Home:
    _attack(home, tmp_path)
    return home


def _sql(home: Home) -> Any:
    return db.connect(home.database_url)


def test_alerts_group_by_actor_with_worst_severity_and_entities(attacked: Home) -> None:
    made = group_incidents(attacked)
    assert len(made) == 2
    with _sql(attacked).connect() as conn:
        rows = {r["principal"].rsplit("/", 1)[-1]: r for r in incidents.list_rows(conn)}
        mallory, bob = rows["mallory"], rows["bob"]
        assert mallory["severity"] == "critical" and bob["severity"] == "medium"
        assert len(incidents.alerts_of(conn, mallory["id"])) == 2
        ents = mallory["entities"]
        assert ents["access_keys"] == ["AKIAMALLORY000000001"] and ents["users"] == ["mallory"]
        assert ents["security_groups"] == ["sg-0aaa1111"]
        assert ents["trails"] == [f"arn:aws:cloudtrail:us-east-1:{ACCT}:trail/org-trail"]
        assert "sg-0bbb2222" not in ents["security_groups"]
        assert mallory["first_event_at"].isoformat().startswith("2026-11-20T10:00:00")
        kinds = [e["kind"] for e in timeline.entries(conn, mallory["id"])]
        assert kinds.count("alert") == 2 and kinds.count("event") == 2 and "status" in kinds
        assert "attack.t1562.008" in mallory["tags"]
    assert group_incidents(attacked) == []  # idempotent: every alert already has its incident


def test_entities_name_what_was_changed_not_what_was_read() -> None:
    from cloudsoc.cases.entities import from_cloudtrail

    who = {"type": "AssumedRole", "arn": f"arn:aws:sts::{ACCT}:assumed-role/web-app-role/i-0c0ffee0000000001",
           "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "web-app-role"}}}  # fmt: skip
    read = record(1, userIdentity=who, eventName="DescribeInstanceAttribute", readOnly=True,
                  requestParameters={"instanceId": "i-0aaaaaaaaaaaaaaa1", "attribute": "userData"})  # fmt: skip
    write = record(2, userIdentity=who, eventName="ModifyInstanceAttribute", readOnly=False,
                   requestParameters={"instanceId": "i-0bbbbbbbbbbbbbbb2", "userData": {}})  # fmt: skip
    ents = from_cloudtrail([read, write])
    # the instance whose role is used (EC2 names the session after it) and the one changed; not the one read
    assert ents["instances"] == ["i-0c0ffee0000000001", "i-0bbbbbbbbbbbbbbb2"]
    assert ents["roles"] == ["web-app-role"] and ents["access_keys"] == []


def test_alerts_naming_nothing_group_by_account(home: Home) -> None:
    sql = _sql(home)
    now = utcnow()
    with sql.begin() as conn:
        for i in range(2):
            conn.execute(db.alerts.insert().values(
                rule_id=f"finding.{i}", rule_version="1", kind="finding", title=f"finding {i}", severity="low",
                tags=[], account_id=ACCT, region="us-east-1", principal=None, dedup_key=str(i),
                first_seen=now, last_seen=now, count=1, status="open", context={}, created_at=now, updated_at=now))  # fmt: skip
    made = incidents.group_alerts(sql, LakeEvents(home.lake, sql), timedelta(hours=1))
    assert len(made) == 1


def test_workflow_records_who_when_why_and_refuses_going_back(attacked: Home) -> None:
    group_incidents(attacked)
    with _sql(attacked).begin() as conn:
        inc = incidents.list_rows(conn, severity="critical")[0]["id"]
        row = incidents.set_status(conn, inc, "contained", by="playbook:iam", why="key disabled")
        assert row["acknowledged_at"] == row["contained_at"] is not None  # containing implies acknowledging
        with pytest.raises(incidents.IncidentError, match="cannot go from contained to acknowledged"):
            incidents.set_status(conn, inc, "acknowledged", by="ann", why="")
        incidents.set_status(conn, inc, "resolved", by="ann", why="keys rotated")
        with pytest.raises(incidents.IncidentError, match="needs a reason"):
            incidents.set_status(conn, inc, "acknowledged", by="ann", why=" ")
        row = incidents.set_status(conn, inc, "acknowledged", by="ann", why="attacker came back")
        assert row["resolved_at"] is None and row["contained_at"] is None
        incidents.assign(conn, inc, "ann", by="lead")
        incidents.comment(conn, inc, "rotating the CI key", by="ann")
        with pytest.raises(incidents.IncidentError, match="unknown status"):
            incidents.set_status(conn, inc, "done", by="ann", why="")
        status = [e for e in timeline.entries(conn, inc) if e["kind"] == "status" and e["data"].get("from")]
    assert [(e["data"]["from"], e["data"]["to"], e["actor"], e["data"]["why"]) for e in status] == [
        ("new", "contained", "playbook:iam", "key disabled"),
        ("contained", "resolved", "ann", "keys rotated"),
        ("resolved", "acknowledged", "ann", "attacker came back"),
    ]


def test_sla_breach_and_measures(attacked: Home) -> None:
    group_incidents(attacked)
    sql = _sql(attacked)
    now = utcnow()
    with sql.begin() as conn:
        inc = incidents.list_rows(conn, severity="critical")[0]["id"]
        conn.execute(update(db.incidents).where(db.incidents.c.id == inc)
                     .values(first_alert_at=now - timedelta(minutes=20)))  # fmt: skip
        row = incidents.get_row(conn, inc)
    clocks = sla.clocks(row, attacked.settings.incidents.sla, now)
    assert clocks["acknowledge"]["breached"] and not clocks["contain"]["breached"]
    with sql.begin() as conn:
        row = incidents.set_status(conn, inc, "contained", by="ann", why="")
    d = sla.durations(row)
    assert d["mttd"] is not None and d["mttd"] > 0
    assert 1199 < d["mttc"] < 1300 and d["mttr"] is None  # type: ignore[operator]
    with sql.connect() as conn:
        agg = sla.aggregate(incidents.list_rows(conn), attacked.settings.incidents.sla, now)
    assert (
        agg["incidents"] == 2 and agg["mttc"]["count"] == 1 and agg["sla_breaches"]["acknowledge"] == 1
    )  # acknowledged (by containing) after 20 min
    assert agg["by_severity"] == {"critical": 1, "medium": 1}


def test_cli_round_trip(attacked: Home) -> None:
    group_incidents(attacked)
    run = CliRunner().invoke
    base = ["--home", str(attacked.root), "-o", "json"]
    listed = orjson.loads(run(app, ["incidents", "list", *base]).stdout)
    inc = next(r["id"] for r in listed if r["severity"] == "critical")
    assert set(listed[0]) >= {"id", "title", "severity", "status", "entities", "sla", "measures"}
    assert (
        run(
            app, ["incidents", "status", str(inc), "acknowledged", "--why", "looking", "--by", "ann", *base]
        ).exit_code
        == 0
    )
    assert run(app, ["incidents", "assign", str(inc), "bo", *base]).exit_code == 0
    assert run(app, ["incidents", "comment", str(inc), "checked the key", *base]).exit_code == 0
    bad = run(app, ["incidents", "status", str(inc), "new", *base])
    assert bad.exit_code != 0
    shown = orjson.loads(run(app, ["incidents", "show", str(inc), *base]).stdout)
    assert shown["status"] == "acknowledged" and shown["assignee"] == "bo" and len(shown["alerts"]) == 2
    assert [e["summary"] for e in shown["timeline"] if e["kind"] == "comment"] == ["checked the key"]
    metrics = orjson.loads(run(app, ["incidents", "metrics", "--since", "2026-01-01", *base]).stdout)
    assert metrics["incidents"] == 2 and metrics["mtta"]["count"] == 1


def test_workers_sharing_postgres_put_each_alert_in_one_incident(
    home: Home, tmp_path: Path, postgres_url: str
) -> None:
    (home.root / "cloudsoc.yaml").write_text(orjson.dumps({"database_url": postgres_url}).decode())
    home = Home.open(home.root)
    _attack(home, tmp_path)
    sql = _sql(home)
    errors: list[BaseException] = []

    def worker() -> None:
        for _ in range(5):
            try:
                group_incidents(home, sql)
                return
            except Exception as exc:  # a racing worker won: retry on fresh state
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with sql.connect() as conn:
        owners = conn.execute(
            select(db.incident_alerts.c.alert_id, db.incident_alerts.c.incident_id)
        ).fetchall()
        n_incidents = conn.execute(select(db.incidents.c.id)).fetchall()
        n_alerts = conn.execute(select(db.alerts.c.id)).fetchall()
    assert len(owners) == len(n_alerts) == 3
    assert len(n_incidents) == 2, errors
