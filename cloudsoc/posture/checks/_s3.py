"""What the S3 checks share: the buckets, their ARNs and fix parameters, Block Public Access (bucket
and account level)."""

from __future__ import annotations

from typing import Any

from cloudsoc.posture.check import CheckContext, Result

BLOCK_SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def buckets(ctx: CheckContext) -> list[str]:
    listing = ctx.get("s3", "ListBuckets") or {}
    return [str(b["Name"]) for b in listing.get("Buckets", []) if "Name" in b]


def arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def name_of(resource: str) -> str:
    """The bucket an ARN (``arn:aws:s3:::<bucket>``) names."""
    return resource.rsplit(":", 1)[-1]


def fix_target(result: Result) -> dict[str, Any]:
    """The parameters every bucket fix starts from (S3 is global: its actions act from us-east-1)."""
    region = "us-east-1" if result.region == "global" else result.region
    return {"account_id": result.account, "region": region, "bucket": name_of(result.resource)}


# --- Block Public Access --------------------------------------------------------------------------
def bucket_block(ctx: CheckContext, bucket: str) -> dict[str, bool] | None:
    """The bucket's own Block Public Access settings (None: it has none)."""
    answer = ctx.get("s3", "GetPublicAccessBlock", bucket)
    return _settings(answer)


def account_block(ctx: CheckContext) -> dict[str, bool] | None:
    """The account-wide Block Public Access settings (None: none set)."""
    return _settings(ctx.get("s3control", "GetPublicAccessBlock"))


def _settings(answer: dict[str, Any] | None) -> dict[str, bool] | None:
    if answer is None:
        return None
    config = answer.get("PublicAccessBlockConfiguration") or {}
    return {s: bool(config.get(s, False)) for s in BLOCK_SETTINGS}


def all_on(settings: dict[str, bool] | None) -> bool:
    return settings is not None and all(settings.get(s) for s in BLOCK_SETTINGS)


def effective(ctx: CheckContext, bucket: str, setting: str) -> str | None:
    """Where ``setting`` is on for the bucket ("bucket" or "account"), None when it is off in both.
    The account level is read only when the bucket's own setting is off."""
    if (bucket_block(ctx, bucket) or {}).get(setting):
        return "bucket"
    if (account_block(ctx) or {}).get(setting):
        return "account"
    return None
