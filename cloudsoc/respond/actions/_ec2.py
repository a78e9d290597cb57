"""Helpers shared by the EC2 and logging actions: the client-keeping base class, instance lookups,
and the base of the "stop sharing" actions (snapshots, images)."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from botocore.exceptions import ClientError

from cloudsoc.respond.action import Action, ActionError, ActionParams
from cloudsoc.respond.actions._aws import is_not_found

P = TypeVar("P", bound=ActionParams)


GONE_STATES = frozenset({"shutting-down", "terminated"})


class InstanceParams(ActionParams):
    """The parameters of an action on one instance."""

    instance_id: str


def find_instance(ec2: Any, instance_id: str) -> dict[str, Any] | None:
    """The DescribeInstances record of a live instance; None when it does not exist or is terminating."""
    try:
        reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    except ClientError as exc:
        if is_not_found(exc):
            return None
        raise
    for reservation in reservations:
        for inst in reservation["Instances"]:
            if inst["InstanceId"] == instance_id and inst["State"]["Name"] not in GONE_STATES:
                return dict(inst)
    return None


def ebs_volumes(instance: dict[str, Any]) -> list[dict[str, Any]]:
    """The instance's attached EBS volumes: device, volume id, DeleteOnTermination."""
    return [
        {"device": m["DeviceName"], "volume_id": m["Ebs"]["VolumeId"],
         "delete_on_termination": bool(m["Ebs"].get("DeleteOnTermination", False))}
        for m in instance.get("BlockDeviceMappings", []) if "Ebs" in m
    ]  # fmt: skip


# --- sharing ---------------------------------------------------------------------------------------
class UnshareParams(ActionParams):
    allowed_accounts: list[str] = []  # accounts that keep their access (the organization's own)


class Unshare(Action[Any]):
    """Take away public and foreign-account access to a snapshot or an image. The permission list
    entries are the API's own: ``{"Group": "all"}``, ``{"UserId": ...}``, ``{"OrganizationArn": ...}``."""

    attribute: ClassVar[str]  # createVolumePermission | launchPermission
    kind: ClassVar[str]  # what the target is called in the plan

    @property
    def target(self) -> str:
        raise NotImplementedError

    def describe(self) -> list[dict[str, str]] | None:
        """The target's permission list; None (or a not-found error) when it does not exist."""
        raise NotImplementedError

    def modify(self, operation: str, permissions: list[dict[str, str]]) -> None:
        raise NotImplementedError

    def read(self) -> dict[str, Any]:
        try:
            permissions = self.describe()
        except ClientError as exc:
            if is_not_found(exc):
                return {"id": self.target, "exists": False, "permissions": []}
            raise
        if permissions is None:
            return {"id": self.target, "exists": False, "permissions": []}
        return {"id": self.target, "exists": True, "permissions": permissions}

    def foreign(self, permissions: list[dict[str, str]]) -> list[dict[str, str]]:
        """Public access and accounts outside the allowed list. Organization and OU shares stay:
        they reach only the organization's own accounts."""
        allowed = set(self.params.allowed_accounts)
        return [
            p
            for p in permissions
            if p.get("Group") == "all" or ("UserId" in p and p["UserId"] not in allowed)
        ]

    def changes(self, state: dict[str, Any]) -> list[str]:
        out = []
        for p in self.foreign(state["permissions"]):
            who = "everyone (public)" if p.get("Group") == "all" else f"account {p['UserId']}"
            out.append(f"remove {self.attribute} of {self.kind} {self.target} for {who}")
        return out

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        removed = self.foreign(state["permissions"])
        self.modify("remove", removed)
        return {"removed": removed}

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        removed = applied.get("removed", [])
        if not removed:
            return
        try:
            self.modify("add", removed)
        except ClientError as exc:
            if is_not_found(exc):
                raise ActionError(
                    f"cannot restore sharing: {self.kind} {self.target} no longer exists"
                ) from exc
            raise


def split_permissions(permissions: list[dict[str, str]]) -> tuple[list[str], list[str]]:
    """Group names and user ids, the form ModifySnapshotAttribute takes."""
    groups = [p["Group"] for p in permissions if "Group" in p]
    users = [p["UserId"] for p in permissions if "UserId" in p]
    return groups, users


def find_group(ec2: Any, group_id: str) -> dict[str, Any] | None:
    """A security group as DescribeSecurityGroups gives it; None when it no longer exists."""
    try:
        groups: list[dict[str, Any]] = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    except ClientError as exc:
        if is_not_found(exc):
            return None
        raise
    return groups[0] if groups else None


def traffic(rule: dict[str, Any]) -> str:
    """A security group rule's protocol and ports in words: "all traffic", "tcp 22-22"."""
    proto = "all traffic" if rule["IpProtocol"] == "-1" else rule["IpProtocol"]
    return proto + ("" if rule.get("FromPort") in (None, -1) else f" {rule['FromPort']}-{rule['ToPort']}")
