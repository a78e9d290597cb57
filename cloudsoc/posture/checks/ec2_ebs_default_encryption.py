"""CIS 6.1.1: EBS volumes are encrypted by default in every region."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check


@check(title="EBS default encryption is enabled", severity="medium", services=("ec2",), scope="region",
       resource_type="AWS::EC2::EBSDefaultEncryption", fix="ec2.enable_ebs_default_encryption",
       fix_params=lambda r: {"account_id": r.account, "region": r.region})  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """``GetEbsEncryptionByDefault`` answers ``EbsEncryptionByDefault`` true: PASS (per region)."""
    enabled = ctx.get("ec2", "GetEbsEncryptionByDefault").get("EbsEncryptionByDefault") is True
    yield ctx.verdict(enabled, ctx.account_arn, "new EBS volumes are encrypted by default",
                      "new EBS volumes are not encrypted by default", EbsEncryptionByDefault=enabled)  # fmt: skip
