"""CIS AWS Foundations 6.0 4.3: AWS Config is enabled in all regions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check


@check(title="AWS Config is enabled in all regions", severity="medium", services=("config",), scope="region",
       resource_type="AWS::Config::ConfigurationRecorder", fix="config.enable_recorder",
       fix_params=lambda r: {"account_id": r.account, "region": r.region})  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """PASS when the region has a configuration recorder that is recording (its status ``recording``,
    last status not FAILURE) and records all supported resource types (``allSupported``), and a
    delivery channel; and global resource types (IAM) are recorded by such a recorder in at least one
    region of the account (this region's, or another's). One result per region, on the account."""
    recorders = _working(ctx, ctx.region)
    channels = (ctx.get("config", "DescribeDeliveryChannels") or {}).get("DeliveryChannels", [])
    evidence: dict[str, Any] = {
        "recorders": recorders,
        "delivery_channels": [c.get("name") for c in channels],
    }
    problems = []
    if not any(r["recording"] and r["allSupported"] for r in recorders):
        problems.append("no recorder records all supported resource types"
                        if recorders else "there is no configuration recorder")  # fmt: skip
    if not channels:
        problems.append("there is no delivery channel")
    if not problems:
        evidence["global_resources_in"] = _global_region(ctx, recorders)
        if evidence["global_resources_in"] is None:
            problems.append("no region of the account records global resource types (IAM)")
    yield ctx.verdict(not problems, ctx.account_arn, f"AWS Config records all resources in {ctx.region}",
                      f"AWS Config in {ctx.region}: {'; '.join(problems)}", **evidence)  # fmt: skip


def _working(ctx: CheckContext, region: str) -> list[dict[str, Any]]:
    """Each recorder of the region: whether it is recording, what it records."""
    recorders = (ctx.get("config", "DescribeConfigurationRecorders", region=region) or {}).get(
        "ConfigurationRecorders", [])  # fmt: skip
    statuses = (ctx.get("config", "DescribeConfigurationRecorderStatus", region=region) or {}).get(
        "ConfigurationRecordersStatus", [])  # fmt: skip
    by_name = {s.get("name"): s for s in statuses}
    out = []
    for rec in recorders:
        group, status = rec.get("recordingGroup") or {}, by_name.get(rec.get("name"), {})
        out.append({"name": rec.get("name"),
                    "recording": bool(status.get("recording")) and status.get("lastStatus") != "FAILURE",
                    "lastStatus": status.get("lastStatus"), "allSupported": bool(group.get("allSupported")),
                    # IAM types recorded by name count as global resource types too
                    "includeGlobalResourceTypes": bool(group.get("includeGlobalResourceTypes")) or any(
                        str(t).startswith("AWS::IAM::") for t in group.get("resourceTypes") or [])})  # fmt: skip
    return out


def _global_region(ctx: CheckContext, here: list[dict[str, Any]]) -> str | None:
    """The first region (this one first) with a recording recorder that takes in global resource types."""
    for region in [ctx.region, *(r for r in ctx.regions if r != ctx.region)]:
        recorders = here if region == ctx.region else _working(ctx, region)
        if any(r["recording"] and r["includeGlobalResourceTypes"] for r in recorders):
            return region
    return None
