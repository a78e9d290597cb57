"""Capture an instance's metadata and console output as evidence, before anyone changes it.

Read-only: it changes nothing in AWS and has nothing to revert. Each run captures afresh (the
console output and attributes are evidence of one point in time), so its plan is never empty while
the instance exists; a missing or terminated instance leaves nothing to capture.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from botocore.exceptions import ClientError

from cloudsoc.aws.api import error_code, jsonable
from cloudsoc.respond.action import Action, action
from cloudsoc.respond.actions._aws import is_not_found
from cloudsoc.respond.actions._ec2 import InstanceParams, ebs_volumes, find_instance

ATTRIBUTES = ("userData", "disableApiTermination", "disableApiStop", "instanceInitiatedShutdownBehavior",
              "sourceDestCheck", "groupSet", "kernel", "ramdisk")  # fmt: skip


@action
class CaptureInstance(Action[InstanceParams]):
    name = "ec2.capture_instance"
    summary = (
        "Capture an instance's metadata (attributes, user data, role, network, volumes) and console output"
    )
    permissions = ("ec2:DescribeInstances", "ec2:DescribeInstanceAttribute", "ec2:DescribeNetworkInterfaces",
                   "ec2:DescribeSecurityGroups", "ec2:DescribeVolumes", "ec2:GetConsoleOutput",
                   "iam:GetInstanceProfile", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies")  # fmt: skip
    params_model = InstanceParams
    reversible = False
    changes_aws = False

    def read(self) -> dict[str, Any]:
        iid = self.params.instance_id
        inst = find_instance(self.client("ec2"), iid)
        if inst is None:
            return {"instance_id": iid, "exists": False}
        return {"instance_id": iid, "exists": True, "state": inst["State"]["Name"], **_parts(inst)}

    def changes(self, state: dict[str, Any]) -> list[str]:
        if not state["exists"]:
            return []
        iid = state["instance_id"]
        out = [f"capture the DescribeInstances record of {iid} (tags included)",
               f"capture the attributes of {iid}: {', '.join(ATTRIBUTES)}"]  # fmt: skip
        if state["instance_profile"]:
            out.append(f"capture instance profile {state['instance_profile']} and its role's policies")
        out.append(f"capture network interfaces {', '.join(state['network_interfaces']) or '(none)'}")
        out.append(f"capture security groups {', '.join(state['security_groups']) or '(none)'}")
        out.append(f"capture volumes {', '.join(state['volumes']) or '(none)'}")
        out.append(f"capture the console output of {iid}")
        return out

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        return {}  # nothing to change: capture() collects the evidence

    def capture(self, state: dict[str, Any], applied: dict[str, Any]) -> dict[str, Any]:
        ec2 = self.client("ec2")
        iid = self.params.instance_id
        inst = find_instance(ec2, iid)
        if inst is None:
            return {"instance_id": iid, "error": "the instance disappeared during the capture"}
        parts = _parts(inst)
        enis, groups, volumes = parts["network_interfaces"], parts["security_groups"], parts["volumes"]
        captured: dict[str, Any] = jsonable({
            "instance_id": iid,
            "instance": inst,
            "tags": {t["Key"]: t["Value"] for t in inst.get("Tags", [])},
            "attributes": self._attributes(ec2),
            "instance_profile": self._profile(parts["instance_profile"]),
            "network_interfaces": ec2.describe_network_interfaces(NetworkInterfaceIds=enis)["NetworkInterfaces"] if enis else [],
            "security_groups": ec2.describe_security_groups(GroupIds=groups)["SecurityGroups"] if groups else [],
            "volumes": ec2.describe_volumes(VolumeIds=volumes)["Volumes"] if volumes else [],
            "console_output": self._console(ec2),
        })  # fmt: skip
        return captured

    def _attributes(self, ec2: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for attr in ATTRIBUTES:
            try:
                answer = ec2.describe_instance_attribute(InstanceId=self.params.instance_id, Attribute=attr)
            except ClientError as exc:  # one attribute the platform lacks must not lose the rest
                out[attr] = {"error": error_code(exc) or str(exc)}
                continue
            key = attr[0].upper() + attr[1:]
            value = answer.get("Groups" if attr == "groupSet" else key)
            if isinstance(value, dict) and set(value) <= {"Value"}:
                value = value.get("Value")
            out[attr] = value
        if isinstance(out.get("userData"), str):
            out["userData"] = {"raw": out["userData"], "text": _decode(out["userData"])}
        return out

    def _profile(self, arn: str | None) -> dict[str, Any] | None:
        if not arn:
            return None
        iam = self.client("iam")
        name = arn.rsplit("/", 1)[-1]
        try:
            profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
        except ClientError as exc:
            return {"arn": arn, "error": error_code(exc) or str(exc)}
        roles = []
        for role in profile.get("Roles", []):
            rn = role["RoleName"]
            attached = iam.list_attached_role_policies(RoleName=rn)["AttachedPolicies"]
            inline = iam.list_role_policies(RoleName=rn)["PolicyNames"]
            roles.append({"role": role, "attached_policies": attached, "inline_policies": inline})
        return {"arn": arn, "profile": profile, "roles": roles}

    def _console(self, ec2: Any) -> dict[str, Any]:
        try:
            answer = ec2.get_console_output(InstanceId=self.params.instance_id)
        except ClientError as exc:
            if is_not_found(exc):
                return {"error": error_code(exc)}
            raise
        raw = answer.get("Output") or ""
        return {"timestamp": answer.get("Timestamp"), "raw": raw, "text": _decode(raw)}


def _parts(inst: dict[str, Any]) -> dict[str, Any]:
    """What the capture covers besides the instance itself: its role, interfaces, groups and volumes."""
    enis = inst.get("NetworkInterfaces", [])
    return {
        "instance_profile": inst.get("IamInstanceProfile", {}).get("Arn"),
        "network_interfaces": [e["NetworkInterfaceId"] for e in enis],
        "security_groups": sorted({g["GroupId"] for e in enis for g in e["Groups"]}),
        "volumes": [v["volume_id"] for v in ebs_volumes(inst)],
    }


def _decode(value: str) -> str:
    """AWS returns user data and console output base64-encoded; keep plain text as it is."""
    if not value:
        return ""
    try:
        return base64.b64decode(value, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return value
