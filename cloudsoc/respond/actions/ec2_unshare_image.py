"""Stop sharing an AMI publicly or with accounts outside the organization."""

from __future__ import annotations

from cloudsoc.respond.action import action
from cloudsoc.respond.actions._ec2 import Unshare, UnshareParams


class UnshareImageParams(UnshareParams):
    image_id: str


@action
class UnshareImage(Unshare):
    name = "ec2.unshare_image"
    summary = "Remove public and foreign-account launchPermission from an AMI"
    permissions = ("ec2:DescribeImages", "ec2:DescribeImageAttribute", "ec2:ModifyImageAttribute")
    revert_permissions = ("ec2:DescribeImages", "ec2:DescribeImageAttribute", "ec2:ModifyImageAttribute")
    params_model = UnshareImageParams
    attribute = "launchPermission"
    kind = "image"

    @property
    def target(self) -> str:
        return str(self.params.image_id)

    def describe(self) -> list[dict[str, str]] | None:
        ec2 = self.client("ec2")
        # DescribeImages first: it tells a deregistered image apart (not found, or no longer listed);
        # the attribute call is not reliable about it everywhere.
        if not ec2.describe_images(ImageIds=[self.target])["Images"]:
            return None
        answer = ec2.describe_image_attribute(ImageId=self.target, Attribute=self.attribute)
        return [dict(p) for p in answer.get("LaunchPermissions", [])]

    def modify(self, operation: str, permissions: list[dict[str, str]]) -> None:
        key = "Remove" if operation == "remove" else "Add"
        self.client("ec2").modify_image_attribute(ImageId=self.target, LaunchPermission={key: permissions})
