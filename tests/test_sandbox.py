"""The sandbox organization and the CloudTrail recorder, against a real moto server process."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cloudsoc.aws.recorder import Actor, Recorder
from cloudsoc.aws.sandbox import ACCOUNTS, READ_ONLY_ROLE, Sandbox, SandboxState
from cloudsoc.aws.session import ClientFactory, assume_role, client, role_arn
from cloudsoc.core.config import Home
from cloudsoc.lake.ingest import ingest
from cloudsoc.lake.store import Lake
from cloudsoc.simulate.technique import Ctx


@pytest.fixture(scope="module")
def state(sandbox_home: Home) -> SandboxState:
    return Sandbox(sandbox_home.root).state()


def test_organization_has_the_landing_zone_accounts_with_fixed_ids(
    sandbox_home: Home, state: SandboxState
) -> None:
    assert state.accounts == {name: acct for name, (acct, _) in ACCOUNTS.items()}
    org = client("organizations", session=Sandbox.admin_session(state))
    listed = {a["Id"] for a in org.list_accounts()["Accounts"]}
    assert listed == set(state.accounts.values())
    assert Sandbox(sandbox_home.root).status()["running"] is True


def test_soc_reaches_every_account_through_its_read_only_role(state: SandboxState) -> None:
    soc = state.keys["security/cloudsoc"]
    from cloudsoc.aws.session import make_session

    hub = make_session(soc["AccessKeyId"], soc["SecretAccessKey"], endpoint=state.endpoint)
    for name, acct in state.accounts.items():
        member = assume_role(hub, role_arn(acct, READ_ONLY_ROLE), "cloudsoc-audit")
        assert client("sts", session=member).get_caller_identity()["Account"] == acct, name


def test_baseline_and_deliberate_misconfigurations_exist(sandbox_home: Home, state: SandboxState) -> None:
    prod = Sandbox(sandbox_home.root).account_admin(state, "prod")
    res = state.resources["prod"]
    mgmt = Sandbox.admin_session(state)
    trail = client("cloudtrail", session=mgmt).get_trail_status(Name="organization-trail")
    assert trail["IsLogging"] is True
    archive = Sandbox(sandbox_home.root).account_admin(state, "log-archive")
    lock = client("s3", session=archive).get_object_lock_configuration(Bucket=state.trail_bucket)
    assert lock["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"
    policy = json.loads(
        client("s3", session=prod).get_bucket_policy(Bucket=res["buckets"]["public-assets"])["Policy"]
    )
    assert policy["Statement"][0]["Principal"] == "*"
    sg = client("ec2", session=prod).describe_security_groups(GroupIds=[res["security_groups"]["bastion"]])
    perms = sg["SecurityGroups"][0]["IpPermissions"]
    assert any(p["FromPort"] == 22 and {"CidrIp": "0.0.0.0/0"} in p["IpRanges"] for p in perms)
    vol = client("ec2", session=prod).describe_volumes(VolumeIds=[res["data_volume"]])["Volumes"][0]
    assert vol["Encrypted"] is False
    iam = client("iam", session=prod)
    assert iam.list_mfa_devices(UserName="bob.developer")["MFADevices"] == []
    assert iam.get_login_profile(UserName="bob.developer")["LoginProfile"]["UserName"] == "bob.developer"
    assert client("guardduty", session=prod).list_detectors()["DetectorIds"]


def _ctx(sandbox_home: Home, state: SandboxState) -> Ctx:
    return Ctx(Sandbox(sandbox_home.root), state, Recorder(state.org_id))


def test_recorder_writes_cloudtrail_records_in_cloudtrails_casing(
    sandbox_home: Home, state: SandboxState
) -> None:
    ctx = _ctx(sandbox_home, state)
    intruder = ctx.attacker()
    res = state.resources["prod"]
    ec2 = client("ec2", session=intruder)
    ec2.modify_snapshot_attribute(SnapshotId=res["snapshot"], Attribute="createVolumePermission",
                                  OperationType="add", CreateVolumePermission={"Add": [{"UserId": "999988887777"}]})  # fmt: skip
    with pytest.raises(ClientError):
        client("secretsmanager", session=intruder).get_secret_value(SecretId="does-not-exist")
    client("s3", session=intruder).get_object(
        Bucket=res["buckets"]["artifacts"], Key="releases/app-1.4.2.zip"
    )
    role = ctx.assume(intruder, "PlatformAdmin", "mallory")
    client("iam", session=role).list_users()
    share, failed, read, assumed, listed = ctx.recorder.records
    who = share["userIdentity"]
    assert (who["type"], who["userName"], who["accountId"]) == (
        "IAMUser",
        "svc-deploy",
        state.accounts["prod"],
    )
    assert share["requestParameters"]["createVolumePermission"] == {
        "add": {"items": [{"userId": "999988887777"}]}
    }
    assert share["readOnly"] is False and share["eventCategory"] == "Management"
    assert ctx.stamp in share["userAgent"]
    assert failed["errorCode"] == "ResourceNotFoundException" and failed["requestParameters"] == {
        "secretId": "does-not-exist"
    }
    assert (read["eventCategory"], read["managementEvent"], read["requestParameters"]["bucketName"]) == \
        ("Data", False, res["buckets"]["artifacts"])  # fmt: skip
    assert (
        assumed["eventName"] == "AssumeRole" and assumed["requestParameters"]["roleSessionName"] == "mallory"
    )
    issuer = listed["userIdentity"]["sessionContext"]["sessionIssuer"]
    assert listed["userIdentity"]["type"] == "AssumedRole" and issuer["userName"] == "PlatformAdmin"
    assert listed["awsRegion"] == "us-east-1" and listed["eventSource"] == "iam.amazonaws.com"
    ctx.recorder.records.clear()


def test_delivery_follows_cloudtrails_layout_and_ingests(
    sandbox_home: Home, state: SandboxState, tmp_path: Any
) -> None:
    ctx = _ctx(sandbox_home, state)
    client("ec2", session=ctx.attacker()).describe_instances()
    ctx.console_login("alice.admin", mfa=True, ip="198.51.100.24")
    keys = ctx.flush()
    prefix = f"AWSLogs/{state.org_id}/{state.accounts['prod']}/CloudTrail/us-east-1/"
    assert keys and all(k.startswith(prefix) and k.endswith(".json.gz") for k in keys)
    archive = ctx.sandbox.account_admin(state, "log-archive")
    body = client("s3", session=archive).get_object(Bucket=state.trail_bucket, Key=keys[0])["Body"].read()
    names = [r["eventName"] for r in json.loads(gzip.decompress(body))["Records"]]
    assert names == ["DescribeInstances", "ConsoleLogin"]
    security = ctx.sandbox.account_admin(state, "security")
    sqs = client("sqs", session=security)
    messages = sqs.receive_message(QueueUrl=state.live_queue_url, MaxNumberOfMessages=10)["Messages"]
    kinds = {json.loads(m["Body"])["detail-type"] for m in messages}
    assert {"AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail"} <= kinds
    home = Home.open(tmp_path / "ingest")
    summary = ingest(
        home, [f"s3://{state.trail_bucket}/{keys[0]}"], s3=ClientFactory.of(archive, "s3"), workers=1
    )
    assert summary.events_ingested == 2 and not summary.quarantined
    con = Lake(home.lake).connect()
    assert con.execute("select count(*) from cloudtrail where event_name = 'ConsoleLogin'").fetchall() == [
        (1,)
    ]


def test_unsupported_call_is_written_synthetically_and_marked(
    sandbox_home: Home, state: SandboxState
) -> None:
    ctx = _ctx(sandbox_home, state)
    intruder = ctx.attacker()
    ctx.denied(intruder, "organizations", "LeaveOrganization")
    rec = ctx.recorder.records[-1]
    assert rec["errorCode"] == "AccessDenied" and "svc-deploy" in rec["errorMessage"]
    assert ctx.recorder.log[-1].synthetic is True
    ctx.recorder.records.clear()


def test_down_stops_the_server(tmp_path: Any) -> None:
    sandbox = Sandbox(tmp_path)
    state = sandbox._start(0)
    assert sandbox.status()["running"] is True
    assert sandbox.down() is True
    assert sandbox.status() == {"running": False}
    import os

    with pytest.raises(ProcessLookupError):
        os.kill(state.pid, 0)


def test_actor_without_agent_records_the_sdk_user_agent(sandbox_home: Home, state: SandboxState) -> None:
    ctx = _ctx(sandbox_home, state)
    sess = ctx.key_session("svc-backup", actor=Actor("10.10.1.15"))
    client("ec2", session=sess).describe_volumes()
    assert ctx.recorder.records[-1]["userAgent"].startswith("Boto3/")
    ctx.recorder.records.clear()


def test_live_queue_is_ingested_and_acknowledged(
    sandbox_home: Home, state: SandboxState, tmp_path: Any
) -> None:
    from typer.testing import CliRunner

    from cloudsoc.cli.main import app

    ctx = _ctx(sandbox_home, state)
    client("cloudtrail", session=ctx.attacker()).describe_trails()
    event_id = ctx.recorder.records[-1]["eventID"]
    ctx.flush()
    target = tmp_path / "live-home"
    sandbox_state = sandbox_home.root / "sandbox"
    (target / "sandbox").mkdir(parents=True)
    (target / "sandbox" / "state.json").write_text((sandbox_state / "state.json").read_text())
    args = ["ingest", "--queue", state.live_queue_url, "--sandbox", "--home", str(target), "--output", "json"]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["messages"] >= 1
    con = Lake(Home.open(target).lake).connect()
    assert con.execute("select count(*) from cloudtrail where event_id = ?", [event_id]).fetchall() == [(1,)]
    again = CliRunner().invoke(app, args)
    assert json.loads(again.stdout)["messages"] == 0  # acknowledged: nothing is delivered twice
    assert not list((target / "spool").glob("*.jsonl"))
