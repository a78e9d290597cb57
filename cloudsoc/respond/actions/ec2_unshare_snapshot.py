"""Stop sharing an EBS snapshot publicly or with accounts outside the organization."""

from __future__ import annotations

from typing import Any

from cloudsoc.respond.action import action
from cloudsoc.respond.actions._ec2 import Unshare, UnshareParams, split_permissions


class UnshareSnapshotParams(UnshareParams):
    snapshot_id: str


@action
class UnshareSnapshot(Unshare):
    name = "ec2.unshare_snapshot"
    summary = "Remove public and foreign-account createVolumePermission from an EBS snapshot"
    permissions = ("ec2:DescribeSnapshotAttribute", "ec2:ModifySnapshotAttribute")
    revert_permissions = ("ec2:DescribeSnapshotAttribute", "ec2:ModifySnapshotAttribute")
    params_model = UnshareSnapshotParams
    attribute = "createVolumePermission"
    kind = "snapshot"

    @property
    def target(self) -> str:
        return str(self.params.snapshot_id)

    def describe(self) -> list[dict[str, str]]:
        answer = self.client("ec2").describe_snapshot_attribute(
            SnapshotId=self.target, Attribute=self.attribute
        )
        return [dict(p) for p in answer.get("CreateVolumePermissions", [])]

    def modify(self, operation: str, permissions: list[dict[str, str]]) -> None:
        groups, users = split_permissions(permissions)
        kwargs: dict[str, Any] = {"GroupNames": groups} if groups else {}
        if users:
            kwargs["UserIds"] = users
        self.client("ec2").modify_snapshot_attribute(
            SnapshotId=self.target, Attribute=self.attribute, OperationType=operation, **kwargs
        )
