"""Every bucket encrypts new objects by default."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._s3 import arn, buckets, fix_target


@check(title="S3 buckets have default encryption", severity="medium", services=("s3",), scope="account",
       resource_type="AWS::S3::Bucket", fix="s3.enforce_encryption", fix_params=fix_target)  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """The bucket's encryption configuration has a rule with a default algorithm (AES256, aws:kms or
    aws:kms:dsse); no configuration fails."""

    def judge(bucket: str) -> Result:
        answer = ctx.get("s3", "GetBucketEncryption", bucket)
        rules = ((answer or {}).get("ServerSideEncryptionConfiguration") or {}).get("Rules", [])
        defaults = [r.get("ApplyServerSideEncryptionByDefault") or {} for r in rules]
        algorithms = sorted({str(d["SSEAlgorithm"]) for d in defaults if d.get("SSEAlgorithm")})
        return ctx.verdict(bool(algorithms), arn(bucket), f"default encryption: {', '.join(algorithms)}",
                           "the bucket has no default encryption", algorithms=algorithms)  # fmt: skip

    yield from ctx.each(buckets(ctx), arn, judge)
