"""EFS file systems encrypt their data at rest."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check


@check(title="EFS file systems are encrypted at rest", severity="high", services=("efs",),
       resource_type="AWS::EFS::FileSystem")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """The file system's ``Encrypted`` is true (chosen at creation only: no automatic fix)."""
    for fs in (ctx.get("efs", "DescribeFileSystems") or {}).get("FileSystems", []):
        on = bool(fs.get("Encrypted"))
        resource = fs.get("FileSystemArn") or (
            f"arn:aws:elasticfilesystem:{ctx.region}:{ctx.account}:file-system/{fs['FileSystemId']}"
        )
        yield ctx.verdict(on, resource, "encrypted at rest", "not encrypted at rest", Encrypted=on,
                          KmsKeyId=fs.get("KmsKeyId"), Name=fs.get("Name"))  # fmt: skip
