"""The EC2 and logging response actions against the sandbox: every action plans without changing
anything, applies, is already done the second time, reverts to the exact original state, and counts
a missing target as done. Each test makes (or restores) what it changes: the sandbox is shared by
every test of a worker."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from cloudsoc.aws.sandbox import Sandbox, SandboxState
from cloudsoc.aws.session import client
from cloudsoc.core.config import Home
from cloudsoc.respond.access import Responder
from cloudsoc.respond.action import ACTIONS, Action, ActionError
from tests.action_fixtures import lifecycle

FOREIGN = "999988887777"  # an account outside the organization


@dataclass
class Env:
    state: SandboxState
    responder: Responder
    prod: str  # account ids
    dev: str
    management: str
    _admins: dict[tuple[str, str], boto3.Session] = field(default_factory=dict)
    _clients: dict[tuple[str, str, str], Any] = field(default_factory=dict)

    def act(
        self, name: str, account: str | None = None, region: str = "us-east-1", **params: Any
    ) -> Action[Any]:
        acct = account or self.prod
        session = self.responder.session(acct, region)
        return ACTIONS.get(name).build(session, {"account_id": acct, "region": region, **params})

    def admin(self, account: str = "prod", region: str = "us-east-1") -> boto3.Session:
        key = (account, region)
        if key not in self._admins:
            self._admins[key] = Sandbox.account_admin(self.state, account, region)
        return self._admins[key]

    def client(self, service: str, account: str = "prod", region: str = "us-east-1") -> Any:
        key = (service, account, region)
        if key not in self._clients:
            self._clients[key] = client(service, session=self.admin(account, region))
        return self._clients[key]

    def ec2(self) -> Any:
        return self.client("ec2")


@pytest.fixture(scope="module")
def env(sandbox_home: Home) -> Env:
    state = Sandbox(sandbox_home.root).state()
    a = state.accounts
    return Env(state, Responder.for_home(sandbox_home), a["prod"], a["dev"], a["management"])


def uid() -> str:
    return uuid.uuid4().hex[:8]


def canon(items: list[dict[str, Any]]) -> list[str]:
    """Order-free comparison of API permission lists, nested lists too (empty fields ignored)."""

    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items() if v not in ([], None)}
        if isinstance(value, list):
            return sorted((norm(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
        return value

    return sorted(json.dumps(norm(i), sort_keys=True) for i in items)


# --- ec2.isolate_instance ----------------------------------------------------------------------------
@dataclass
class Scaled:
    instance: str
    group: str
    target_groups: dict[str, int | None]  # arn -> registered port (None: the group's default)
    vpc: str


@pytest.fixture
def scaled(env: Env) -> Iterator[Scaled]:
    """An instance launched by an Auto Scaling group (from a launch template) and registered in two
    ALB target groups, one on a custom port."""
    ec2, asg, elb = env.ec2(), env.client("autoscaling"), env.client("elbv2")
    res, u = env.state.resources["prod"], uid()
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    lt = ec2.create_launch_template(LaunchTemplateName=f"isolate-{u}", LaunchTemplateData={
        "ImageId": ami, "InstanceType": "t3.micro", "SecurityGroupIds": [res["security_groups"]["web"]]})  # fmt: skip
    lt_id = lt["LaunchTemplate"]["LaunchTemplateId"]
    name = f"isolate-{u}"
    asg.create_auto_scaling_group(AutoScalingGroupName=name, LaunchTemplate={"LaunchTemplateId": lt_id},
                                  MinSize=1, MaxSize=2, DesiredCapacity=1, VPCZoneIdentifier=res["subnet"])  # fmt: skip
    iid = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]["Instances"][
        0
    ]["InstanceId"]
    tgs: dict[str, int | None] = {}
    for i, port in enumerate((8080, None)):
        arn = elb.create_target_group(Name=f"isolate-{u}-{i}", Protocol="HTTP", Port=80, VpcId=res["vpc"],
                                      TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
        elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": iid, **({"Port": port} if port else {})}])
        tgs[arn] = port
    az = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["Placement"][
        "AvailabilityZone"
    ]
    vol = ec2.create_volume(AvailabilityZone=az, Size=8)["VolumeId"]
    ec2.attach_volume(VolumeId=vol, InstanceId=iid, Device="/dev/sdg")
    try:
        yield Scaled(iid, name, tgs, res["vpc"])
    finally:
        ec2.modify_instance_attribute(InstanceId=iid, DisableApiTermination={"Value": False})
        asg.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)
        ec2.terminate_instances(InstanceIds=[iid])
        for arn in tgs:
            elb.delete_target_group(TargetGroupArn=arn)
        ec2.delete_launch_template(LaunchTemplateId=lt_id)
        _drop_quarantine(ec2, res["vpc"])


def _drop_quarantine(ec2: Any, vpc: str) -> None:
    for g in _quarantine(ec2, vpc):
        with contextlib.suppress(ClientError):
            ec2.delete_security_group(GroupId=g["GroupId"])


def _quarantine(ec2: Any, vpc: str) -> list[dict[str, Any]]:
    filters = [{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["cloudsoc-quarantine"]}]
    return list(ec2.describe_security_groups(Filters=filters)["SecurityGroups"])


def _targets(elb: Any, arn: str) -> list[tuple[str, int | None]]:
    health = elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    return sorted((h["Target"]["Id"], h["Target"].get("Port")) for h in health)


def _isolation_view(env: Env, s: Scaled) -> dict[str, Any]:
    ec2, asg, elb = env.ec2(), env.client("autoscaling"), env.client("elbv2")
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[s.group])["AutoScalingGroups"][0]
    inst = ec2.describe_instances(InstanceIds=[s.instance])["Reservations"][0]["Instances"][0]
    prot = ec2.describe_instance_attribute(InstanceId=s.instance, Attribute="disableApiTermination")
    return {
        "asg": ([i["InstanceId"] for i in group["Instances"]], group["MinSize"], group["DesiredCapacity"]),
        "targets": {arn: _targets(elb, arn) for arn in s.target_groups},
        "enis": {
            e["NetworkInterfaceId"]: sorted(g["GroupId"] for g in e["Groups"])
            for e in inst["NetworkInterfaces"]
        },
        "protected": prot["DisableApiTermination"]["Value"],
        "delete_on_termination": {
            m["DeviceName"]: m["Ebs"]["DeleteOnTermination"] for m in inst["BlockDeviceMappings"]
        },
        "quarantine": [
            (g["GroupId"], g["IpPermissions"], g["IpPermissionsEgress"]) for g in _quarantine(ec2, s.vpc)
        ],
    }


def test_isolate_instance(env: Env, scaled: Scaled) -> None:
    web_sg = env.state.resources["prod"]["security_groups"]["web"]
    before = _isolation_view(env, scaled)
    assert before["asg"] == ([scaled.instance], 1, 1)
    assert list(before["enis"].values()) == [[web_sg]]
    assert before["quarantine"] == []
    assert (
        True in before["delete_on_termination"].values()
        and before["delete_on_termination"]["/dev/sdg"] is False
    )

    def isolated(view: dict[str, Any]) -> None:
        assert view["asg"] == (
            [],
            0,
            0,
        )  # detached, desired capacity (and the minimum) lowered: no replacement
        assert all(targets == [] for targets in view["targets"].values())
        [(qid, ingress, egress)] = view["quarantine"]
        assert (ingress, egress) == ([], [])
        assert list(view["enis"].values()) == [[qid]]
        assert view["protected"] is True
        assert set(view["delete_on_termination"].values()) == {False}

    act = partial(env.act, "ec2.isolate_instance", instance_id=scaled.instance, incident="INC-iso")
    result = lifecycle(act, lambda: _isolation_view(env, scaled), isolated)
    assert result.applied["created_quarantine_group"] is True
    assert {tg["arn"]: tg["port"] for tg in result.before["target_groups"]} == {
        arn: port or 80 for arn, port in scaled.target_groups.items()
    }
    # the revert put every registration back with its port
    assert _isolation_view(env, scaled)["targets"] == {
        arn: [(scaled.instance, port or 80)] for arn, port in scaled.target_groups.items()
    }


def test_isolate_reuses_an_existing_quarantine_group_and_empties_it(env: Env) -> None:
    ec2 = env.ec2()
    res = env.state.resources["prod"]
    iid = res["instances"]["bastion"]
    qid = ec2.create_security_group(GroupName="cloudsoc-quarantine", Description="q", VpcId=res["vpc"])[
        "GroupId"
    ]
    ec2.authorize_security_group_ingress(GroupId=qid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])  # fmt: skip
    act = env.act("ec2.isolate_instance", instance_id=iid)
    try:
        result = act.apply()
        assert result.applied == {"quarantine_group": qid, "created_quarantine_group": False}
        group = ec2.describe_security_groups(GroupIds=[qid])["SecurityGroups"][0]
        assert (group["IpPermissions"], group["IpPermissionsEgress"]) == ([], [])
        inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
        assert [g["GroupId"] for g in inst["NetworkInterfaces"][0]["Groups"]] == [qid]
        act.revert(result)
        inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
        assert [g["GroupId"] for g in inst["NetworkInterfaces"][0]["Groups"]] == [
            res["security_groups"]["bastion"]
        ]
        assert ec2.describe_security_groups(GroupIds=[qid])["SecurityGroups"]  # not ours to delete
        prot = ec2.describe_instance_attribute(InstanceId=iid, Attribute="disableApiTermination")
        assert prot["DisableApiTermination"]["Value"] is False
    finally:
        ec2.modify_instance_attribute(InstanceId=iid, Groups=[res["security_groups"]["bastion"]])
        ec2.modify_instance_attribute(InstanceId=iid, DisableApiTermination={"Value": False})
        ec2.delete_security_group(GroupId=qid)


# --- ec2.snapshot_volumes ----------------------------------------------------------------------------
def _evidence(ec2: Any, incident: str) -> list[dict[str, Any]]:
    filters = [{"Name": "tag:cloudsoc:incident", "Values": [incident]}]
    return list(ec2.describe_snapshots(OwnerIds=["self"], Filters=filters)["Snapshots"])


def test_snapshot_volumes(env: Env) -> None:
    ec2 = env.ec2()
    res = env.state.resources["prod"]
    iid, incident = res["instances"]["database"], f"INC-{uid()}"
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    volumes = {m["Ebs"]["VolumeId"] for m in inst["BlockDeviceMappings"]}
    assert res["data_volume"] in volumes and len(volumes) == 2
    make = partial(env.act, "ec2.snapshot_volumes", instance_id=iid, incident=incident)
    try:
        assert len(make().plan().changes) == 2 and _evidence(ec2, incident) == []
        result = make().apply()
        assert result.status == "applied"
        snaps = _evidence(ec2, incident)
        assert {s["VolumeId"] for s in snaps} == volumes
        for s in snaps:
            tags = {t["Key"]: t["Value"] for t in s["Tags"]}
            assert tags == {"cloudsoc:incident": incident, "cloudsoc:source-instance": iid,
                            "cloudsoc:source-volume": s["VolumeId"], "cloudsoc:evidence": "true"}  # fmt: skip
        taken = {s["volume_id"]: s["snapshot_id"] for s in result.applied["snapshots"]}
        assert taken == {s["VolumeId"]: s["SnapshotId"] for s in snaps}
        assert result.artifacts["snapshots"] == result.applied["snapshots"]
        assert {v["volume_id"]: v["size"] for v in result.artifacts["volumes"]}[res["data_volume"]] == 100
        assert make().apply().status == "already_done"
        # one snapshot lost: only its volume is taken again
        ec2.delete_snapshot(SnapshotId=taken[res["data_volume"]])
        again = make().apply()
        assert [s["volume_id"] for s in again.applied["snapshots"]] == [res["data_volume"]]
        assert len(_evidence(ec2, incident)) == 2
        # another incident gets its own evidence
        assert (
            len(env.act("ec2.snapshot_volumes", instance_id=iid, incident=f"{incident}-b").plan().changes)
            == 2
        )
        with pytest.raises(ActionError):
            make().revert(result)
    finally:
        for s in _evidence(ec2, incident):
            ec2.delete_snapshot(SnapshotId=s["SnapshotId"])


# --- ec2.capture_instance ----------------------------------------------------------------------------
def test_capture_instance(env: Env) -> None:
    ec2 = env.ec2()
    res = env.state.resources["prod"]
    iid = res["instances"]["web"]

    def view() -> Any:
        return ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]

    before = view()
    make = partial(env.act, "ec2.capture_instance", instance_id=iid, incident="INC-cap")
    plan = make().plan()
    assert any("instance profile" in c and "web-app-role" in c for c in plan.changes)
    assert any("console output" in c for c in plan.changes)
    result = make().apply()
    assert result.status == "applied" and view() == before  # nothing changed
    art = result.artifacts
    assert art["instance"]["InstanceId"] == iid
    assert art["tags"] == {"Name": "prod-web", "tier": "web"}
    assert "yum install -y nginx" in art["attributes"]["userData"]["text"]
    assert art["attributes"]["disableApiTermination"] is False
    [role] = art["instance_profile"]["roles"]
    assert role["role"]["RoleName"] == "web-app-role"
    assert [p["PolicyName"] for p in role["attached_policies"]] == ["AmazonS3ReadOnlyAccess"]
    assert [g["GroupId"] for g in art["security_groups"]] == [res["security_groups"]["web"]]
    assert [e["NetworkInterfaceId"] for e in art["network_interfaces"]] == [
        e["NetworkInterfaceId"] for e in before["NetworkInterfaces"]
    ]
    assert {v["VolumeId"] for v in art["volumes"]} == {
        m["Ebs"]["VolumeId"] for m in before["BlockDeviceMappings"]
    }
    assert art["console_output"]["text"]
    json.dumps(result.model_dump())  # evidence is plain JSON
    # Evidence of a point in time: a second run captures afresh (and still changes nothing).
    assert make().apply().status == "applied" and view() == before
    with pytest.raises(ActionError):
        make().revert(result)


# --- ec2.revoke_open_ingress -------------------------------------------------------------------------
OPEN_SSH = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
            "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "ssh from anywhere"}, {"CidrIp": "10.0.0.0/8"}],
            "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}  # fmt: skip
ALL_OPEN = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}


@pytest.fixture
def open_group(env: Env) -> Iterator[str]:
    ec2 = env.ec2()
    res = env.state.resources["prod"]
    gid = ec2.create_security_group(GroupName=f"open-{uid()}", Description="open", VpcId=res["vpc"])[
        "GroupId"
    ]
    from_web = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                "UserIdGroupPairs": [{"GroupId": res["security_groups"]["web"]}]}  # fmt: skip
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[OPEN_SSH, ALL_OPEN, from_web])
    yield gid
    ec2.delete_security_group(GroupId=gid)


def test_revoke_open_ingress(env: Env, open_group: str) -> None:
    ec2 = env.ec2()
    web = env.state.resources["prod"]["security_groups"]["web"]

    def view() -> list[str]:
        return canon(
            ec2.describe_security_groups(GroupIds=[open_group])["SecurityGroups"][0]["IpPermissions"]
        )

    def closed(perms: list[str]) -> None:
        assert perms == canon([
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
             "UserIdGroupPairs": [{"GroupId": web, "UserId": env.prod}]},
        ])  # fmt: skip

    before = view()
    assert any('"Description": "ssh from anywhere"' in p for p in before)
    result = lifecycle(partial(env.act, "ec2.revoke_open_ingress", group_id=open_group), view, closed)
    assert len(result.changes) == 2 and result.applied["revoked"]


# --- ec2.unshare_snapshot / ec2.unshare_image ---------------------------------------------------------
@pytest.fixture
def shared_snapshot(env: Env) -> Iterator[str]:
    ec2 = env.ec2()
    vol = ec2.create_volume(AvailabilityZone=env.state.resources["prod"]["az"], Size=1)["VolumeId"]
    snap = ec2.create_snapshot(VolumeId=vol, Description="shared")["SnapshotId"]
    ec2.modify_snapshot_attribute(SnapshotId=snap, Attribute="createVolumePermission", OperationType="add",
                                  GroupNames=["all"], UserIds=[FOREIGN, env.dev])  # fmt: skip
    yield snap
    ec2.delete_snapshot(SnapshotId=snap)
    ec2.delete_volume(VolumeId=vol)


def test_unshare_snapshot(env: Env, shared_snapshot: str) -> None:
    ec2 = env.ec2()

    def view() -> list[str]:
        answer = ec2.describe_snapshot_attribute(
            SnapshotId=shared_snapshot, Attribute="createVolumePermission"
        )
        return canon(answer["CreateVolumePermissions"])

    assert view() == canon([{"Group": "all"}, {"UserId": FOREIGN}, {"UserId": env.dev}])
    act = partial(env.act, "ec2.unshare_snapshot", snapshot_id=shared_snapshot, allowed_accounts=[env.dev])
    lifecycle(act, view, lambda perms: assert_equal(perms, canon([{"UserId": env.dev}])))


@pytest.fixture
def shared_image(env: Env) -> Iterator[str]:
    ec2 = env.ec2()
    image = ec2.create_image(
        InstanceId=env.state.resources["prod"]["instances"]["bastion"], Name=f"shared-{uid()}"
    )
    iid = image["ImageId"]
    org = f"arn:aws:organizations::{env.management}:organization/{env.state.org_id}"
    ec2.modify_image_attribute(ImageId=iid, LaunchPermission={"Add": [
        {"Group": "all"}, {"UserId": FOREIGN}, {"UserId": env.dev}, {"OrganizationArn": org}]})  # fmt: skip
    yield iid
    ec2.deregister_image(ImageId=iid)


def test_unshare_image(env: Env, shared_image: str) -> None:
    ec2 = env.ec2()
    org = f"arn:aws:organizations::{env.management}:organization/{env.state.org_id}"

    def view() -> list[str]:
        return canon(
            ec2.describe_image_attribute(ImageId=shared_image, Attribute="launchPermission")[
                "LaunchPermissions"
            ]
        )

    assert len(view()) == 4
    act = partial(env.act, "ec2.unshare_image", image_id=shared_image, allowed_accounts=[env.dev])
    result = lifecycle(
        act, view, lambda p: assert_equal(p, canon([{"UserId": env.dev}, {"OrganizationArn": org}]))
    )
    assert canon(result.applied["removed"]) == canon([{"Group": "all"}, {"UserId": FOREIGN}])


def assert_equal(actual: Any, expected: Any) -> None:
    assert actual == expected


# --- cloudtrail.restore_trail -------------------------------------------------------------------------
BLINDING = [{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": False,
             "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]  # fmt: skip


def _trail_view(ct: Any, trail: str) -> tuple[bool, list[dict[str, Any]]]:
    return ct.get_trail_status(Name=trail)["IsLogging"], ct.get_event_selectors(TrailName=trail)[
        "EventSelectors"
    ]


def test_restore_organization_trail(env: Env) -> None:
    """The org trail in the management account, stopped and blinded by event selectors."""
    ct = env.client("cloudtrail", "management")
    arn = env.state.resources["management"]["trail_arn"]
    original = _trail_view(ct, "organization-trail")
    assert original[0] is True and original[1][0]["IncludeManagementEvents"] is True
    try:
        ct.put_event_selectors(TrailName="organization-trail", EventSelectors=BLINDING)
        ct.stop_logging(Name="organization-trail")

        def restored(view: tuple[bool, list[dict[str, Any]]]) -> None:
            logging, selectors = view
            assert logging is True
            assert canon(selectors) == canon([  # all management events back; the data selector kept
                {"ReadWriteType": "All", "IncludeManagementEvents": True},
                {**BLINDING[0], "IncludeManagementEvents": False},
            ])  # fmt: skip

        act = partial(env.act, "cloudtrail.restore_trail", account=env.management, trail=arn)
        lifecycle(act, lambda: _trail_view(ct, "organization-trail"), restored)
    finally:
        ct.put_event_selectors(TrailName="organization-trail", EventSelectors=original[1])
        ct.start_logging(Name="organization-trail")
    assert _trail_view(ct, "organization-trail") == original


def test_restore_trail_with_explicit_selectors(env: Env) -> None:
    ct = env.client("cloudtrail", "management")
    name = f"audit-{uid()}"
    ct.create_trail(Name=name, S3BucketName=env.state.trail_bucket)
    ct.start_logging(Name=name)
    wanted = [{"ReadWriteType": "All", "IncludeManagementEvents": True,
               "DataResources": [{"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}]}]  # fmt: skip
    try:
        ct.put_event_selectors(TrailName=name, EventSelectors=BLINDING)
        act = partial(
            env.act, "cloudtrail.restore_trail", account=env.management, trail=name, event_selectors=wanted
        )
        lifecycle(
            act,
            lambda: _trail_view(ct, name),
            lambda v: assert_equal((v[0], canon(v[1])), (True, canon(wanted))),
        )
    finally:
        ct.delete_trail(Name=name)


def test_recreate_deleted_trail(env: Env) -> None:
    ct = env.client("cloudtrail", "management")
    name = f"deleted-{uid()}"

    def view() -> Any:
        trails = [t for t in ct.describe_trails()["trailList"] if t["Name"] == name]
        return (
            (trails[0]["S3BucketName"], trails[0]["IsMultiRegionTrail"], *_trail_view(ct, name))
            if trails
            else None
        )

    def recreated(v: Any) -> None:
        assert v is not None
        bucket, multi_region, logging, selectors = v
        assert (bucket, multi_region, logging) == (env.state.trail_bucket, True, True)
        assert canon(selectors) == canon([{"ReadWriteType": "All", "IncludeManagementEvents": True}])

    bucket = env.state.trail_bucket
    act = partial(env.act, "cloudtrail.restore_trail", account=env.management, trail=name, s3_bucket=bucket)
    try:
        lifecycle(act, view, recreated)
    finally:
        if view() is not None:
            ct.delete_trail(Name=name)


# --- guardduty.enable_detector ------------------------------------------------------------------------
def _detector_status(gd: Any, detector: str) -> str:
    return str(gd.get_detector(DetectorId=detector)["Status"])


def test_enable_suspended_detector(env: Env) -> None:
    detector = env.state.resources["prod"]["guardduty_detectors"]["us-east-1"]
    gd = env.client("guardduty")
    view = partial(_detector_status, gd, detector)
    gd.update_detector(DetectorId=detector, Enable=False)
    try:
        act = partial(env.act, "guardduty.enable_detector", detector_id=detector)
        lifecycle(act, view, lambda status: assert_equal(status, "ENABLED"))
        assert view() == "DISABLED"
        # without an id: the region's detector
        assert env.act("guardduty.enable_detector").plan().before["detector_id"] == detector
    finally:
        gd.update_detector(DetectorId=detector, Enable=True)


def test_create_detector_where_none_exists(env: Env) -> None:
    region = "us-west-2"  # the landing zone turns GuardDuty on in us-east-1 and eu-west-1 only
    gd = env.client("guardduty", region=region)

    def view() -> list[str]:
        return [gd.get_detector(DetectorId=d)["Status"] for d in gd.list_detectors()["DetectorIds"]]

    assert view() == []
    act = partial(env.act, "guardduty.enable_detector", region=region, incident="INC-gd")
    try:
        result = lifecycle(act, view, lambda statuses: assert_equal(statuses, ["ENABLED"]))
        assert result.applied["created"]
    finally:
        for d in gd.list_detectors()["DetectorIds"]:
            gd.delete_detector(DetectorId=d)


# --- ec2.restore_flow_logs ----------------------------------------------------------------------------
def test_restore_flow_logs(env: Env) -> None:
    ec2 = env.ec2()
    vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    bucket_arn = f"arn:aws:s3:::prod-network-logs-{env.prod}"

    def view() -> list[tuple[str, str, str, str]]:
        logs = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc]}])["FlowLogs"]
        return [
            (f["FlowLogStatus"], f["TrafficType"], f["LogDestinationType"], f["LogDestination"]) for f in logs
        ]

    act = partial(env.act, "ec2.restore_flow_logs", vpc_id=vpc, log_destination=bucket_arn, incident="INC-fl")
    try:
        result = lifecycle(act, view, lambda logs: assert_equal(logs, [("ACTIVE", "ALL", "s3", bucket_arn)]))
        assert result.applied["created"].startswith("fl-")
        # the landing zone's VPC has its flow log: nothing to do
        prod_vpc = env.state.resources["prod"]["vpc"]
        assert env.act(
            "ec2.restore_flow_logs", vpc_id=prod_vpc, log_destination=bucket_arn
        ).apply().status == ("already_done")
    finally:
        ids = [
            f["FlowLogId"]
            for f in ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc]}])["FlowLogs"]
        ]
        if ids:
            ec2.delete_flow_logs(FlowLogIds=ids)
        ec2.delete_vpc(VpcId=vpc)


# --- targets that do not exist ------------------------------------------------------------------------
MISSING: list[tuple[str, dict[str, Any]]] = [
    ("ec2.isolate_instance", {"instance_id": "i-0123456789abcdef0"}),
    ("ec2.snapshot_volumes", {"instance_id": "i-0123456789abcdef0"}),
    ("ec2.capture_instance", {"instance_id": "i-0123456789abcdef0"}),
    ("ec2.revoke_open_ingress", {"group_id": "sg-0123456789abcdef0"}),
    ("ec2.unshare_snapshot", {"snapshot_id": "snap-0123456789abcdef0"}),
    ("ec2.unshare_image", {"image_id": "ami-0123456789abcdef0"}),
    ("ec2.restore_flow_logs", {"vpc_id": "vpc-0123456789abcdef0", "log_destination": "arn:aws:s3:::nowhere"}),
    ("cloudtrail.restore_trail", {"trail": "no-such-trail"}),
    ("guardduty.enable_detector", {"detector_id": "0123456789abcdef0123456789abcdef"}),  # the region's is on
]


@pytest.mark.parametrize(("name", "params"), MISSING, ids=[m[0] for m in MISSING])
def test_missing_target_is_already_done(env: Env, name: str, params: dict[str, Any]) -> None:
    account = env.management if name.startswith("cloudtrail.") else None
    act = env.act(name, account=account, **params)
    assert act.plan().changes == []
    assert act.apply().status == "already_done"


def test_declarations() -> None:
    names = ["ec2.isolate_instance", "ec2.snapshot_volumes", "ec2.capture_instance", "ec2.revoke_open_ingress",
             "ec2.unshare_snapshot", "ec2.unshare_image", "cloudtrail.restore_trail", "guardduty.enable_detector",
             "ec2.restore_flow_logs"]  # fmt: skip
    for name in names:
        cls = ACTIONS.get(name)
        assert cls.name == name and cls.summary and cls.permissions
        assert all(":" in p for p in (*cls.permissions, *cls.revert_permissions)), name
        assert not cls.reversible or cls.revert_permissions, name
    evidence = {n for n in names if not ACTIONS.get(n).changes_aws}
    assert evidence == {"ec2.snapshot_volumes", "ec2.capture_instance"}
    assert not any(ACTIONS.get(n).reversible for n in evidence)


def _restore_trail(**params: Any) -> Any:
    """The action without AWS: only its selector logic runs."""
    return ACTIONS.get("cloudtrail.restore_trail").build(
        boto3.Session(region_name="us-east-1"), {"account_id": "111122220001", "trail": "t", **params}
    )


def _trail_state(basic: list[dict[str, Any]], advanced: list[dict[str, Any]]) -> dict[str, Any]:
    return {"event_selectors": basic, "advanced_event_selectors": advanced}


def test_trail_selectors_default_keeps_data_events_and_restores_management() -> None:
    act = _restore_trail()
    s3 = {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}
    # management events excluded from a source (KMS) do not count as recorded
    narrowed = [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [s3],
                 "ExcludeManagementEventSources": ["kms.amazonaws.com"]}]  # fmt: skip
    kind, sels = act.target_selectors(_trail_state(narrowed, []))
    assert kind == "EventSelectors"
    assert sels == [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [s3],
                     "ExcludeManagementEventSources": []}]  # fmt: skip
    assert act.target_selectors(_trail_state(sels, [])) is None
    assert act.target_selectors(_trail_state([], [])) is None  # no custom selectors: all management events
    write_only = [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True, "DataResources": []}]
    assert act.target_selectors(_trail_state(write_only, [])) == ("EventSelectors", [
        {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}])  # fmt: skip


def test_trail_selectors_advanced() -> None:
    act = _restore_trail()
    data = {"Name": "s3", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                             {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}  # fmt: skip
    read_only = {"Name": "m", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                                 {"Field": "readOnly", "Equals": ["true"]}]}  # fmt: skip
    kind, sels = act.target_selectors(_trail_state([], [read_only, data]))
    assert kind == "AdvancedEventSelectors"
    assert sels == [{"Name": "Management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
                    data]  # fmt: skip
    assert act.target_selectors(_trail_state([], sels)) is None
    explicit = _restore_trail(event_selectors=[data])
    assert explicit.target_selectors(_trail_state([], [data])) is None
    assert explicit.target_selectors(_trail_state([], [read_only])) == ("AdvancedEventSelectors", [data])
