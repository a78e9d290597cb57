"""The account's machine images (AMIs) are not public."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._ec2 import arn, shared_accounts, unshare_params


@check(title="AMIs are not shared publicly", severity="critical", services=("ec2",), scope="region",
       resource_type="AWS::EC2::Image", fix="ec2.unshare_image",
       fix_params=lambda r: unshare_params(r, "image_id"))  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """An image the account owns that ``DescribeImages`` marks ``Public``, or whose ``launchPermission``
    includes the group ``all``, is FAIL. An image marked public is FAIL even when its permissions could
    not be read (the accounts it is shared with are then unknown)."""

    def resource(image: dict[str, Any]) -> str:
        return arn(ctx, "image", image["ImageId"], owned=False)

    def judge(image: dict[str, Any]) -> Result:
        flagged = image.get("Public") is True
        if flagged and image["ImageId"] not in ctx.keys("ec2", "DescribeImageAttribute"):
            return ctx.failed(resource(image), "the image is public", Public=True, shared_with_accounts=None)
        perms = ctx.get("ec2", "DescribeImageAttribute", image["ImageId"])["LaunchPermissions"]
        public = flagged or any(p.get("Group") == "all" for p in perms)
        return ctx.verdict(not public, resource(image), "the image is not public", "anyone may launch the image",
                           Public=image.get("Public"), launch_permissions=perms,
                           shared_with_accounts=shared_accounts(perms))  # fmt: skip

    yield from ctx.each(ctx.get("ec2", "DescribeImages")["Images"], resource, judge)
