"""RDS instances encrypt their storage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._rds import arn, each_instance


@check(title="RDS instances have storage encryption enabled", severity="high", services=("rds",),
       resource_type="AWS::RDS::DBInstance")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """The instance's ``StorageEncrypted`` is true (encryption can only be chosen at creation: the fix
    is a restore from an encrypted snapshot copy, so there is no automatic one)."""

    def judge(db: dict[str, Any]) -> Result:
        on = bool(db.get("StorageEncrypted"))
        return ctx.verdict(on, arn(db), "storage is encrypted", "storage is not encrypted", StorageEncrypted=on,
                           KmsKeyId=db.get("KmsKeyId"))  # fmt: skip

    yield from each_instance(ctx, judge)
