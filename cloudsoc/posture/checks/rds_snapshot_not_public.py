"""Manual RDS DB snapshots are not shared with everyone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check


def _fix(result: Result) -> dict[str, Any]:
    # The accounts it is shared with keep their access: the FAIL is about "all" only.
    snapshot = result.resource.rsplit(":", 1)[-1]  # arn:aws:rds:<region>:<account>:snapshot:<id>
    return {"account_id": result.account, "region": result.region, "db_snapshot_id": snapshot,
            "allowed_accounts": result.evidence.get("shared_with_accounts", [])}  # fmt: skip


@check(title="RDS DB snapshots are not public", severity="critical", services=("rds",),
       resource_type="AWS::RDS::DBSnapshot", fix="rds.unshare_snapshot", fix_params=_fix)  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """A manual snapshot is public when its ``restore`` attribute holds ``all``: any AWS account can then
    copy or restore it. Sharing with named accounts is not judged here."""
    snapshots = (ctx.get("rds", "DescribeDBSnapshots") or {}).get("DBSnapshots", [])

    def judge(snap: dict[str, Any]) -> Result:
        answer = ctx.get("rds", "DescribeDBSnapshotAttributes", snap["DBSnapshotIdentifier"]) or {}
        attributes = (answer.get("DBSnapshotAttributesResult") or {}).get("DBSnapshotAttributes", [])
        restore = sorted(str(v) for a in attributes if a.get("AttributeName") == "restore"
                         for v in a.get("AttributeValues") or [])  # fmt: skip
        public = "all" in restore
        return ctx.verdict(not public, snap["DBSnapshotArn"], "not public", "anyone may restore the snapshot",
                           restore=restore, shared_with_accounts=[v for v in restore if v != "all"],
                           Encrypted=snap.get("Encrypted"))  # fmt: skip

    manual = [s for s in snapshots if s.get("SnapshotType", "manual") == "manual"]
    yield from ctx.each(manual, lambda s: str(s["DBSnapshotArn"]), judge)
