"""EC2 and VPC checks on hand-written inventories (the API answers as boto3 returns them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cloudsoc.posture.check import CHECKS, Result
from cloudsoc.posture.inventory import Inventory
from tests.posture_fixtures import ACCOUNT, fix_of, inventory, run, statuses

REGION = "us-east-1"


def ec2(ops: dict[str, dict[str, Any]], errors: Sequence[tuple[str, str, str, str, str]] = ()) -> Inventory:
    return inventory({REGION: {"ec2": ops}}, errors=list(errors), regions=[REGION])


def ec2_arn(kind: str, ident: str) -> str:
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:{kind}/{ident}"


def fix_params(check_id: str, result: Result) -> dict[str, Any]:
    """The parameters of the fix of ``check_id``'s result; the action accepts them."""
    assert result.check == check_id
    return fix_of(result)[1]


# -- instances ----------------------------------------------------------------------------------
def instance(iid: str, state: str = "running", **over: Any) -> dict[str, Any]:
    base = {"InstanceId": iid, "ImageId": "ami-0abcdef1234567890", "InstanceType": "t3.micro",
            "State": {"Code": 16, "Name": state}, "PrivateIpAddress": "10.10.1.10", "SubnetId": "subnet-1",
            "VpcId": "vpc-1", "MetadataOptions": {"State": "applied", "HttpTokens": "optional",
                                                  "HttpPutResponseHopLimit": 1, "HttpEndpoint": "enabled"}}  # fmt: skip
    return base | over


def reservations(*instances: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {"DescribeInstances": {"": {"Reservations": [
        {"ReservationId": f"r-{i['InstanceId']}", "OwnerId": ACCOUNT, "Instances": [i]} for i in instances]}}}  # fmt: skip


def test_instance_profile() -> None:
    profile = {"Arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/web", "Id": "AIPA1"}
    inv = ec2(reservations(instance("i-web", IamInstanceProfile=profile), instance("i-db"),
                           instance("i-old", state="stopped")))  # fmt: skip
    assert statuses(run("ec2_instance_uses_instance_profile", inv)) == {
        ec2_arn("instance", "i-web"): "PASS", ec2_arn("instance", "i-db"): "FAIL"}  # fmt: skip


def test_imdsv2() -> None:
    required = {"HttpTokens": "required", "HttpEndpoint": "enabled"}
    inv = ec2(reservations(instance("i-v2", MetadataOptions=required), instance("i-v1"),
                           instance("i-off", state="stopped", MetadataOptions={"HttpTokens": "optional",
                                                                               "HttpEndpoint": "disabled"}),
                           instance("i-gone", state="terminated")))  # fmt: skip
    results = run("ec2_instance_imdsv2", inv)
    assert statuses(results) == {ec2_arn("instance", "i-v2"): "PASS", ec2_arn("instance", "i-v1"): "FAIL",
                                 ec2_arn("instance", "i-off"): "PASS"}  # fmt: skip
    failed = next(r for r in results if r.status == "FAIL")
    assert CHECKS.get("ec2_instance_imdsv2").fix == "ec2.require_imdsv2"
    assert fix_params("ec2_instance_imdsv2", failed) == {
        "account_id": ACCOUNT,
        "region": REGION,
        "instance_id": "i-v1",
    }


def test_public_ip() -> None:
    inv = ec2(reservations(instance("i-public", PublicIpAddress="203.0.113.7"), instance("i-private")))
    results = {r.resource: r for r in run("ec2_instance_no_public_ip", inv)}
    assert results[ec2_arn("instance", "i-public")].status == "FAIL"
    assert results[ec2_arn("instance", "i-public")].evidence["PublicIpAddress"] == "203.0.113.7"
    assert results[ec2_arn("instance", "i-private")].status == "PASS"


# -- EBS ----------------------------------------------------------------------------------------
def test_ebs_default_encryption() -> None:
    def default(on: bool) -> Inventory:
        return ec2({"GetEbsEncryptionByDefault": {"": {"EbsEncryptionByDefault": on, "SseType": "sse-ebs"}}})

    assert run("ec2_ebs_default_encryption", default(True))[0].status == "PASS"
    [off] = run("ec2_ebs_default_encryption", default(False))
    assert off.status == "FAIL" and off.region == REGION
    assert fix_params("ec2_ebs_default_encryption", off) == {"account_id": ACCOUNT, "region": REGION}
    denied = ec2({}, errors=[(REGION, "ec2", "GetEbsEncryptionByDefault", "", "UnauthorizedOperation")])
    [error] = run("ec2_ebs_default_encryption", denied)
    assert error.status == "ERROR" and error.evidence["permission"] == "ec2:GetEbsEncryptionByDefault"


def test_volume_encrypted() -> None:
    def volume(vid: str, encrypted: bool) -> dict[str, Any]:
        return {"VolumeId": vid, "Size": 100, "AvailabilityZone": "us-east-1a", "State": "in-use", "VolumeType": "gp3",
                "CreateTime": "2026-11-01T10:00:00+00:00", "Encrypted": encrypted,
                "Attachments": [{"VolumeId": vid, "InstanceId": "i-db", "Device": "/dev/sdf", "State": "attached"}]}  # fmt: skip

    inv = ec2({"DescribeVolumes": {"": {"Volumes": [volume("vol-plain", False), volume("vol-kms", True)]}}})
    assert statuses(run("ec2_volume_encrypted", inv)) == {ec2_arn("volume", "vol-plain"): "FAIL",
                                                          ec2_arn("volume", "vol-kms"): "PASS"}  # fmt: skip


def test_snapshot_public_each_judged_alone() -> None:
    snaps = [{"SnapshotId": s, "VolumeId": "vol-1", "State": "completed", "OwnerId": ACCOUNT, "Encrypted": False,
              "StartTime": "2026-11-01T10:00:00+00:00", "VolumeSize": 100} for s in ("snap-pub", "snap-priv", "snap-x")]  # fmt: skip
    inv = ec2({"DescribeSnapshots": {"": {"Snapshots": snaps}}, "DescribeSnapshotAttribute": {
        "snap-pub": {"SnapshotId": "snap-pub", "CreateVolumePermissions": [{"Group": "all"}, {"UserId": "210987654321"}]},
        "snap-priv": {"SnapshotId": "snap-priv", "CreateVolumePermissions": [{"UserId": "210987654321"}]}}},
        errors=[(REGION, "ec2", "DescribeSnapshotAttribute", "snap-x", "UnauthorizedOperation")])  # fmt: skip
    results = {r.resource.rsplit("/", 1)[-1]: r for r in run("ec2_snapshot_not_public", inv)}
    assert {k: r.status for k, r in results.items()} == {
        "snap-pub": "FAIL",
        "snap-priv": "PASS",
        "snap-x": "ERROR",
    }
    assert results["snap-pub"].resource == f"arn:aws:ec2:{REGION}::snapshot/snap-pub"
    # the FAIL is about "all": the account it is shared with by name keeps its access
    assert fix_params("ec2_snapshot_not_public", results["snap-pub"]) == {
        "account_id": ACCOUNT, "region": REGION, "snapshot_id": "snap-pub", "allowed_accounts": ["210987654321"]}  # fmt: skip


def test_ami_public() -> None:
    images = [{"ImageId": i, "Name": i, "OwnerId": ACCOUNT, "State": "available", "Public": i == "ami-flag"}
              for i in ("ami-flag", "ami-shared", "ami-private")]  # fmt: skip
    inv = ec2({"DescribeImages": {"": {"Images": images}}, "DescribeImageAttribute": {
        "ami-shared": {"ImageId": "ami-shared", "LaunchPermissions": [{"Group": "all"}]},
        "ami-private": {"ImageId": "ami-private", "LaunchPermissions": []}}})  # fmt: skip
    results = {r.resource.rsplit("/", 1)[-1]: r for r in run("ec2_ami_not_public", inv)}
    assert {k: r.status for k, r in results.items()} == {
        "ami-flag": "FAIL",
        "ami-shared": "FAIL",
        "ami-private": "PASS",
    }
    assert fix_params("ec2_ami_not_public", results["ami-shared"]) == {
        "account_id": ACCOUNT, "region": REGION, "image_id": "ami-shared", "allowed_accounts": []}  # fmt: skip
    # marked public, its permissions unread: still FAIL, the shares unknown
    assert results["ami-flag"].evidence["shared_with_accounts"] is None


# -- security groups, network ACLs, flow logs --------------------------------------------------
def perm(protocol: str, low: int | None = None, high: int | None = None, *, v4: Sequence[str] = (),
         v6: Sequence[str] = ()) -> dict[str, Any]:  # fmt: skip
    p: dict[str, Any] = {"IpProtocol": protocol, "UserIdGroupPairs": [], "PrefixListIds": [],
                         "IpRanges": [{"CidrIp": c} for c in v4], "Ipv6Ranges": [{"CidrIpv6": c} for c in v6]}  # fmt: skip
    if low is not None:
        p |= {"FromPort": low, "ToPort": high if high is not None else low}
    return p


def groups(*specs: tuple[str, list[dict[str, Any]]], egress: list[dict[str, Any]] | None = None) -> Inventory:
    out = [{"GroupId": gid, "GroupName": gid.removeprefix("sg-"), "Description": gid, "VpcId": "vpc-1", "OwnerId": ACCOUNT,
            "SecurityGroupArn": ec2_arn("security-group", gid), "IpPermissions": perms,
            "IpPermissionsEgress": egress if egress is not None else [perm("-1", v4=["0.0.0.0/0"])]}
           for gid, perms in specs]  # fmt: skip
    return ec2({"DescribeSecurityGroups": {"": {"SecurityGroups": out}}})


def by_group(results: list[Result]) -> dict[str, str]:
    return {r.resource.rsplit("/", 1)[-1]: r.status for r in results}


SG_CASES = groups(
    ("sg-ssh", [perm("tcp", 22, v4=["0.0.0.0/0"])]),
    ("sg-web", [perm("tcp", 443, v4=["0.0.0.0/0"], v6=["::/0"]), perm("tcp", 22, v4=["10.0.0.0/8"])]),
    ("sg-range", [perm("tcp", 1024, 3000, v4=["0.0.0.0/0"]), perm("tcp", 3000, 3400, v6=["::/0"])]),
    ("sg-all", [perm("-1", v4=["0.0.0.0/0"])]),
    ("sg-rdp-udp", [perm("udp", 3389, v4=["0.0.0.0/0"])]),
    ("sg-icmp", [perm("icmp", -1, v4=["0.0.0.0/0"])]),
    ("sg-smb", [perm("tcp", 445, v4=["0.0.0.0/0"])]),
    ("sg-netbios6", [perm("tcp", 137, 139, v6=["::/0"])]),
)


def test_sg_admin_ports_ipv4() -> None:
    results = run("ec2_sg_no_admin_ports_from_internet_ipv4", SG_CASES)
    assert by_group(results) == {"sg-ssh": "FAIL", "sg-web": "PASS", "sg-range": "PASS", "sg-all": "FAIL",
                                 "sg-rdp-udp": "FAIL", "sg-icmp": "PASS", "sg-smb": "PASS", "sg-netbios6": "PASS"}  # fmt: skip
    ssh = next(r for r in results if r.resource.endswith("sg-ssh"))
    assert ssh.evidence["open_ingress"] == [{"protocol": "tcp", "from_port": 22, "to_port": 22, "source": "0.0.0.0/0",
                                             "ports": [22]}]  # fmt: skip
    assert CHECKS.get("ec2_sg_no_admin_ports_from_internet_ipv4").fix == "ec2.revoke_open_ingress"
    assert fix_params("ec2_sg_no_admin_ports_from_internet_ipv4", ssh) == {
        "account_id": ACCOUNT, "region": REGION, "group_id": "sg-ssh", "ports": [22, 3389]}  # fmt: skip


def test_sg_admin_ports_ipv6() -> None:
    results = run("ec2_sg_no_admin_ports_from_internet_ipv6", SG_CASES)
    assert [g for g, s in by_group(results).items() if s == "FAIL"] == ["sg-range"]  # 3000-3400 takes in 3389
    [wide] = [r for r in results if r.status == "FAIL"]
    assert wide.message == "administration ports are open to ::/0"
    assert wide.evidence["open_ingress"] == [{"protocol": "tcp", "from_port": 3000, "to_port": 3400, "source": "::/0",
                                              "ports": [3389]}]  # fmt: skip
    assert fix_params("ec2_sg_no_admin_ports_from_internet_ipv6", wide) == {
        "account_id": ACCOUNT, "region": REGION, "group_id": "sg-range", "ports": [22, 3389]}  # fmt: skip


def test_sg_cifs() -> None:
    results = run("ec2_sg_no_cifs_from_internet", SG_CASES)
    assert sorted(g for g, s in by_group(results).items() if s == "FAIL") == [
        "sg-all",
        "sg-netbios6",
        "sg-smb",
    ]
    netbios = next(r for r in results if r.resource.endswith("sg-netbios6"))
    assert netbios.message == "CIFS ports are open to the internet"
    assert netbios.evidence["open_ingress"] == [{"protocol": "tcp", "from_port": 137, "to_port": 139, "source": "::/0",
                                                 "ports": [139]}]  # fmt: skip
    assert fix_params("ec2_sg_no_cifs_from_internet", netbios) == {
        "account_id": ACCOUNT, "region": REGION, "group_id": "sg-netbios6", "ports": [139, 445]}  # fmt: skip


def test_the_fix_revokes_only_what_reaches_the_failing_ports() -> None:
    from cloudsoc.respond.actions.ec2_revoke_open_ingress import open_parts

    perms = [perm("tcp", 22, v4=["0.0.0.0/0"]), perm("tcp", 443, v4=["0.0.0.0/0"]), perm("-1", v4=["0.0.0.0/0"]),
             perm("tcp", 3000, 3400, v6=["::/0"])]  # fmt: skip
    kept = [(p["IpProtocol"], p.get("FromPort")) for p in open_parts(perms, [22, 3389])]
    assert kept == [("tcp", 22), ("-1", None), ("tcp", 3000)]
    assert len(open_parts(perms)) == 4  # no ports: every open range, as the containment playbook wants


def test_sg_listing_denied_is_error() -> None:
    denied = ec2({}, errors=[(REGION, "ec2", "DescribeSecurityGroups", "", "UnauthorizedOperation")])
    for cid in ("ec2_sg_no_admin_ports_from_internet_ipv4", "ec2_default_sg_restricts_all"):
        [error] = run(cid, denied)
        assert error.status == "ERROR" and error.evidence["permission"] == "ec2:DescribeSecurityGroups"


def test_default_sg_restricts_all() -> None:
    inv = inventory({REGION: {"ec2": {"DescribeSecurityGroups": {"": {"SecurityGroups": [
        {"GroupId": "sg-d1", "GroupName": "default", "VpcId": "vpc-1", "IpPermissions": [],
         "IpPermissionsEgress": [perm("-1", v4=["0.0.0.0/0"])]},
        {"GroupId": "sg-d2", "GroupName": "default", "VpcId": "vpc-2", "IpPermissions": [], "IpPermissionsEgress": []},
        {"GroupId": "sg-app", "GroupName": "app", "VpcId": "vpc-1", "IpPermissions": [perm("tcp", 443, v4=["0.0.0.0/0"])],
         "IpPermissionsEgress": []}]}}}}}, regions=[REGION])  # fmt: skip
    results = run("ec2_default_sg_restricts_all", inv)
    assert statuses(results) == {
        ec2_arn("security-group", "sg-d1"): "FAIL",
        ec2_arn("security-group", "sg-d2"): "PASS",
    }
    assert fix_params("ec2_default_sg_restricts_all", results[0]) == {
        "account_id": ACCOUNT, "region": REGION, "group_id": "sg-d1"}  # fmt: skip


def entry(number: int, action: str, protocol: str = "6", ports: tuple[int, int] | None = None, *,
          cidr: str = "0.0.0.0/0", egress: bool = False) -> dict[str, Any]:  # fmt: skip
    e: dict[str, Any] = {"RuleNumber": number, "Protocol": protocol, "RuleAction": action, "Egress": egress}
    e |= {"Ipv6CidrBlock": cidr} if ":" in cidr else {"CidrBlock": cidr}
    if ports:
        e["PortRange"] = {"From": ports[0], "To": ports[1]}
    return e


def test_nacl_admin_ports() -> None:
    last = [entry(32767, "deny", "-1"), entry(32768, "deny", "-1", cidr="::/0")]
    acls = {
        "acl-default": [entry(100, "allow", "-1"), *last],
        "acl-ssh": [entry(100, "allow", "6", (22, 22)), entry(110, "allow", "6", (443, 443)), *last],
        "acl-denied-first": [entry(90, "deny", "6", (22, 22)), entry(91, "deny", "6", (3389, 3389)),
                             entry(100, "allow", "-1"), *last],
        "acl-web": [entry(100, "allow", "6", (443, 443)), entry(110, "allow", "6", (49152, 65535)),
                    entry(120, "allow", "6", (22, 22), cidr="10.0.0.0/8"), *last],
        "acl-v6": [entry(100, "allow", "6", (3389, 3389)), entry(101, "allow", "-1", cidr="::/0"), *last],
        "acl-egress": [entry(100, "allow", "-1", egress=True), entry(110, "allow", "17", (0, 65535)), *last],
    }  # fmt: skip
    inv = ec2({"DescribeNetworkAcls": {"": {"NetworkAcls": [
        {"NetworkAclId": a, "VpcId": "vpc-1", "IsDefault": a == "acl-default", "Entries": e, "Associations": []}
        for a, e in acls.items()]}}})  # fmt: skip
    results = run("ec2_nacl_no_admin_ports_from_internet", inv)
    assert by_group(results) == {"acl-default": "FAIL", "acl-ssh": "FAIL", "acl-denied-first": "PASS",
                                 "acl-web": "PASS", "acl-v6": "FAIL", "acl-egress": "PASS"}  # fmt: skip
    v6 = next(r for r in results if r.resource.endswith("acl-v6"))
    assert {(f["source"], f["port"]) for f in v6.evidence["open_ingress"]} == {
        ("0.0.0.0/0", 3389), ("::/0", 22), ("::/0", 3389)}  # fmt: skip


def test_vpc_flow_logs() -> None:
    def flow(fid: str, vpc: str, status: str) -> dict[str, Any]:
        return {"FlowLogId": fid, "ResourceId": vpc, "FlowLogStatus": status, "TrafficType": "ALL",
                "LogDestinationType": "s3", "LogDestination": "arn:aws:s3:::flow-logs", "DeliverLogsStatus": "SUCCESS"}  # fmt: skip

    inv = ec2({"DescribeVpcs": {"": {"Vpcs": [{"VpcId": v, "State": "available", "IsDefault": v == "vpc-default"}
                                              for v in ("vpc-app", "vpc-default", "vpc-broken")]}},
               "DescribeFlowLogs": {"": {"FlowLogs": [flow("fl-1", "vpc-app", "ACTIVE"),
                                                      flow("fl-2", "vpc-broken", "INACTIVE")]}}})  # fmt: skip
    assert by_group(run("vpc_flow_logs_enabled", inv)) == {"vpc-app": "PASS", "vpc-default": "FAIL",
                                                          "vpc-broken": "FAIL"}  # fmt: skip
    denied = ec2({"DescribeVpcs": {"": {"Vpcs": [{"VpcId": "vpc-app"}]}}},
                 errors=[(REGION, "ec2", "DescribeFlowLogs", "", "UnauthorizedOperation")])  # fmt: skip
    assert run("vpc_flow_logs_enabled", denied)[0].status == "ERROR"
