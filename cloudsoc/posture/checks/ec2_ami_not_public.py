"""The account's machine images (AMIs) are not public."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._ec2 import arn, ident


@check(title="AMIs are not shared publicly", severity="critical", services=("ec2",), scope="region",
       resource_type="AWS::EC2::Image", fix="ec2.unshare_image",
       fix_params=lambda r: {"account_id": r.account, "region": r.region, "image_id": ident(r.resource)})  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """An image the account owns that ``DescribeImages`` marks ``Public``, or whose ``launchPermission``
    includes the group ``all``, is FAIL."""

    def resource(image: dict[str, Any]) -> str:
        return arn(ctx, "image", image["ImageId"], owned=False)

    def judge(image: dict[str, Any]) -> Result:
        if image.get("Public") is True:
            return ctx.failed(resource(image), "the image is public", Public=True)
        perms = ctx.get("ec2", "DescribeImageAttribute", image["ImageId"])["LaunchPermissions"]
        public = any(p.get("Group") == "all" for p in perms)
        return ctx.verdict(not public, resource(image), "the image is not public", "anyone may launch the image",
                           Public=image.get("Public"), launch_permissions=perms)  # fmt: skip

    yield from ctx.each(ctx.get("ec2", "DescribeImages")["Images"], resource, judge)
