"""Notifications and tickets against local servers that speak each service's API (and moto's SNS):
request shapes, routing, templates, retries, the durable outbox, ticket round trips."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from cloudsoc.aws.session import make_session
from cloudsoc.cases import timeline
from cloudsoc.cli.main import app
from cloudsoc.core import db
from cloudsoc.core.config import Home, Settings
from cloudsoc.core.timeutil import utcnow
from cloudsoc.integrations.config import NotifyError, load
from cloudsoc.integrations.notifier import Notifier
from tests.servers.jira import JiraServer
from tests.servers.pagerduty import PagerDutyServer
from tests.servers.servicenow import ServiceNowServer
from tests.servers.slack import SlackServer
from tests.servers.smtp import SmtpServer, self_signed
from tests.servers.webhook import WebhookServer

FAST = {"max_attempts": 4, "backoff_seconds": 10, "max_backoff_seconds": 60}


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    server = SlackServer().start()
    yield server
    server.stop()


@pytest.fixture
def pager() -> Iterator[PagerDutyServer]:
    server = PagerDutyServer().start()
    yield server
    server.stop()


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return db.connect(f"sqlite:///{tmp_path / 'state.db'}")


def notifier(tmp_path: Path, notify: dict[str, Any], **kw: Any) -> Notifier:
    home = Home(tmp_path / "home", Settings(notify={"delivery": FAST, **notify}))
    home.root.mkdir(parents=True, exist_ok=True)
    return Notifier.from_home(home, **kw)


def incident(engine: Engine, severity: str = "critical", status: str = "new", *, title: str = "Access key used from Tor",
             at: datetime | None = None) -> dict[str, Any]:  # fmt: skip
    """An incident row and the document playbooks and notifications receive."""
    at = at or utcnow()
    row = {"title": title, "severity": severity, "status": status, "account_id": "111122223333",
           "principal": "arn:aws:iam::111122223333:user/alice", "resource": "AKIAEXAMPLE", "group_key": "principal:x",
           "entities": {"access_keys": ["AKIAEXAMPLE"], "users": ["alice"], "source_ips": ["198.51.100.7"]},
           "tags": ["attack.t1078"], "first_alert_at": at, "last_alert_at": at, "created_at": at, "updated_at": at}  # fmt: skip
    with engine.begin() as conn:
        iid = int(conn.execute(db.incidents.insert().values(**row)).inserted_primary_key[0])  # type: ignore[index]
    inc = {
        k: row[k]
        for k in ("title", "severity", "status", "account_id", "principal", "resource", "tags", "entities")
    }
    return {"incident": {**inc, "id": iid, "region": "us-east-1", "first_event_at": at, "first_alert_at": at},
            "alert": {"id": 7, "rule_id": "iam_access_key_from_tor", "title": "Access key used from Tor"},
            "account": {"id": "111122223333", "tier": "prod"}}  # fmt: skip


def notify(n: Notifier, engine: Engine, doc: dict[str, Any], event: str, **kw: Any) -> list[int]:
    with engine.begin() as conn:
        return n.notify(conn, doc, event, **kw)


def rows(engine: Engine) -> dict[int, dict[str, Any]]:
    with engine.connect() as conn:
        return {r["id"]: dict(r) for r in conn.execute(db.notify_outbox.select()).mappings()}


# ---- configuration and templates ------------------------------------------------------------


def test_config_reports_every_problem_with_its_path() -> None:
    with pytest.raises(NotifyError) as err:
        load({"channels": {"pd": {"type": "pagerduty"}, "mail": {"type": "email", "host": "h", "to": []},
                           "x": {"type": "fax"}},
              "routes": [{"min_severity": "loud", "channels": ["pd"]}]})  # fmt: skip
    text = str(err.value)
    assert "notify.channels.pd.routing_key: Field required" in text
    assert "notify.channels.mail.from: Field required" in text
    assert "notify.channels.mail.to: List should have at least 1 item" in text
    assert "notify.channels.x: Input tag 'fax'" in text
    assert "notify.routes.0.min_severity" in text
    with pytest.raises(NotifyError, match=r"notify.routes.0.channels.1: unknown channel 'nope'(?s:.*)"
                                          r"routes.1.channels.0: a pagerduty channel cannot take a digest"):  # fmt: skip
        load({"channels": {"pd": {"type": "pagerduty", "routing_key": "k"}},
              "routes": [{"channels": ["pd", "nope"]}, {"channels": ["pd"], "digest": True}]})  # fmt: skip


def test_every_channel_type_has_a_sender() -> None:
    from typing import get_args

    from cloudsoc.integrations.channels.base import CHANNELS, TicketChannel
    from cloudsoc.integrations.config import TICKETS, ChannelConfig

    members = get_args(get_args(ChannelConfig)[0])
    configured = {get_args(m.model_fields["type"].annotation)[0] for m in members}
    assert (
        configured
        == set(CHANNELS.names())
        == {"slack", "sns", "email", "pagerduty", "servicenow", "jira", "webhook"}
    )
    # the default routes send tickets to the channel types that keep them
    kept = {name for name, cls in CHANNELS.items() if issubclass(cls, TicketChannel)}
    assert kept == set(TICKETS) == {"servicenow", "jira"}


def test_default_routes_page_critical_and_digest_low(tmp_path: Path) -> None:
    n = notifier(tmp_path, {"channels": {
        "pd": {"type": "pagerduty", "routing_key": "k"}, "chat": {"type": "slack", "webhook_url": "env:SLACK_URL"},
        "snow": {"type": "servicenow", "instance_url": "http://x", "username": "u", "password": "env:SNOW_PW"}}})  # fmt: skip
    assert n.targets("critical", "incident.opened") == ["pd", "snow", "chat"]
    assert n.targets("medium", "incident.opened") == ["snow", "chat"]
    assert n.targets("low", "incident.opened") == []
    assert n._digest_severities() == {"chat": {"low", "informational"}}


def test_custom_template_and_unknown_placeholder(tmp_path: Path, engine: Engine, slack: SlackServer) -> None:
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "short.tmpl").write_text(
        "$severity!! $title on $account_id ($account_tier)\nrule $rule\n"
    )
    n = notifier(tmp_path, {"channels": {"chat": {"type": "slack", "webhook_url": slack.hook_url,
                                                  "template": "short.tmpl"}}})  # fmt: skip
    notify(n, engine, incident(engine), "incident.opened")
    assert n.deliver_due(engine).sent
    assert slack.requests[0].json == {
        "text": "critical!! Access key used from Tor on 111122223333 (prod)\nrule iam_access_key_from_tor"
    }
    (tmp_path / "home" / "short.tmpl").write_text("$title by $who\n")
    with pytest.raises(NotifyError, match=r"short.tmpl: unknown placeholders \['who'\]"):
        notifier(
            tmp_path, {"channels": {"chat": {"type": "slack", "webhook_url": "u", "template": "short.tmpl"}}}
        )


# ---- channels -------------------------------------------------------------------------------


def test_slack_message_and_retry_after(tmp_path: Path, engine: Engine, slack: SlackServer) -> None:
    n = notifier(
        tmp_path, {"channels": {"chat": {"type": "slack", "webhook_url": "env:CLOUDSOC_TEST_SLACK"}}}
    )
    doc = incident(engine, "high")
    (oid,) = notify(n, engine, doc, "incident.opened")
    slack.fail(429, headers={"Retry-After": "120"}, body="rate_limited")
    t0 = utcnow()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLOUDSOC_TEST_SLACK", slack.hook_url)
        assert n.deliver_due(engine, t0).failed == [oid]
        row = rows(engine)[oid]
        assert (
            "HTTP 429" in row["last_error"] and "XXXX" not in row["last_error"]
        )  # the hook's secret stays out
        assert not n.deliver_due(
            engine, t0 + timedelta(seconds=100)
        ).sent  # Retry-After, not the 10 s backoff
        assert n.deliver_due(engine, t0 + timedelta(seconds=121)).sent == [oid]
    text = slack.requests[-1].json["text"]
    assert text.startswith(":rotating_light: *New high incident #") and "Access key used from Tor" in text
    assert "`arn:aws:iam::111122223333:user/alice`" in text
    assert rows(engine)[oid]["status"] == "sent" and rows(engine)[oid]["attempts"] == 2
    with engine.connect() as conn:
        (entry,) = timeline.entries(conn, doc["incident"]["id"])
    assert entry["kind"] == "notification" and entry["ref"] == rows(engine)[oid]["dedup_key"]


def test_slack_rejected_payload_is_dead_at_once(tmp_path: Path, engine: Engine, slack: SlackServer) -> None:
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "empty.tmpl").write_text("\n")
    n = notifier(tmp_path, {"channels": {"chat": {"type": "slack", "webhook_url": slack.hook_url,
                                                  "template": "empty.tmpl"}}})  # fmt: skip
    (oid,) = notify(n, engine, incident(engine), "incident.opened")
    assert n.deliver_due(engine).dead == [oid]
    assert rows(engine)[oid]["status"] == "dead" and "HTTP 400 no_text" in rows(engine)[oid]["last_error"]


def test_webhook_is_signed(tmp_path: Path, engine: Engine) -> None:
    server = WebhookServer().start()
    try:
        n = notifier(tmp_path, {"channels": {"hook": {"type": "webhook", "url": server.url + "/in",
                                                      "secret": "shh", "headers": {"X-Tenant": "acme"}}}})  # fmt: skip
        doc = incident(engine)
        notify(n, engine, doc, "action.applied", channels=["hook"])
        assert n.deliver_due(engine).sent
    finally:
        server.stop()
    (req,) = server.requests
    expected = "sha256=" + hmac.new(b"shh", req.body, hashlib.sha256).hexdigest()
    assert req.headers["x-cloudsoc-signature"] == expected and req.headers["x-tenant"] == "acme"
    body = req.json
    assert body["event"] == "action.applied" and body["incident_id"] == doc["incident"]["id"]
    assert body["document"]["incident"]["entities"]["access_keys"] == ["AKIAEXAMPLE"]
    assert req.headers["x-cloudsoc-delivery"] == body["delivery"]


def test_email_over_starttls_with_auth(tmp_path: Path, engine: Engine) -> None:
    cert, key = self_signed(tmp_path / "tls")
    server = SmtpServer(tls=(cert, key), credentials=("soc", "pw")).start()
    try:
        channel = {"type": "email", "host": "127.0.0.1", "port": server.port, "from": "cloudsoc@example.com",
                   "to": ["soc@example.com", "oncall@example.com"], "starttls": True, "ca_file": str(cert),
                   "username": "soc", "password": "env:CLOUDSOC_TEST_SMTP_PW"}  # fmt: skip
        n = notifier(tmp_path, {"channels": {"mail": channel}})
        doc = incident(engine, "medium")
        (oid,) = notify(n, engine, doc, "incident.opened")
        assert n.deliver_due(engine).failed == [oid]  # the password is not in the environment yet
        assert "CLOUDSOC_TEST_SMTP_PW is not set" in rows(engine)[oid]["last_error"]
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("CLOUDSOC_TEST_SMTP_PW", "pw")
            assert n.deliver_due(engine, utcnow() + timedelta(seconds=11)).sent == [oid]
    finally:
        server.stop()
    (got,) = server.messages
    assert got.tls and got.user == "soc" and got.sender == "cloudsoc@example.com"
    assert got.recipients == ["soc@example.com", "oncall@example.com"]
    mail = got.message
    assert (
        mail["Subject"]
        == f"[cloudsoc] New medium incident #{doc['incident']['id']}: Access key used from Tor"
    )
    assert mail["X-CloudSOC-Incident"] == str(doc["incident"]["id"])
    assert "access_keys: AKIAEXAMPLE" in mail.get_content()


def test_sns_message_reaches_a_subscribed_queue(tmp_path: Path, engine: Engine, moto_endpoint: str) -> None:
    session = make_session("testing", "testing", region="eu-west-1", endpoint=moto_endpoint)
    sns, sqs = session.client("sns"), session.client("sqs")
    topic = sns.create_topic(Name="cloudsoc-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="soc-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    n = notifier(tmp_path, {"channels": {"topic": {"type": "sns", "topic_arn": topic}}}, sns_session=session)
    doc = incident(engine, "high")
    (oid,) = notify(n, engine, doc, "incident.opened")
    assert n.deliver_due(engine).sent == [oid]
    (msg,) = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"]
    note = json.loads(msg["Body"])
    assert note["TopicArn"] == topic and note["MessageId"] == rows(engine)[oid]["external_ref"]
    assert (
        note["Subject"] == f"[cloudsoc] New high incident #{doc['incident']['id']}: Access key used from Tor"
    )
    assert "Principal: arn:aws:iam::111122223333:user/alice" in note["Message"]
    assert note["MessageAttributes"]["severity"] == {"Type": "String", "Value": "high"}


def test_pagerduty_trigger_acknowledge_resolve(
    tmp_path: Path, engine: Engine, pager: PagerDutyServer
) -> None:
    n = notifier(tmp_path, {"channels": {"pd": {"type": "pagerduty", "routing_key": "R0UT1NGKEY",
                                                "events_url": pager.url}}})  # fmt: skip
    doc = incident(engine)
    key = f"cloudsoc-incident-{doc['incident']['id']}"
    notify(n, engine, doc, "incident.opened")
    for status in ("acknowledged", "resolved"):
        notify(n, engine, {**doc, "incident": {**doc["incident"], "status": status}}, "incident.updated")
    assert len(n.deliver_due(engine).sent) == 3
    trigger, ack, resolve = (r.json for r in pager.requests)
    assert trigger["routing_key"] == "R0UT1NGKEY" and trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == key and trigger["payload"]["severity"] == "critical"
    assert trigger["payload"]["source"] == "cloudsoc" and trigger["payload"]["group"] == "111122223333"
    assert trigger["payload"]["class"] == "iam_access_key_from_tor"
    assert (ack["event_action"], ack["dedup_key"], resolve["event_action"]) == ("acknowledge", key, "resolve")
    assert pager.alerts == {key: "resolved"}
    assert {r["external_ref"] for r in rows(engine).values()} == {key}


def test_pagerduty_invalid_event_goes_dead(tmp_path: Path, engine: Engine, pager: PagerDutyServer) -> None:
    n = notifier(
        tmp_path, {"channels": {"pd": {"type": "pagerduty", "routing_key": "", "events_url": pager.url}}}
    )
    (oid,) = notify(n, engine, incident(engine), "incident.opened")
    assert n.deliver_due(engine).dead == [oid]
    assert "'routing_key' is missing or blank" in rows(engine)[oid]["last_error"]


def test_servicenow_round_trip(tmp_path: Path, engine: Engine) -> None:
    snow = ServiceNowServer().start()
    try:
        n = notifier(tmp_path, {"channels": {"snow": {"type": "servicenow", "instance_url": snow.url,
                                "username": "cloudsoc.integration", "password": "s3cret",
                                "assignment_group": "SOC"}}})  # fmt: skip
        doc = incident(engine, "high")
        iid = doc["incident"]["id"]
        notify(n, engine, doc, "incident.opened")
        notify(
            n,
            engine,
            {**doc, "action": {"name": "iam_deactivate_key", "status": "applied"}},
            "action.applied",
        )
        assert len(n.deliver_due(engine).sent) == 2
        ((sys_id, record),) = snow.records.items()
        assert record["correlation_id"] == f"cloudsoc-incident-{iid}" and record["assignment_group"] == "SOC"
        assert (record["impact"], record["urgency"], record["state"]) == ("1", "2", "1")
        assert record["short_description"] == f"cloudsoc #{iid}: Access key used from Tor"
        assert "action: name=iam_deactivate_key" in snow.journal[sys_id][0]["value"]
        assert {r["external_ref"] for r in rows(engine).values()} == {sys_id}

        seen: list[tuple[int, str, str, str]] = []
        assert n.sync_tickets(engine, lambda *a: seen.append(a)) == 0
        snow.set_state(sys_id, "6", by="jdoe", close_notes="Key rotated, user confirmed")
        assert n.sync_tickets(engine, lambda *a: seen.append(a)) == 1
        assert seen == [(iid, "resolved", "servicenow:jdoe", "Key rotated, user confirmed")]
        assert n.sync_tickets(engine, lambda *a: seen.append(a)) == 0  # reported once

        # cloudsoc closes it: the state goes to ServiceNow with the resolution fields it requires
        notify(n, engine, {**doc, "incident": {**doc["incident"], "status": "closed"}}, "incident.updated")
        assert n.deliver_due(engine).sent
        assert record["state"] == "7" and record["close_code"] == "Solved (Permanently)"

        # a test message reads one record and creates none
        assert n.test(engine, "snow")["status"] == "sent"
        assert snow.requests[-1].method == "GET" and len(snow.records) == 1
    finally:
        snow.stop()


def test_servicenow_create_found_again_after_a_lost_answer(tmp_path: Path, engine: Engine) -> None:
    snow = ServiceNowServer().start()
    try:
        n = notifier(tmp_path, {"channels": {"snow": {"type": "servicenow", "instance_url": snow.url,
                                "username": "cloudsoc.integration", "password": "s3cret"}}})  # fmt: skip
        doc = incident(engine)
        notify(n, engine, doc, "incident.opened")
        n.deliver_due(engine)
        with engine.begin() as conn:  # as if the create's answer never came back
            conn.execute(db.notify_tickets.delete())
            conn.execute(update(db.notify_outbox).values(status="failed", next_attempt_at=utcnow()))
        assert n.deliver_due(engine).sent
        assert len(snow.records) == 1  # found by correlation_id, not created twice
    finally:
        snow.stop()


def test_ticket_sync_logs_what_it_could_not_read(
    tmp_path: Path, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    snow = ServiceNowServer().start()
    try:
        n = notifier(tmp_path, {"channels": {"snow": {"type": "servicenow", "instance_url": snow.url,
                                "username": "cloudsoc.integration", "password": "s3cret"}}})  # fmt: skip
        docs = [incident(engine) for _ in range(3)]
        for doc in docs:
            notify(n, engine, doc, "incident.opened")
        assert len(n.deliver_due(engine).sent) == 3
        sys_ids = list(snow.records)
        for sys_id in sys_ids:
            snow.set_state(sys_id, "6", by="jdoe", close_notes="done")
        seen: list[tuple[int, str, str, str]] = []

        snow.fail(503)  # down: asked once, not once per ticket
        asked = len(snow.requests)
        assert n.sync_tickets(engine, lambda *a: seen.append(a)) == 0
        assert len(snow.requests) == asked + 1 and seen == []
        assert "ticket sync: snow failed, 3 tickets left for the next sync" in caplog.text
        assert "HTTP 503" in caplog.text

        caplog.clear()
        del snow.records[sys_ids[0]]  # deleted in ServiceNow: the others are still read
        assert n.sync_tickets(engine, lambda *a: seen.append(a)) == 2
        assert [s[0] for s in seen] == [d["incident"]["id"] for d in docs[1:]]
        assert (
            f"ticket sync: snow ticket INC0010001 of incident {docs[0]['incident']['id']} not read"
            in caplog.text
        )
        assert "HTTP 404" in caplog.text
    finally:
        snow.stop()


def test_jira_create_transition_and_sync(tmp_path: Path, engine: Engine) -> None:
    jira = JiraServer().start()
    try:
        n = notifier(tmp_path, {"channels": {"jira": {"type": "jira", "base_url": jira.url, "project": "SEC",
                                "username": "soc@example.com", "api_token": "api-token"}}})  # fmt: skip
        doc = incident(engine, "medium")
        iid = doc["incident"]["id"]
        notify(n, engine, doc, "incident.opened")
        notify(n, engine, {**doc, "incident": {**doc["incident"], "status": "contained"}}, "incident.updated")
        assert len(n.deliver_due(engine).sent) == 2
        (issue,) = jira.issues.values()
        assert issue["key"] == "SEC-1" and issue["fields"]["issuetype"] == {"name": "Task"}
        assert issue["fields"]["labels"] == ["cloudsoc", f"cloudsoc-incident-{iid}"]
        assert issue["fields"]["status"] == {"name": "In Progress"}
        assert jira.comments["SEC-1"][0].startswith(f"cloudsoc #{iid}")
        posted = [r.json for r in jira.requests if r.method == "POST" and r.path.endswith("/transitions")]
        assert posted == [{"transition": {"id": "21"}}]

        seen: list[tuple[int, str, str, str]] = []
        jira.move("SEC-1", "Done", by="Dana Analyst")
        assert n.sync_tickets(engine, lambda *a: seen.append(a)) == 1
        assert seen == [(iid, "resolved", "jira:Dana Analyst", "SEC-1 moved to Done in Jira")]

        # a test message reads the project and touches no issue
        asked = len(jira.requests)
        assert n.test(engine, "jira")["status"] == "sent"
        assert [(r.method, r.path) for r in jira.requests[asked:]] == [("GET", "/rest/api/2/project/SEC")]
    finally:
        jira.stop()


# ---- routing, digest, delivery --------------------------------------------------------------


def test_critical_pages_at_once_low_waits_for_the_digest(
    tmp_path: Path, engine: Engine, slack: SlackServer, pager: PagerDutyServer
) -> None:
    n = notifier(tmp_path, {
        "channels": {"pd": {"type": "pagerduty", "routing_key": "k", "events_url": pager.url},
                     "chat": {"type": "slack", "webhook_url": slack.hook_url}},
        "routes": [{"severities": ["critical"], "channels": ["pd", "chat"]},
                   {"min_severity": "high", "events": ["approval.requested"], "channels": ["chat"]},
                   {"severities": ["low"], "channels": ["chat"], "digest": True}]})  # fmt: skip
    yesterday = utcnow() - timedelta(days=1)
    crit = incident(engine, "critical", at=yesterday)
    low = incident(engine, "low", title="Console login without MFA", at=yesterday)
    incident(engine, "medium", title="Not routed", at=yesterday)
    incident(engine, "low", title="Today's, for tomorrow's digest")
    assert len(notify(n, engine, crit, "incident.opened")) == 2
    assert notify(n, engine, low, "incident.opened") == []
    assert notify(n, engine, low, "approval.requested") == []
    assert len(n.deliver_due(engine).sent) == 2 and len(slack.requests) == 1
    assert pager.alerts == {f"cloudsoc-incident-{crit['incident']['id']}": "triggered"}

    digest = n.digest(engine)
    assert len(digest) == 1 and n.digest(engine) == digest  # once a day
    assert n.deliver_due(engine).sent == digest
    text = slack.requests[-1].json["text"]
    assert "1 incidents" in text and f"#{low['incident']['id']} [low] Console login without MFA" in text
    assert "Not routed" not in text and "Today's" not in text and "Tor" not in text
    assert rows(engine)[digest[0]]["incident_id"] is None


def test_server_failing_twice_then_delivered(tmp_path: Path, engine: Engine, slack: SlackServer) -> None:
    n = notifier(tmp_path, {"channels": {"chat": {"type": "slack", "webhook_url": slack.hook_url}}})
    (oid,) = notify(n, engine, incident(engine), "incident.opened")
    slack.fail(500, times=2, body="server_error")
    t = utcnow()
    assert n.deliver_due(engine, t).failed == [oid]
    first = rows(engine)[oid]
    assert first["status"] == "failed" and "HTTP 500" in first["last_error"]
    assert not n.deliver_due(engine, t + timedelta(seconds=9)).failed  # backing off: 10 s
    assert n.deliver_due(engine, t + timedelta(seconds=10)).failed == [oid]
    assert not n.deliver_due(engine, t + timedelta(seconds=29)).failed  # then 20 s
    assert n.deliver_due(engine, t + timedelta(seconds=30)).sent == [oid]
    done = rows(engine)[oid]
    assert (done["status"], done["attempts"], done["last_error"]) == ("sent", 3, None)
    assert len(slack.requests) == 3


def test_server_down_message_kept_until_it_comes_back(tmp_path: Path, engine: Engine) -> None:
    server = SlackServer().start()
    url, port = server.hook_url, server.port
    server.stop()
    n = notifier(tmp_path, {"channels": {"chat": {"type": "slack", "webhook_url": url}}})
    first, second = (notify(n, engine, incident(engine), "incident.opened")[0] for _ in range(2))
    t = utcnow()
    report = n.deliver_due(engine, t)
    assert report.failed == [first] and report.deferred == [second]  # no point hammering a dead host
    assert "ConnectError" in rows(engine)[first]["last_error"]
    for k in range(1, 4):  # out of attempts (4): dead, but still listed with its error
        n.deliver_due(engine, t + timedelta(minutes=k))
    assert rows(engine)[first]["status"] == "dead" and rows(engine)[first]["attempts"] == 4
    assert rows(engine)[second]["status"] == "pending"
    revived = SlackServer(port=port).start()
    try:
        assert n.deliver_due(engine, t + timedelta(minutes=10)).sent == [second]
        runner = CliRunner()
        home = tmp_path / "home"
        (home / "cloudsoc.yaml").write_text(orjson.dumps({"database_url": str(engine.url),
            "notify": {"channels": {"chat": {"type": "slack", "webhook_url": url}}}}).decode())  # fmt: skip
        out = runner.invoke(app, ["notify", "outbox", "--status", "dead", "--home", str(home), "-o", "json"])
        assert [r["id"] for r in orjson.loads(out.stdout)] == [first]
        out = runner.invoke(app, ["notify", "outbox", "--status", "deadd", "--home", str(home)])
        assert out.exit_code == 2 and "'deadd' is not one of" in out.output
        assert runner.invoke(app, ["notify", "retry", str(first), "--home", str(home)]).exit_code == 0
        out = runner.invoke(app, ["notify", "deliver", "--home", str(home), "-o", "json"])
        assert orjson.loads(out.stdout)["sent"] == [first]
    finally:
        revived.stop()
    assert len(revived.requests) == 2


def test_same_notification_is_queued_once(tmp_path: Path, engine: Engine, slack: SlackServer) -> None:
    n = notifier(tmp_path, {"channels": {"chat": {"type": "slack", "webhook_url": slack.hook_url}}})
    doc = incident(engine)
    ids = notify(n, engine, doc, "incident.opened")
    assert notify(n, engine, doc, "incident.opened") == ids
    assert (
        notify(n, engine, {**doc, "incident": {**doc["incident"], "title": "renamed"}}, "incident.opened")
        == ids
    )
    acked = {**doc, "incident": {**doc["incident"], "status": "acknowledged"}}
    update_ids = notify(n, engine, acked, "incident.updated")
    assert notify(n, engine, acked, "incident.updated") == update_ids != ids
    step = {**doc, "ref": "execution-3/notify-owner"}  # a playbook step names its message
    step_ids = notify(n, engine, step, "approval.requested")
    assert (
        notify(
            n, engine, {**step, "incident": {**doc["incident"], "status": "contained"}}, "approval.requested"
        )
        == step_ids
    )
    assert len(rows(engine)) == 3
    n.deliver_due(engine)
    assert n.deliver_due(engine).sent == [] and len(slack.requests) == 3
    with engine.connect() as conn:
        assert len(timeline.entries(conn, doc["incident"]["id"])) == 3


def test_outbox_survives_a_restart_on_postgresql(
    tmp_path: Path, postgres_url: str, slack: SlackServer
) -> None:
    settings = {"channels": {"chat": {"type": "slack", "webhook_url": slack.hook_url}}}
    before = db.connect(postgres_url)
    doc = incident(before, "high")
    ids = notify(notifier(tmp_path, settings), before, doc, "incident.opened")
    slack.fail(503)
    assert notifier(tmp_path, settings).deliver_due(before).failed == ids
    before.dispose()  # the process ends; a new one starts with a new engine and notifier

    after = db.connect(postgres_url)
    n = notifier(tmp_path, settings)
    assert n.deliver_due(after, utcnow() + timedelta(seconds=10)).sent == ids
    with after.connect() as conn:
        status = conn.execute(
            select(db.notify_outbox.c.status).where(db.notify_outbox.c.id == ids[0])
        ).scalar()
        assert status == "sent"
        assert [e["kind"] for e in timeline.entries(conn, doc["incident"]["id"])] == ["notification"]
    after.dispose()


def test_cli_channels_and_test_message(tmp_path: Path, slack: SlackServer) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "cloudsoc.yaml").write_text(orjson.dumps({"notify": {"channels": {
        "chat": {"type": "slack", "webhook_url": slack.hook_url},
        "pd": {"type": "pagerduty", "routing_key": "env:PD_KEY"}}}}).decode())  # fmt: skip
    runner = CliRunner()
    out = runner.invoke(app, ["notify", "channels", "--home", str(home), "-o", "json"])
    data = orjson.loads(out.stdout)
    assert data["channels"][0] == {"name": "chat", "type": "slack", "target": f"http://127.0.0.1:{slack.port}/services/...", "template": None}  # fmt: skip
    assert data["routes"][0] == {
        "severities": ["high", "critical"],
        "events": None,
        "channels": ["pd"],
        "digest": False,
    }
    out = runner.invoke(app, ["notify", "test", "chat", "--home", str(home), "-o", "json"])
    assert out.exit_code == 0, out.output
    assert orjson.loads(out.stdout)["status"] == "sent"
    assert slack.requests[0].json["text"].startswith("[cloudsoc] Test message")
    out = runner.invoke(app, ["notify", "test", "nope", "--home", str(home)])
    assert out.exit_code == 1 and "unknown notify channel 'nope'" in str(out.exception)
