"""Playbooks: load-time validation, ASL semantics (paths, Choice, Parallel, Map, Retry, Catch, Wait),
approvals, triggers, dry run, a bundled playbook against the sandbox, the Step Functions export."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
import sqlalchemy
import yaml
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from cloudsoc.cases import timeline
from cloudsoc.cli.main import app
from cloudsoc.core import db
from cloudsoc.core.config import CONTENT_DIR, AutoApply, Home, RespondSettings
from cloudsoc.core.timeutil import utcnow
from cloudsoc.respond import asl, stepfunctions, triggers
from cloudsoc.respond.access import Responder
from cloudsoc.respond.action import ACTIONS, ActionResult
from cloudsoc.respond.engine import ApprovalError, Engine, StepContext
from cloudsoc.respond.playbook import Playbook, PlaybookError, load_playbooks, parse_yaml

BUNDLED = CONTENT_DIR / "playbooks"


class Clock:
    def __init__(self) -> None:
        self.t = utcnow()

    def __call__(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


def playbook(text: str, name: str = "test") -> Playbook:
    doc, lines = parse_yaml(text)
    return Playbook.from_document(doc, name, f"{name}.yml", lines)


class Calls:
    """Injected notify/evidence handlers that record every call (and can fail on demand)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self.failures: dict[str, list[Exception]] = {}

    def __call__(self, ctx: StepContext, data: dict[str, Any]) -> dict[str, Any]:
        self.seen.append((ctx.path, data))
        pending = self.failures.get(ctx.state)
        if pending:
            raise pending.pop(0)
        return {"done": ctx.resource, "ref": ctx.ref, **data}

    def paths(self) -> list[str]:
        return [p for p, _ in self.seen]


@pytest.fixture
def sql(tmp_path: Path) -> sqlalchemy.Engine:
    return db.connect(f"sqlite:///{tmp_path / 'state.db'}")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def engine(sql: sqlalchemy.Engine, clock: Clock, calls: Calls) -> Engine:
    responder = Responder(boto3.Session(region_name="us-east-1"))
    return Engine(sql, responder, {"notify": calls, "evidence": calls}, settings=RespondSettings(), clock=clock,
                  inline_wait=0)  # fmt: skip


DOC: dict[str, Any] = {"incident": {"id": 1, "severity": "high", "tags": ["attack.t1530"], "account_id": "111122220004",
                    "entities": {"access_keys": ["AKIA1", "AKIA2", "AKIA3"], "users": ["mallory"]}},
       "alert": {"rule_id": "s3_bucket_policy_public"}, "account": {"id": "111122220004", "tier": "prod"},
       "organization": {"accounts": ["111122220004", "111122220005"]}}  # fmt: skip


# ---- validation ---------------------------------------------------------------------------------

BROKEN = """\
Comment: every kind of mistake at once
Trigger:
  MinSeverity: huge
StartAt: Block
States:
  Block:
    Type: Task
    Resource: action:s3.block_public_acces
    Parameters: {bucket: x}
    Next: Remove
  Remove:
    Type: Task
    Resource: action:s3.remove_public_policy
    Parameters: {buckett: x}
    Retry:
      - ErrorEquals: [States.ALL, Foo]
        BackoffRate: 0.5
    Catch:
      - ErrorEquals: [States.ALL]
    Next: Nowhere
  Orphan:
    Type: Teleport
  Pick:
    Type: Choice
    Choices:
      - Variable: account.tier
        StringEquals: 5
    Default: Block
  Stash:
    Type: Pass
    InputPath: $..bad
    ResultPath: $.a[*]
"""


def test_validation_reports_every_problem_with_file_state_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yml"
    path.write_text(BROKEN)
    found = load_playbooks([path, BUNDLED])
    assert "broken" not in found.playbooks and len(found.playbooks) == 7  # the good ones still load
    got = {(p.state, p.line, p.message.split(" (")[0]) for p in found.problems}
    assert all(p.file == str(path) for p in found.problems)
    expected = {
        ("Block", 8, "unknown action 's3.block_public_acces'"),
        ("Remove", 14, "action s3.remove_public_policy has no parameter 'buckett'"),
        ("Remove", 14, "action s3.remove_public_policy needs parameter 'bucket'"),
        ("Remove", 16, "Retry[0]: States.ALL must be alone in the last ErrorEquals"),
        ("Remove", 16, "Retry[0]: BackoffRate 0.5 is out of range"),
        ("Remove", 19, "Catch[0]: Next None is not a state"),
        ("Remove", 20, "Next 'Nowhere' is not a state of this machine"),
        ("Orphan", 22, "unknown state type 'Teleport'"),
        ("Pick", 26, "Choices[0]: a choice rule needs Next"),
        ("Pick", 26, "Choices[0]: Variable 'account.tier' is not a JSONPath"),
        ("Pick", 26, "Choices[0]: StringEquals takes a string, not 5"),
        ("Pick", 23, "unreachable from StartAt"),
        ("Stash", 29, "needs exactly one of Next or End: true"),
        ("Stash", 32, "ResultPath '$.a[*]' is not a reference path"),
        (
            None,
            2,
            "Trigger.MinSeverity: Input should be 'informational', 'low', 'medium', 'high' or 'critical'",
        ),
    }
    assert expected <= got, expected - got
    assert any(s == "Stash" and "InputPath" in m for s, _, m in got)


def test_validate_cli_prints_all_problems_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "broken.yml").write_text(BROKEN)
    res = CliRunner().invoke(app, ["playbooks", "validate", str(tmp_path), "--home", str(tmp_path / "h")])
    assert res.exit_code == 1
    assert f"{tmp_path / 'broken.yml'}:8: Block: unknown action" in res.output
    assert f"{tmp_path / 'broken.yml'}:22: Orphan: unknown state type" in res.output
    ok = CliRunner().invoke(app, ["playbooks", "validate", "--home", str(tmp_path / "h"), "-o", "json"])
    assert ok.exit_code == 0 and len(json.loads(ok.stdout)["playbooks"]) == 7


def test_nested_machines_are_validated() -> None:
    text = """\
Comment: nested
StartAt: P
States:
  P:
    Type: Parallel
    Branches:
      - StartAt: Missing
        States:
          A: {Type: Pass, Next: Outside}
    Next: M
  M:
    Type: Map
    ItemsPath: $.items
    ItemProcessor:
      StartAt: W
      States:
        W: {Type: Wait, End: true}
    End: true
"""
    with pytest.raises(PlaybookError) as err:
        playbook(text)
    msgs = {(p.state, p.message) for p in err.value.problems}
    assert ("P[0]/", "StartAt 'Missing' is not a state") in msgs
    assert ("P[0]/A", "Next 'Outside' is not a state of this machine") in msgs
    assert ("M[*]/W", "a Wait needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath") in msgs


def test_bundled_playbooks_reference_real_rules_and_actions() -> None:
    found = load_playbooks()
    assert not found.problems and len(found.playbooks) == 7
    docs = [d for p in (CONTENT_DIR / "detections").glob("*.yml") for d in yaml.safe_load_all(p.read_text())]
    rule_ids = {d.get("name") for d in docs if isinstance(d, dict)}
    for pb in found:
        assert pb.trigger is not None and (pb.trigger.rules or pb.trigger.tags), pb.name
        assert set(pb.trigger.rules) <= rule_ids, (pb.name, set(pb.trigger.rules) - rule_ids)


# ---- triggers -----------------------------------------------------------------------------------


def test_triggers_match_rule_tag_severity_and_tier() -> None:
    found = load_playbooks()

    def names(doc: dict[str, Any]) -> list[str]:
        return [p.name for p in triggers.match(found, doc)]

    assert names(DOC) == ["public_s3_bucket"]
    by_tag = {
        **DOC,
        "alert": {"rule_id": "something_else"},
        "incident": {**DOC["incident"], "tags": ["attack.t1078.004"]},
    }
    assert names(by_tag) == ["compromised_iam_credentials"]
    low = {**by_tag, "incident": {**by_tag["incident"], "severity": "low"}}
    assert names(low) == []  # MinSeverity medium
    t = playbook("Comment: c\nTrigger: {Rules: ['cloudtrail_*'], AccountTiers: [prod], Severities: [high]}\n"
                 "StartAt: A\nStates: {A: {Type: Succeed}}\n")  # fmt: skip
    trail = {**DOC, "alert": {"rule_id": "cloudtrail_logging_stopped"}}
    assert triggers.match([t], trail) == [t]
    assert triggers.match([t], {**trail, "account": {"id": "1", "tier": "dev"}}) == []
    assert triggers.match([t], {**trail, "incident": {**DOC["incident"], "severity": "critical"}}) == []


# ---- ASL semantics ------------------------------------------------------------------------------


def test_choice_rules() -> None:
    data = {"a": {"s": "prod-web-1", "n": 7, "b": True, "t": "2026-01-02T00:00:00Z", "z": None}, "other": 7}
    ev = asl.evaluate
    assert ev({"Variable": "$.a.s", "StringMatches": "prod-*-1"}, data)
    assert not ev({"Variable": "$.a.s", "StringMatches": "prod-\\*"}, data)
    assert ev({"Variable": "$.x", "StringMatches": "a\\*b"}, {"x": "a*b"})
    assert not ev({"Variable": "$.x", "StringMatches": "a\\*b"}, {"x": "axb"})
    assert ev({"Variable": "$.a.n", "NumericGreaterThan": 6}, data)
    assert not ev({"Variable": "$.a.n", "NumericGreaterThan": 7}, data)
    assert ev({"Variable": "$.a.n", "NumericEqualsPath": "$.other"}, data)
    assert ev({"Variable": "$.a.t", "TimestampLessThan": "2026-02-01T00:00:00+00:00"}, data)
    assert ev({"And": [{"Variable": "$.a.b", "BooleanEquals": True}, {"Not": {"Variable": "$.a.q", "IsPresent": True}}]},
              data)  # fmt: skip
    assert ev(
        {"Or": [{"Variable": "$.missing", "StringEquals": "x"}, {"Variable": "$.a.z", "IsNull": True}]}, data
    )
    assert not ev({"Variable": "$.a.n", "StringEquals": "7"}, data)  # types must match
    assert asl.rule_problems({"Variable": "$.a", "StringEquals": "x", "NumericEquals": 1, "Next": "X"})
    assert asl.rule_problems({"Not": {"Variable": "$.a", "IsPresent": True, "Next": "X"}, "Next": "Y"})
    assert not asl.rule_problems({"Or": [{"Variable": "$.a", "IsPresent": True}], "Next": "Y"})


def test_paths_parameters_result_and_output(engine: Engine, calls: Calls) -> None:
    pb = playbook("""\
Comment: the input/output pipeline
StartAt: Shape
States:
  Shape:
    Type: Pass
    InputPath: $.incident
    Parameters:
      first_key.$: $.entities.access_keys[0]
      keys.$: $.entities.access_keys
      exec.$: $$.Execution.Id
      fixed: {nested: 1}
    ResultPath: $.shaped
    Next: Tell
  Tell:
    Type: Task
    Resource: notify:shaped
    Parameters:
      key.$: $.shaped.first_key
    ResultSelector:
      echoed.$: $.key
    ResultPath: $.told
    OutputPath: $.told
    End: true
""")
    x = engine.start(pb, DOC, None)
    st = engine.run(x)
    assert st.status == "succeeded", st
    assert st.output == {"echoed": "AKIA1"}
    shaped = next(s for s in engine.steps(x) if s["path"] == "Shape")["output"]["shaped"]
    assert shaped == {
        "first_key": "AKIA1",
        "keys": ["AKIA1", "AKIA2", "AKIA3"],
        "exec": str(x),
        "fixed": {"nested": 1},
    }
    assert calls.seen == [("Tell", {"key": "AKIA1"})]


def test_choice_parallel_and_map(engine: Engine, calls: Calls) -> None:
    pb = playbook("""\
Comment: fan out
StartAt: Tier
States:
  Tier:
    Type: Choice
    Choices:
      - And:
          - {Variable: $.account.tier, StringEquals: dev}
        Next: Skip
      - Variable: $.incident.severity
        StringMatches: "h*"
        Next: Fan
    Default: Skip
  Skip: {Type: Succeed}
  Fan:
    Type: Parallel
    Branches:
      - StartAt: Keys
        States:
          Keys:
            Type: Map
            ItemsPath: $.incident.entities.access_keys
            ItemSelector: {key.$: $$.Map.Item.Value, index.$: $$.Map.Item.Index, user.$: "$.incident.entities.users[0]"}
            ItemProcessor:
              StartAt: Each
              States:
                Each: {Type: Task, Resource: "evidence:key", End: true}
            End: true
      - StartAt: Tell
        States:
          Tell: {Type: Task, Resource: "notify:fan", Parameters: {n: 1}, ResultSelector: {n.$: $.n}, End: true}
    ResultPath: $.fan
    OutputPath: $.fan
    End: true
""")
    st = engine.run(engine.start(pb, DOC, None))
    assert st.status == "succeeded"
    keys, tell = st.output
    assert [k["key"] for k in keys] == ["AKIA1", "AKIA2", "AKIA3"] and [k["index"] for k in keys] == [0, 1, 2]
    assert keys[2]["user"] == "mallory" and tell == {"n": 1}
    assert calls.paths() == [
        "Fan[0]/Keys[0]/Each",
        "Fan[0]/Keys[1]/Each",
        "Fan[0]/Keys[2]/Each",
        "Fan[1]/Tell",
    ]
    dev = engine.run(engine.start(pb, {**DOC, "account": {"id": "1", "tier": "dev"}}, None))
    assert dev.status == "succeeded" and len(calls.seen) == 4  # the dev run skipped


RETRY = """\
Comment: flaky
StartAt: Flaky
States:
  Flaky:
    Type: Task
    Resource: notify:flaky
    Retry:
      - ErrorEquals: [TimeoutError]
        IntervalSeconds: 10
        BackoffRate: 3
        MaxAttempts: 2
    Catch:
      - ErrorEquals: [States.TaskFailed]
        ResultPath: $.caught
        Next: Recover
    Next: Done
  Recover: {Type: Pass, Result: recovered, ResultPath: $.recovery, Next: Done}
  Done: {Type: Succeed}
"""


def test_retry_backoff_is_durable_then_succeeds(engine: Engine, calls: Calls, clock: Clock) -> None:
    calls.failures["Flaky"] = [TimeoutError("slow"), TimeoutError("slower")]
    x = engine.start(playbook(RETRY), {"v": 1}, None)
    st = engine.run(x)
    assert st.status == "waiting" and st.current == ["Flaky"]
    assert st.wake_at == clock() + timedelta(seconds=10)
    clock.advance(9)
    assert engine.work() == 0  # not due yet
    clock.advance(1)
    assert engine.work() == 1 and engine.status(x).status == "waiting"
    assert engine.status(x).wake_at == clock() + timedelta(seconds=30)  # 10 * 3^1
    clock.advance(30)
    engine.work()
    st = engine.status(x)
    assert st.status == "succeeded" and "caught" not in st.output
    assert [(s["attempt"], s["status"]) for s in engine.steps(x) if s["path"] == "Flaky"] == [
        (1, "failed"), (2, "failed"), (3, "succeeded")]  # fmt: skip


def test_retries_exhausted_then_caught(engine: Engine, calls: Calls, clock: Clock) -> None:
    calls.failures["Flaky"] = [TimeoutError("1"), TimeoutError("2"), TimeoutError("3")]
    x = engine.start(playbook(RETRY), {"v": 1}, None)
    for _ in range(3):
        engine.run(x)
        clock.advance(100)
    st = engine.status(x)
    assert st.status == "succeeded", st
    assert (
        st.output["caught"] == {"Error": "TimeoutError", "Cause": "3"}
        and st.output["recovery"] == "recovered"
    )
    calls.failures["Flaky"] = [ValueError("not retried")]
    y = engine.run(engine.start(playbook(RETRY), {"v": 2}, None))
    assert y.status == "succeeded" and y.output["caught"]["Error"] == "ValueError"
    assert len(calls.seen) == 4


def test_uncaught_failure_and_runtime_errors_fail_the_execution(engine: Engine) -> None:
    fail = playbook("Comment: c\nStartAt: F\nStates: {F: {Type: Fail, Error: Custom.Bad, Cause: because}}\n")
    st = engine.run(engine.start(fail, {}, None))
    assert st.status == "failed" and st.error == {"Error": "Custom.Bad", "Cause": "because"}
    runtime = playbook("""\
Comment: missing field
StartAt: T
States:
  T:
    Type: Task
    Resource: notify:x
    Parameters: {k.$: $.not.there}
    Catch: [{ErrorEquals: [States.ALL], Next: S}]
    End: true
  S: {Type: Succeed}
""")
    st = engine.run(engine.start(runtime, {}, None))
    assert st.status == "failed" and st.error and st.error["Error"] == "States.Runtime"


def test_waits(engine: Engine, clock: Clock) -> None:
    pb = playbook("""\
Comment: waits
StartAt: Hour
States:
  Hour: {Type: Wait, Seconds: 3600, Next: Until}
  Until: {Type: Wait, TimestampPath: $.until, Next: Past}
  Past: {Type: Wait, Timestamp: "2020-01-01T00:00:00Z", Next: ByPath}
  ByPath: {Type: Wait, SecondsPath: $.secs, End: true}
""")
    until = (clock() + timedelta(hours=5)).isoformat()
    x = engine.start(pb, {"until": until, "secs": 60}, None)
    assert engine.run(x).wake_at == clock() + timedelta(hours=1)
    clock.advance(3600)
    engine.work()
    assert engine.status(x).current == ["Until"] and engine.status(x).wake_at == datetime.fromisoformat(until)
    clock.advance(4 * 3600)
    engine.work()
    st = engine.status(x)
    assert st.current == ["ByPath"] and st.wake_at == clock() + timedelta(seconds=60)
    clock.advance(60)
    engine.work()
    assert engine.status(x).status == "succeeded"


# ---- approvals ----------------------------------------------------------------------------------

APPROVAL = """\
Comment: approval in prod only
Approval: {Approvers: [alice, bob]}
StartAt: Prod?
States:
  Prod?:
    Type: Choice
    Choices: [{Variable: $.account.tier, StringEquals: prod, Next: Ask}]
    Default: Act
  Ask:
    Type: Task
    Resource: approval
    TimeoutSeconds: 600
    Default: approve
    ResultPath: $.approval
    Next: Approved?
  Approved?:
    Type: Choice
    Choices: [{Variable: $.approval.approved, BooleanEquals: true, Next: Act}]
    Default: Denied
  Denied: {Type: Fail, Error: Denied}
  Act: {Type: Task, Resource: "notify:act", End: true}
"""


def test_approval_approve_and_deny(engine: Engine, calls: Calls, sql: sqlalchemy.Engine) -> None:
    pb = playbook(APPROVAL)
    x = engine.start(pb, DOC, 41)
    assert engine.start(pb, DOC, 41) == x  # one execution per playbook and incident
    st = engine.run(x)
    assert st.status == "waiting" and st.current == ["Ask"] and not calls.seen
    with pytest.raises(ApprovalError, match="may not decide"):
        engine.approve(x, "mallory", "let me", True)
    engine.approve(x, "alice", "checked with the owner", True, state="Ask")
    with pytest.raises(ApprovalError, match="no approval waiting"):
        engine.approve(x, "bob", "again", False)
    assert engine.work() == 1
    st = engine.status(x)
    assert st.status == "succeeded" and calls.paths() == ["Act"]
    assert st.output is not None
    with sql.connect() as conn:
        summaries = [e["summary"] for e in timeline.entries(conn, 41)]
    assert any("Ask approved by alice: checked with the owner" in s for s in summaries)
    assert summaries[0].startswith("playbook test started") and summaries[-1] == "playbook test succeeded"

    y = engine.start(pb, DOC, 42)
    engine.run(y)
    engine.approve(y, "bob", "no", False)
    st = engine.run(y)
    assert st.status == "failed" and st.error == {"Error": "Denied", "Cause": ""}
    assert dev_runs_without_approval(engine, pb)


def dev_runs_without_approval(engine: Engine, pb: Playbook) -> bool:
    return (
        engine.run(engine.start(pb, {**DOC, "account": {"id": "5", "tier": "dev"}}, 43)).status == "succeeded"
    )


def test_approval_timeout_takes_the_default(engine: Engine, clock: Clock, sql: sqlalchemy.Engine) -> None:
    approve_by_default = playbook(APPROVAL)
    x = engine.start(approve_by_default, DOC, None)
    assert engine.run(x).wake_at == clock() + timedelta(seconds=600)
    clock.advance(601)
    engine.work()
    st = engine.status(x)
    assert st.status == "succeeded" and st.output is not None
    ask = next(s for s in engine.steps(x) if s["path"] == "Ask")
    assert ask["output"]["approved"] is True and ask["output"]["by"] == "timeout"
    # no TimeoutSeconds, no Default: the settings' timeout and deny
    deny = playbook(APPROVAL.replace("    TimeoutSeconds: 600\n    Default: approve\n", ""), "deny")
    y = engine.start(deny, DOC, None)
    minutes = RespondSettings().approval_timeout_minutes
    assert engine.run(y).wake_at == clock() + timedelta(minutes=minutes)
    clock.advance(minutes * 60)
    engine.work()
    assert engine.status(y).status == "failed"


def test_parallel_approvals_must_be_named(engine: Engine, calls: Calls) -> None:
    pb = playbook("""\
Comment: two approvals
StartAt: Both
States:
  Both:
    Type: Parallel
    Branches:
      - {StartAt: A, States: {A: {Type: Task, Resource: approval, End: true}}}
      - {StartAt: B, States: {B: {Type: Task, Resource: approval, End: true}}}
    End: true
""")
    x = engine.start(pb, {}, None)
    assert sorted(engine.run(x).current) == ["Both[0]/A", "Both[1]/B"]
    with pytest.raises(ApprovalError, match="several approvals wait"):
        engine.approve(x, "alice", "ok", True)
    engine.approve(x, "alice", "ok", True, state="A")
    assert engine.run(x).current == ["Both[1]/B"]
    engine.approve(x, "bob", "no", False, state="Both[1]/B")
    st = engine.run(x)
    assert st.status == "succeeded"
    assert [o["approved"] for o in st.output] == [True, False]


def test_cancelled_execution_goes_no_further(engine: Engine, calls: Calls, clock: Clock) -> None:
    x = engine.start(playbook(APPROVAL), DOC, None)
    assert engine.run(x).status == "waiting"
    assert engine.cancel(x) and not engine.cancel(x)
    with pytest.raises(ApprovalError, match="cancelled"):
        engine.approve(x, "alice", "too late", True)
    clock.advance(10**6)
    assert engine.work() == 0 and engine.run(x).status == "cancelled" and not calls.seen


# ---- actions against the sandbox ----------------------------------------------------------------

PUBLIC = {"Version": "2012-10-17", "Statement": [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
          "Action": "s3:GetObject", "Resource": "arn:aws:s3:::{bucket}/*"}]}  # fmt: skip


def _sandbox(home: Home) -> tuple[Any, str, str, Responder]:
    from cloudsoc.aws.sandbox import Sandbox

    state = Sandbox(home.root).state()
    prod = state.accounts["prod"]
    return state, prod, state.resources["prod"]["buckets"]["public-assets"], Responder.for_home(home)


def _s3_state(state: Any, bucket: str) -> tuple[bool, bool]:
    from cloudsoc.aws.sandbox import Sandbox

    s3 = Sandbox.account_admin(state, "prod").client("s3")
    try:
        s3.get_public_access_block(Bucket=bucket)
        blocked = True
    except s3.exceptions.ClientError:
        blocked = False
    try:
        s3.get_bucket_policy(Bucket=bucket)
        public = True
    except s3.exceptions.ClientError:
        public = False
    return blocked, public


def _revert(responder: Responder, steps: list[dict[str, Any]]) -> None:
    """Put the shared sandbox back as it was, through each applied action's own revert."""
    for s in reversed(steps):
        out = s["output"]
        if s["kind"] == "action" and isinstance(out, dict) and out.get("status") == "applied":
            p = out["params"]
            ACTIONS.get(out["action"]).build(responder.session(p["account_id"], p["region"]), p).revert(
                ActionResult.model_validate(out)
            )


def test_bundled_public_bucket_playbook_against_the_sandbox(sandbox_home: Home, sql: sqlalchemy.Engine,
                                                            calls: Calls) -> None:  # fmt: skip
    state, prod, bucket, responder = _sandbox(sandbox_home)
    assert _s3_state(state, bucket) == (False, True)
    engine = Engine(sql, responder, {"notify": calls}, settings=RespondSettings())
    doc = {"incident": {"id": 7, "severity": "critical", "account_id": prod, "region": "us-east-1",
                        "entities": {"buckets": [bucket]}},
           "alert": {"rule_id": "s3_bucket_policy_public"}, "account": {"id": prod, "tier": responder.tier(prod)},
           "organization": {"accounts": responder.org_accounts}}  # fmt: skip
    [pb] = triggers.match(load_playbooks(), doc)
    x = engine.start(pb, doc, 7)
    try:
        st = engine.run(x)
        assert st.status == "succeeded", st
        assert _s3_state(state, bucket) == (True, False)
        acts = [s for s in engine.steps(x) if s["kind"] == "action"]
        assert [(s["state"], s["mode"], s["output"]["status"]) for s in acts] == [
            ("Block public access", "apply", "applied"), ("Remove public policy", "apply", "applied")]  # fmt: skip
        assert acts[0]["output"]["params"] == {"account_id": prod, "region": "us-east-1", "incident": "7",
                                               "bucket": bucket, "account_level": False}  # fmt: skip
        assert acts[1]["output"]["params"]["allowed_accounts"] == responder.org_accounts != []
        with sql.connect() as conn:
            entries = timeline.entries(conn, 7)
        assert [e["kind"] for e in entries] == ["playbook", "action", "action", "playbook"]
        assert entries[1]["data"]["result"]["after"] and entries[1]["data"]["mode"] == "apply"
        assert calls.seen == [("Report containment", {"incident": 7, "buckets": [bucket]})]
    finally:
        _revert(responder, engine.steps(x))
    assert _s3_state(state, bucket) == (False, True)


def test_dry_run_plans_only_against_real_aws(sandbox_home: Home, tmp_path: Path) -> None:
    state, prod, bucket, sandbox_responder = _sandbox(sandbox_home)
    real = Responder(
        sandbox_responder.base, sandbox_responder.role, tiers=sandbox_responder.tiers
    )  # not the sandbox's
    doc = {
        "incident": {"id": 8, "account_id": prod, "entities": {"buckets": [bucket]}},
        "account": {"id": prod},
        "organization": {"accounts": sandbox_responder.org_accounts},
    }
    pb = load_playbooks().get("public_s3_bucket")
    planned = Engine(db.connect(f"sqlite:///{tmp_path / 'a.db'}"), real, settings=RespondSettings())
    x = planned.start(pb, doc, None)
    assert planned.run(x).status == "succeeded"
    acts = [s for s in planned.steps(x) if s["kind"] == "action"]
    assert [(s["mode"], s["output"]["status"]) for s in acts] == [("plan", "planned"), ("plan", "planned")]
    assert acts[0]["output"]["changes"] and _s3_state(state, bucket) == (False, True)  # nothing changed
    notify = next(s for s in planned.steps(x) if s["kind"] == "notify")
    assert notify["mode"] == "skipped"  # no handler wired
    # auto_apply for the prod tier and this one action: it applies, the other still plans
    settings = RespondSettings(auto_apply=[AutoApply(account="prod", action="s3.block_public_access")])
    allowed = Engine(db.connect(f"sqlite:///{tmp_path / 'b.db'}"), real, settings=settings)
    y = allowed.start(pb, doc, None)
    try:
        assert allowed.run(y).status == "succeeded"
        assert [s["mode"] for s in allowed.steps(y) if s["kind"] == "action"] == ["apply", "plan"]
        assert _s3_state(state, bucket) == (True, True)
    finally:
        _revert(sandbox_responder, allowed.steps(y))
    assert _s3_state(state, bucket) == (False, True)


def test_cli_run_show_and_approve(sandbox_home: Home, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "playbooks").mkdir()
    (home / "playbooks" / "ask.yml").write_text(APPROVAL.replace("Approvers: [alice, bob]", "Default: deny"))

    def run(*args: str) -> Any:
        return CliRunner().invoke(app, ["playbooks", *args, "--home", str(home), "-o", "json"])

    res = run("run", "ask", "--input", json.dumps(DOC))
    assert res.exit_code == 0, res.output
    started = json.loads(res.stdout)
    assert started["status"] == "waiting" and started["current"] == ["Ask"]
    assert json.loads(run("executions", "--status", "waiting").stdout)[0]["id"] == started["id"]
    res = run("approve", str(started["id"]), "--by", "carol", "--reason", "fine")
    assert res.exit_code == 0 and json.loads(res.stdout)["status"] == "succeeded"
    shown = json.loads(run("show", str(started["id"])).stdout)
    assert [s["path"] for s in shown["steps"]] == ["Prod?", "Ask", "Approved?", "Act"]
    assert shown["steps"][1]["output"] == {"approved": True, "by": "carol", "reason": "fine"}
    act = shown["steps"][3]  # the watcher's notify handler needs an incident; this run has none
    assert act["mode"] == "skipped" and "needs an incident" in act["output"]["reason"]
    assert run("deny", str(started["id"])).exit_code == 1
    assert run("run", "ask").exit_code == 1
    assert run("run", "ask", "--incident", "99").exit_code == 1  # no such incident


def test_cli_run_on_an_incident_notifies_as_the_watcher_does(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "playbooks").mkdir(parents=True)
    (home / "cloudsoc.yaml").write_text(yaml.safe_dump({"notify": {
        "channels": {"hook": {"type": "webhook", "url": "http://127.0.0.1:9/hook"}},
        "routes": [{"channels": ["hook"]}]}}))  # fmt: skip
    (home / "playbooks" / "tell.yml").write_text(
        "Comment: tell\nStartAt: Tell\nStates: {Tell: {Type: Task, Resource: 'notify:told', Parameters: "
        "{account.$: $.account.id}, End: true}}\n"
    )
    sql = db.connect(Home.open(home).database_url)
    now = utcnow()
    with sql.begin() as conn:
        incident = conn.execute(db.incidents.insert().values(
            title="t", severity="high", status="new", account_id="111122220004", group_key="account:1",
            entities={}, tags=[], first_alert_at=now, last_alert_at=now, created_at=now, updated_at=now,
        )).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
    res = CliRunner().invoke(app, ["playbooks", "run", "tell", "--incident", str(incident), "--home", str(home),
                                   "-o", "json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    execution = json.loads(res.stdout)
    assert execution["status"] == "succeeded"
    engine = Engine(sql, Responder(boto3.Session(region_name="us-east-1")), settings=RespondSettings())
    [tell] = engine.steps(execution["id"])
    assert tell["mode"] == "apply" and tell["input"] == {"account": "111122220004"}
    with sql.connect() as conn:
        queued = conn.execute(sqlalchemy.select(db.notify_outbox)).mappings().all()
        doc = conn.execute(sqlalchemy.select(db.playbook_executions.c.input)).scalar_one()
    assert [(q["id"], q["event"], q["incident_id"]) for q in queued] == [
        (tell["output"]["queued"][0], "told", incident)
    ]
    # the document is the watcher's: the incident with its region and rule ids, its worst alert, its account
    assert doc["incident"]["rule_ids"] == [] and "region" in doc["incident"] and "alert" in doc


# ---- Step Functions export ----------------------------------------------------------------------


def test_export_is_accepted_by_step_functions(moto_endpoint: str) -> None:
    # moto's Step Functions checks definitions with its ASL parser when it executes state machines
    httpx.post(f"{moto_endpoint}/moto-api/config", json={"stepfunctions": {"execute_state_machine": True}})
    sfn = boto3.client("stepfunctions", region_name="us-east-1", endpoint_url=moto_endpoint,
                       aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    role = "arn:aws:iam::123456789012:role/cloudsoc-respond-sfn"
    for pb in load_playbooks():
        definition = stepfunctions.export(pb, region="eu-west-1", account="111122220002")
        assert stepfunctions.check(definition) == [], pb.name
        text = json.dumps(definition)
        assert "action:" not in text and '"approval"' not in text.replace('"action": "approval"', "")
        arn = sfn.create_state_machine(name=f"{pb.name}-{uuid.uuid4().hex[:6]}", definition=text,
                                       roleArn=role)["stateMachineArn"]  # fmt: skip
        assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == definition
    broken = {"StartAt": "A", "States": {"A": {"Type": "Task", "Next": "B"}}}
    assert stepfunctions.check(broken)  # our own check catches it...
    with pytest.raises(ClientError, match="No Resource"):  # ...and so does the service's parser
        sfn.create_state_machine(name="broken", definition=json.dumps(broken), roleArn=role)


def test_export_shapes_approvals_and_actions() -> None:
    pb = load_playbooks().get("compromised_ec2_instance")
    d = stepfunctions.export(pb, region="eu-west-1", account="111122220002")
    lam = "arn:aws:lambda:eu-west-1:111122220002:function:cloudsoc-respond"
    iso = d["States"]["Isolate instances"]["ItemProcessor"]["States"]["Isolate instance"]
    assert iso["Resource"] == lam
    assert iso["Parameters"] == {
        "action": "ec2.isolate_instance",
        "params": {"instance_id.$": "$.instance_id"},
    }
    ask = d["States"]["Approve isolation"]
    assert ask["Resource"] == stepfunctions.WAIT_FOR_TOKEN and ask["TimeoutSeconds"] == 3600
    assert ask["Parameters"]["Payload"]["token.$"] == "$$.Task.Token"
    timeout = d["States"][ask["Catch"][0]["Next"]]
    assert ask["Catch"][0]["ErrorEquals"] == ["States.Timeout"] and timeout["Result"]["approved"] is False
    assert timeout["Next"] == d["States"][ask["Next"]]["Next"] == "Approved?"
