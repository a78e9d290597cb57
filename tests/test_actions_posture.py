"""The posture remediation actions against the sandbox organization: the plan names the change and
changes nothing, apply makes it (read back through the organization's administrator), a second apply
is already done, revert puts the original back, and a target that does not exist is done.

Account-wide settings are tried in the organization's "sandbox" account, resources are made for the
test; every test puts back what it changed (the sandbox is shared by every test of a worker).

The sandbox (moto) has no IAM Access Analyzer: that action runs on a responder session whose Access
Analyzer calls are answered by a small in-memory service (``FakeAccessAnalyzer``) after boto3 has
validated them against the service model.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from cloudsoc.aws.sandbox import Sandbox, SandboxState
from cloudsoc.aws.session import client
from cloudsoc.core.config import Home
from cloudsoc.respond.access import Responder
from cloudsoc.respond.action import ACTIONS, Action, ActionError, ActionResult
from cloudsoc.respond.actions.ec2_restrict_default_security_group import single_rules
from cloudsoc.respond.actions.s3_deny_insecure_transport import denies_insecure
from tests.action_fixtures import lifecycle, unique

EU = "eu-west-1"


@dataclass
class Env:
    state: SandboxState
    home: Home
    responder: Responder
    _clients: dict[tuple[str, str, str], Any] = field(default_factory=dict)

    def account(self, name: str) -> str:
        return self.state.accounts[name]

    def act(
        self, name: str, account: str = "sandbox", region: str = "us-east-1", **params: Any
    ) -> Action[Any]:
        acct = self.account(account)
        session = self.responder.session(acct, region)
        return ACTIONS.get(name).build(session, {"account_id": acct, "region": region, **params})

    def client(self, service: str, account: str = "sandbox", region: str = "us-east-1") -> Any:
        """A client of the account's administrator: how the test sets up and reads back."""
        key = (service, account, region)
        if key not in self._clients:
            self._clients[key] = client(service, session=Sandbox.account_admin(self.state, account, region))
        return self._clients[key]


@pytest.fixture(scope="module")
def env(sandbox_home: Home) -> Env:
    return Env(Sandbox(sandbox_home.root).state(), sandbox_home, Responder.for_home(sandbox_home))


def assert_done(action: Action[Any]) -> ActionResult:
    """A target that does not exist, or needs nothing: no change planned, apply is already done, and
    reverting that result changes nothing."""
    assert action.plan().changes == []
    result = action.apply()
    assert result.status == "already_done" and result.changes == [] and result.applied == {}
    reverted = action.revert(result)
    assert reverted.status == "reverted" and reverted.after == result.after
    return result


# --- iam.set_password_policy ---------------------------------------------------------------------
CIS_POLICY = {"MinimumPasswordLength": 14, "PasswordReusePrevention": 24, "MaxPasswordAge": 90, "ExpirePasswords": True,
              "HardExpiry": False, "RequireUppercaseCharacters": True, "RequireLowercaseCharacters": True,
              "RequireNumbers": True, "RequireSymbols": True, "AllowUsersToChangePassword": True}  # fmt: skip


def _password_policy(iam: Any) -> dict[str, Any] | None:
    try:
        return dict(iam.get_account_password_policy()["PasswordPolicy"])
    except ClientError:
        return None


@pytest.fixture
def iam(env: Env) -> Iterator[Any]:
    iam = env.client("iam")
    assert _password_policy(iam) is None  # the landing zone's accounts have none
    yield iam
    with contextlib.suppress(ClientError):
        iam.delete_account_password_policy()


def test_set_password_policy_where_there_is_none(env: Env, iam: Any) -> None:
    result = lifecycle(lambda: env.act("iam.set_password_policy"), lambda: _password_policy(iam), CIS_POLICY)
    assert result.before["policy"] is None and len(result.changes) == 1


def test_set_password_policy_keeps_stricter_values_and_restores_the_old_policy(env: Env, iam: Any) -> None:
    iam.update_account_password_policy(MinimumPasswordLength=20, MaxPasswordAge=30, PasswordReusePrevention=5,
                                       HardExpiry=True, RequireUppercaseCharacters=True, RequireNumbers=True)  # fmt: skip
    old = _password_policy(iam)
    assert old is not None and old["RequireSymbols"] is False
    expected = CIS_POLICY | {"MinimumPasswordLength": 20, "MaxPasswordAge": 30, "HardExpiry": True}
    result = lifecycle(lambda: env.act("iam.set_password_policy"), lambda: _password_policy(iam), expected)
    assert sorted(c.split()[1] for c in result.changes) == [
        "AllowUsersToChangePassword", "PasswordReusePrevention", "RequireLowercaseCharacters", "RequireSymbols"]  # fmt: skip
    assert _password_policy(iam) == old
    # a policy at least as strict as CIS in every respect needs nothing
    iam.update_account_password_policy(**{k: v for k, v in expected.items() if k != "ExpirePasswords"})
    assert_done(env.act("iam.set_password_policy"))


# --- ec2.enable_ebs_default_encryption ---------------------------------------------------------------
def test_enable_ebs_default_encryption(env: Env) -> None:
    ec2 = env.client("ec2")

    def view() -> bool:
        return bool(ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"])

    lifecycle(lambda: env.act("ec2.enable_ebs_default_encryption"), view, True)
    assert view() is False
    ec2.enable_ebs_encryption_by_default()
    try:  # on already: done, and reverting that result leaves it on
        done = assert_done(env.act("ec2.enable_ebs_default_encryption"))
        env.act("ec2.enable_ebs_default_encryption").revert(done)
        assert view() is True
    finally:
        ec2.disable_ebs_encryption_by_default()


# --- ec2.require_imdsv2 -----------------------------------------------------------------------------
def test_require_imdsv2_keeps_the_other_options(env: Env) -> None:
    ec2 = env.client("ec2")
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    iid = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro", MetadataOptions={
        "HttpTokens": "optional", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 2})["Instances"][0]["InstanceId"]  # fmt: skip

    def view() -> dict[str, Any]:
        return dict(
            ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["MetadataOptions"]
        )

    try:
        original = view()
        assert (original["HttpTokens"], original["HttpEndpoint"], original["HttpPutResponseHopLimit"]) == (
            "optional", "enabled", 2)  # fmt: skip
        result = lifecycle(
            lambda: env.act("ec2.require_imdsv2", instance_id=iid),
            view,
            original | {"HttpTokens": "required"},
        )
        assert result.before["options"]["HttpTokens"] == "optional"
    finally:
        ec2.terminate_instances(InstanceIds=[iid])
    assert_done(env.act("ec2.require_imdsv2", instance_id=iid))  # terminated
    assert_done(env.act("ec2.require_imdsv2", instance_id="i-0123456789abcdef0"))


# --- kms.enable_key_rotation ------------------------------------------------------------------------
def test_enable_key_rotation(env: Env) -> None:
    kms = env.client("kms")
    key = kms.create_key(Description="posture test key")["KeyMetadata"]["KeyId"]

    def view() -> bool:
        return bool(kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"])

    try:
        lifecycle(lambda: env.act("kms.enable_key_rotation", key_id=key), view, True)
        assert view() is False
        kms.disable_key(KeyId=key)
        with pytest.raises(ActionError, match="enable it"):
            env.act("kms.enable_key_rotation", key_id=key).plan()
    finally:
        kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    assert_done(env.act("kms.enable_key_rotation", key_id=key))  # scheduled for deletion
    assert_done(env.act("kms.enable_key_rotation", key_id=str(uuid.uuid4())))


def test_enable_key_rotation_refuses_keys_that_cannot_rotate(env: Env) -> None:
    kms = env.client("kms")
    key = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    try:
        with pytest.raises(ActionError, match="cannot rotate"):
            env.act("kms.enable_key_rotation", key_id=key).plan()
    finally:
        kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)


# --- cloudtrail.enable_log_validation ---------------------------------------------------------------
@pytest.fixture
def bucket(env: Env) -> Iterator[str]:
    name = unique("posture-test")
    s3 = env.client("s3")
    s3.create_bucket(Bucket=name)
    yield name
    s3.delete_bucket(Bucket=name)


def test_enable_log_validation(env: Env, bucket: str) -> None:
    ct = env.client("cloudtrail")
    name = unique("trail")
    arn = ct.create_trail(Name=name, S3BucketName=bucket, EnableLogFileValidation=False)["TrailARN"]

    def view() -> bool:
        return bool(ct.get_trail(Name=name)["Trail"]["LogFileValidationEnabled"])

    try:
        lifecycle(lambda: env.act("cloudtrail.enable_log_validation", trail_name=name), view, True)
        # named by its ARN, the trail is changed in its home region whatever the action's region
        lifecycle(lambda: env.act("cloudtrail.enable_log_validation", region=EU, trail_name=arn), view, True)
    finally:
        ct.delete_trail(Name=name)
    assert_done(env.act("cloudtrail.enable_log_validation", trail_name=name))
    assert_done(env.act("cloudtrail.enable_log_validation", trail_name=arn))


# --- s3.deny_insecure_transport ---------------------------------------------------------------------
def _bucket_policy(s3: Any, bucket: str) -> str | None:
    try:
        return str(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError:
        return None


def _deny(bucket: str, sid: str = "DenyInsecureTransport") -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}  # fmt: skip


def test_deny_insecure_transport_keeps_the_policy_and_restores_its_text(env: Env, bucket: str) -> None:
    s3 = env.client("s3")
    account = env.account("sandbox")
    own = {"Sid": "OwnRead", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
           "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}  # fmt: skip
    text = json.dumps({"Version": "2012-10-17", "Id": "owned", "Statement": [own]}, indent=3)
    s3.put_bucket_policy(Bucket=bucket, Policy=text)

    def view() -> Any:
        current = _bucket_policy(s3, bucket)
        return current if current == text else json.loads(current or "null")

    expected = {"Version": "2012-10-17", "Id": "owned", "Statement": [own, _deny(bucket)]}
    lifecycle(lambda: env.act("s3.deny_insecure_transport", bucket=bucket), view, expected)
    assert _bucket_policy(s3, bucket) == text  # byte for byte
    # an equivalent statement of another name (a lone statement, a bool, one resource wildcard) will do
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": _deny(bucket, "TLS") | {
        "Action": ["s3:*"], "Principal": {"AWS": "*"}, "Condition": {"Bool": {"aws:SecureTransport": False}}}}))  # fmt: skip
    assert_done(env.act("s3.deny_insecure_transport", bucket=bucket))
    s3.delete_bucket_policy(Bucket=bucket)


def test_deny_insecure_transport_on_a_bucket_without_policy(env: Env, bucket: str) -> None:
    s3 = env.client("s3")
    lifecycle(
        lambda: env.act("s3.deny_insecure_transport", bucket=bucket),
        lambda: json.loads(_bucket_policy(s3, bucket) or "null"),
        {"Version": "2012-10-17", "Statement": [_deny(bucket)]},
    )
    assert _bucket_policy(s3, bucket) is None
    assert_done(env.act("s3.deny_insecure_transport", bucket=unique("posture-missing")))


def _tls(**over: Any) -> dict[str, Any]:
    return _deny("b", "TLS") | over


@pytest.mark.parametrize(
    ("statement", "done"),
    [
        (_tls(), True),
        (_tls(Resource="*", Action="*"), True),
        (_tls(Resource="arn:aws:s3:::b*", Condition={"BoolIfExists": {"aws:securetransport": ["false"]}}), True),
        (_tls(Principal={"AWS": ["*"]}), True),
        (_tls(Resource="arn:aws:s3:::b/*"), False),  # the bucket's own operations stay open to HTTP
        (_tls(Action="s3:GetObject"), False),
        (_tls(Principal={"AWS": "arn:aws:iam::111122223333:root"}), False),
        (_tls(Effect="Allow"), False),
        (_tls(Condition={"Bool": {"aws:SecureTransport": "true"}}), False),
        (_tls(Condition={"Bool": {"aws:SecureTransport": "false"}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
         False),  # narrowed to some callers
        ({k: v for k, v in _tls().items() if k != "Condition"}, False),
    ],
)  # fmt: skip
def test_what_counts_as_denying_insecure_transport(statement: dict[str, Any], done: bool) -> None:
    assert denies_insecure(statement, "b") is done


# --- s3.enable_versioning ---------------------------------------------------------------------------
def test_enable_versioning(env: Env, bucket: str) -> None:
    s3 = env.client("s3")

    def view() -> str | None:
        return s3.get_bucket_versioning(Bucket=bucket).get("Status")

    # never versioned: S3 has no way back, so revert suspends
    lifecycle(lambda: env.act("s3.enable_versioning", bucket=bucket), view, "Enabled", reverted="Suspended")
    lifecycle(
        lambda: env.act("s3.enable_versioning", bucket=bucket), view, "Enabled"
    )  # suspended: back to it
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    done = assert_done(env.act("s3.enable_versioning", bucket=bucket))
    env.act("s3.enable_versioning", bucket=bucket).revert(done)
    assert view() == "Enabled"
    assert_done(env.act("s3.enable_versioning", bucket=unique("posture-missing")))
    for v in s3.list_object_versions(Bucket=bucket).get("Versions", []):
        s3.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])


# --- ec2.restrict_default_security_group ------------------------------------------------------------
def _rules(ec2: Any, gid: str) -> tuple[list[str], list[str]]:
    """Ingress and egress, one rule per source or destination, order-free, descriptions included."""
    group = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]
    rules = (single_rules(group["IpPermissions"]), single_rules(group["IpPermissionsEgress"]))
    return sorted(json.dumps(r, sort_keys=True) for r in rules[0]), sorted(
        json.dumps(r, sort_keys=True) for r in rules[1]
    )


def test_restrict_default_security_group(env: Env) -> None:
    ec2 = env.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]["VpcId"]
    filters = [{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    gid = ec2.describe_security_groups(Filters=filters)["SecurityGroups"][0]["GroupId"]
    other = ec2.create_security_group(GroupName=unique("app"), Description="an application tier", VpcId=vpc)[
        "GroupId"
    ]
    try:
        # as AWS makes it in a dual-stack VPC: all traffic from the group itself in, everything out
        # (IPv4 and IPv6); and one more rule of the owner's
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": gid, "Description": "members talk"}]},
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])  # fmt: skip
        ingress, egress = _rules(ec2, gid)
        assert len(ingress) == 2 and [json.loads(e)["IpProtocol"] for e in egress] == [
            "-1",
            "-1",
        ]  # v4 and v6
        result = lifecycle(lambda: env.act("ec2.restrict_default_security_group", group_id=gid),
                           lambda: _rules(ec2, gid), ([], []))  # fmt: skip
        assert len(result.changes) == 4 and any(
            "members talk" in json.dumps(r) for r in result.applied["ingress"]
        )
        with pytest.raises(ActionError, match="not a VPC's default"):
            env.act("ec2.restrict_default_security_group", group_id=other).plan()
        emptied = env.act("ec2.restrict_default_security_group", group_id=gid)
        applied = emptied.apply()  # and its VPC deleted before the revert
    finally:
        ec2.delete_security_group(GroupId=other)
        ec2.delete_vpc(VpcId=vpc)
    assert_done(env.act("ec2.restrict_default_security_group", group_id=gid))  # gone with its VPC
    with pytest.raises(ActionError, match="no longer exists"):
        emptied.revert(applied)


# --- securityhub.enable_hub --------------------------------------------------------------------------
def test_enable_hub_and_revert_only_what_it_enabled(env: Env) -> None:
    sh = env.client("securityhub", region=EU)

    def view() -> bool:
        try:
            sh.describe_hub()
        except ClientError:
            return False
        return True

    assert view() is True  # the landing zone turns it on everywhere
    done = assert_done(env.act("securityhub.enable_hub", region=EU))
    env.act("securityhub.enable_hub", region=EU).revert(done)
    assert view() is True
    sh.disable_security_hub()
    try:
        lifecycle(lambda: env.act("securityhub.enable_hub", region=EU), view, True)
    finally:
        if not view():
            sh.enable_security_hub(EnableDefaultStandards=True)


# --- accessanalyzer.create_analyzer ------------------------------------------------------------------
class FakeAccessAnalyzer:
    """IAM Access Analyzer for one account and region, answering on a session's clients (moto has
    none). boto3 validates each call against the service model before it gets here."""

    def __init__(self, account: str, region: str) -> None:
        self.account, self.region = account, region
        self.analyzers: dict[str, dict[str, Any]] = {}

    def install(self, session: boto3.Session) -> boto3.Session:
        session.events.register("before-parameter-build.accessanalyzer", self._keep_params)
        session.events.register("before-call.accessanalyzer", self._answer)
        return session

    def add(self, name: str, type_: str = "ACCOUNT", status: str = "ACTIVE") -> None:
        arn = f"arn:aws:access-analyzer:{self.region}:{self.account}:analyzer/{name}"
        self.analyzers[name] = {"arn": arn, "name": name, "type": type_, "status": status,
                                "createdAt": "2026-11-20T10:00:00Z", "tags": {}}  # fmt: skip

    @staticmethod
    def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["api_params"] = dict(params)

    def _answer(self, model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        p = context["api_params"]
        if model.name == "ListAnalyzers":
            found = [a for a in self.analyzers.values() if a["type"] == p.get("type", a["type"])]
            return self._ok({"analyzers": found})
        name = p["analyzerName"]
        if model.name == "CreateAnalyzer":
            if name in self.analyzers:
                return self._error(409, "ConflictException", f"analyzer {name} exists")
            self.add(name, p["type"])
            self.analyzers[name]["tags"] = p.get("tags", {})
            return self._ok({"arn": self.analyzers[name]["arn"]})
        if model.name == "DeleteAnalyzer" and self.analyzers.pop(name, None):
            return self._ok({})
        return self._error(404, "ResourceNotFoundException", f"analyzer {name} not found")

    @staticmethod
    def _ok(body: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("", 200, {}, None), body | {"ResponseMetadata": {"HTTPStatusCode": 200}}

    @staticmethod
    def _error(status: int, code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("", status, {}, None), {"Error": {"Code": code, "Message": message},
                                                   "ResponseMetadata": {"HTTPStatusCode": status}}  # fmt: skip


def test_create_analyzer(env: Env) -> None:
    account = env.account("sandbox")
    fake = FakeAccessAnalyzer(account, EU)
    session = fake.install(Responder.for_home(env.home).session(account, EU))  # its own, not the shared one

    def make(**params: Any) -> Action[Any]:
        base = {"account_id": account, "region": EU, "incident": "INC-7"}
        return ACTIONS.get("accessanalyzer.create_analyzer").build(session, base | params)

    def view() -> list[tuple[str, str, str]]:
        return sorted((a["name"], a["type"], a["status"]) for a in fake.analyzers.values())

    fake.add("unused-access", "ACCOUNT_UNUSED_ACCESS")  # finds unused access, not external access
    result = lifecycle(make, view, [("cloudsoc-account-analyzer", "ACCOUNT", "ACTIVE"),
                                    ("unused-access", "ACCOUNT_UNUSED_ACCESS", "ACTIVE")])  # fmt: skip
    assert result.applied["created"] == "cloudsoc-account-analyzer"
    ours = make(analyzer_name="ours").apply()
    assert ours.status == "applied" and fake.analyzers["ours"]["tags"] == {"cloudsoc:incident": "INC-7"}
    make(analyzer_name="ours").revert(ours)
    assert "ours" not in fake.analyzers
    # an organization analyzer already finds external access: nothing to do, and nothing to undo
    fake.add("org", "ORGANIZATION")
    make().revert(assert_done(make()))
    assert view() == [("org", "ORGANIZATION", "ACTIVE"), ("unused-access", "ACCOUNT_UNUSED_ACCESS", "ACTIVE")]
    del fake.analyzers["org"]
    fake.add("cloudsoc-account-analyzer", status="FAILED")  # the name is taken by one that does not work
    with pytest.raises(ActionError, match="FAILED"):
        make().plan()


# --- config.enable_recorder --------------------------------------------------------------------------
@dataclass
class ConfigSetup:
    """The landing zone's AWS Config in one account and region, and how to put it back."""

    cfg: Any
    recorder: dict[str, Any]
    channel: dict[str, Any]

    def view(self) -> dict[str, Any]:
        recorders = self.cfg.describe_configuration_recorders()["ConfigurationRecorders"]
        statuses = self.cfg.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
        return {"recorders": [(r["name"], r["roleARN"], r["recordingGroup"]["allSupported"],
                               r["recordingGroup"]["includeGlobalResourceTypes"]) for r in recorders],
                "recording": [s["name"] for s in statuses if s["recording"]],
                "channels": [(c["name"], c["s3BucketName"]) for c in self.cfg.describe_delivery_channels()["DeliveryChannels"]]}  # fmt: skip

    def remove(self) -> None:
        self.cfg.stop_configuration_recorder(ConfigurationRecorderName=self.recorder["name"])
        self.cfg.delete_delivery_channel(DeliveryChannelName=self.channel["name"])
        self.cfg.delete_configuration_recorder(ConfigurationRecorderName=self.recorder["name"])

    def restore(self) -> None:
        with contextlib.suppress(ClientError):
            self.cfg.stop_configuration_recorder(ConfigurationRecorderName=self.recorder["name"])
        self.cfg.put_configuration_recorder(ConfigurationRecorder=self.recorder)
        if not self.cfg.describe_delivery_channels()["DeliveryChannels"]:
            self.cfg.put_delivery_channel(DeliveryChannel=self.channel)
        self.cfg.start_configuration_recorder(ConfigurationRecorderName=self.recorder["name"])


@pytest.fixture
def config(env: Env) -> Iterator[ConfigSetup]:
    cfg = env.client("config", region=EU)
    [recorder] = cfg.describe_configuration_recorders()["ConfigurationRecorders"]
    [channel] = cfg.describe_delivery_channels()["DeliveryChannels"]
    setup = ConfigSetup(cfg, recorder, channel)
    original = setup.view()
    assert original["recording"] == ["default"]
    yield setup
    if setup.view() != original:
        setup.restore()
    assert setup.view() == original


def test_enable_recorder_starts_a_stopped_one(env: Env, config: ConfigSetup) -> None:
    assert_done(env.act("config.enable_recorder", region=EU))
    config.cfg.stop_configuration_recorder(ConfigurationRecorderName="default")
    result = lifecycle(lambda: env.act("config.enable_recorder", region=EU), config.view,
                       config.view() | {"recording": ["default"]})  # fmt: skip
    assert result.applied["started"] == "default" and not result.applied["created_recorder"]


def test_enable_recorder_widens_one_that_records_some_types(env: Env, config: ConfigSetup) -> None:
    narrow = config.recorder | {"recordingGroup": {"allSupported": False, "includeGlobalResourceTypes": False,
                                                   "resourceTypes": ["AWS::S3::Bucket"]}}  # fmt: skip
    config.cfg.put_configuration_recorder(ConfigurationRecorder=narrow)
    view = config.view()
    wide = view | {"recorders": [(*view["recorders"][0][:2], True, True)]}
    lifecycle(lambda: env.act("config.enable_recorder", region=EU), config.view, wide)
    recorder = config.cfg.describe_configuration_recorders()["ConfigurationRecorders"][0]
    assert recorder["recordingGroup"]["resourceTypes"] == ["AWS::S3::Bucket"]  # the narrow one, exactly


def test_enable_recorder_adds_global_types_only_when_asked(env: Env, config: ConfigSetup) -> None:
    # the landing zone records global resource types in its home region only
    assert config.view()["recorders"][0][2:] == (True, False)
    assert_done(env.act("config.enable_recorder", region=EU))
    view = config.view()
    wide = view | {"recorders": [(*view["recorders"][0][:2], True, True)]}
    lifecycle(
        lambda: env.act("config.enable_recorder", region=EU, include_global_resources=True), config.view, wide
    )


def test_enable_recorder_creates_recorder_channel_and_service_role(env: Env, config: ConfigSetup) -> None:
    account, iam = env.account("sandbox"), env.client("iam")
    config.remove()
    with pytest.raises(ActionError, match="give a bucket"):
        env.act("config.enable_recorder", region=EU).plan()
    bucket = env.state.trail_bucket
    role = f"arn:aws:iam::{account}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"

    def service_roles() -> list[str]:
        return [
            r["RoleName"]
            for r in iam.list_roles(PathPrefix="/aws-service-role/config.amazonaws.com/")["Roles"]
        ]

    assert service_roles() == []
    made = {
        "recorders": [("default", role, True, True)],
        "recording": ["default"],
        "channels": [("default", bucket)],
    }
    result = lifecycle(lambda: env.act("config.enable_recorder", region=EU, bucket=bucket), config.view, made)
    assert result.applied["created_recorder"] == "default" and result.applied["created_channel"] == "default"
    assert result.applied["created_role"] and result.changes[0].startswith(
        "create AWS Config's service-linked role"
    )
    assert service_roles() == []  # deleted by the revert too
    # a role of one's own, and global resources left to another region
    own = f"arn:aws:iam::{account}:role/config-recorder"
    result = lifecycle(
        lambda: env.act("config.enable_recorder", region=EU, bucket=bucket, role_arn=own,
                        include_global_resources=False), config.view,
        made | {"recorders": [("default", own, True, False)]})  # fmt: skip
    assert result.applied["created_role"] is None


# --- rds.disable_public_access -----------------------------------------------------------------------
def test_disable_public_access(env: Env) -> None:
    rds = env.client("rds", account="prod")
    db = unique("posture-db")
    rds.create_db_instance(DBInstanceIdentifier=db, DBInstanceClass="db.t3.micro", Engine="postgres",
                           MasterUsername="app", MasterUserPassword="Sandbox-Passw0rd!", AllocatedStorage=20,
                           PubliclyAccessible=True)  # fmt: skip

    def view() -> bool:
        return bool(
            rds.describe_db_instances(DBInstanceIdentifier=db)["DBInstances"][0].get("PubliclyAccessible")
        )

    try:
        lifecycle(
            lambda: env.act("rds.disable_public_access", account="prod", db_instance_id=db), view, False
        )
        assert view() is True
        closed = env.act("rds.disable_public_access", account="prod", db_instance_id=db)
        applied = closed.apply()  # and the database deleted before the revert
    finally:
        rds.delete_db_instance(DBInstanceIdentifier=db, SkipFinalSnapshot=True)
    assert_done(env.act("rds.disable_public_access", account="prod", db_instance_id=db))
    with pytest.raises(ActionError, match="is gone"):
        closed.revert(applied)
    # the landing zone's database is private already
    assert_done(env.act("rds.disable_public_access", account="prod",
                        db_instance_id=env.state.resources["prod"]["db_instance"]))  # fmt: skip
