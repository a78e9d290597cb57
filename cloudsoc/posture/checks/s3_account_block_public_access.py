"""CIS 2.1.4: S3 Block Public Access is on account-wide."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._s3 import account_block, all_on


@check(title="S3 Block Public Access is enabled at the account level", severity="high",
       services=("s3control",), scope="account", resource_type="AWS::S3::AccountPublicAccessBlock")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """The account's S3 Control public access block has all four settings on (BlockPublicAcls,
    IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets); no block at all fails."""
    settings = account_block(ctx)
    off = [s for s, on in (settings or {}).items() if not on]
    bad = (
        "the account has no S3 Block Public Access"
        if settings is None
        else f"off account-wide: {', '.join(off)}"
    )
    yield ctx.verdict(all_on(settings), ctx.account_arn, "S3 Block Public Access is fully on account-wide", bad,
                      account_block=settings)  # fmt: skip
