"""CIS 3.6 (3.8 in older versions): customer-managed symmetric KMS keys rotate automatically."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.collectors.kms import rotatable


def _fix(result: Result) -> dict[str, Any]:
    key_id = result.resource.rsplit("/", 1)[-1]  # arn:aws:kms:<region>:<account>:key/<id>
    return {"account_id": result.account, "region": result.region, "key_id": key_id}


@check(title="Rotation is enabled for customer-managed KMS keys", severity="medium", services=("kms",),
       resource_type="AWS::KMS::Key", fix="kms.enable_key_rotation", fix_params=_fix)  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """Judged: enabled customer-managed keys with KMS-made symmetric key material (AWS-managed keys
    rotate on their own; asymmetric, HMAC and imported keys cannot rotate automatically; disabled and
    pending-deletion keys are not in use). PASS when ``GetKeyRotationStatus`` says
    ``KeyRotationEnabled``."""
    keys = [str(k["KeyId"]) for k in (ctx.get("kms", "ListKeys") or {}).get("Keys", [])]

    def resource(key: str) -> str:
        return f"arn:aws:kms:{ctx.region}:{ctx.account}:key/{key}"

    def judge(key: str) -> list[Result]:
        meta = ctx.get("kms", "DescribeKey", key)["KeyMetadata"]
        if not rotatable(meta):
            return []
        status = ctx.get("kms", "GetKeyRotationStatus", key) or {}
        on = bool(status.get("KeyRotationEnabled"))
        return [ctx.verdict(on, meta.get("Arn") or resource(key), "automatic rotation is enabled",
                            "automatic rotation is not enabled", KeyRotationEnabled=on,
                            RotationPeriodInDays=status.get("RotationPeriodInDays"),
                            Description=meta.get("Description"))]  # fmt: skip

    yield from ctx.each(keys, resource, judge)
