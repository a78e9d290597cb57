"""CIS AWS Foundations 6.0 4.1: CloudTrail is enabled in all regions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks import _trails


def _fix(result: Result) -> dict[str, Any]:
    """Restore the first multi-region trail found wanting, in the account that owns it (an organization
    trail: the management account). A result naming no trail (there is none to restore, or the result
    came without its evidence) gets no trail: the action then refuses its parameters rather than
    planning nothing."""
    e = result.evidence
    if "trail" not in e:
        return {"account_id": result.account, "trail": None}
    return {"account_id": e["trail_account"], "region": e["trail_region"], "trail": e["trail"]}


@check(title="CloudTrail is enabled in all regions with all management events", severity="high",
       services=("cloudtrail",), scope="account", resource_type="AWS::::Account",
       fix="cloudtrail.restore_trail", fix_params=_fix)  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """PASS when a multi-region trail that logs the account is logging (GetTrailStatus ``IsLogging``)
    and records all management events, read and write, no event source excluded (its event selectors,
    basic or advanced; a trail without custom selectors records them all). The account's own trails
    count, and so does an organization trail owned by another account of the organization (the
    management account). FAIL lists each multi-region trail with what it lacks; MANUAL when the only
    candidates are organization trails of accounts outside the inventory."""
    yield from _trails.account_verdict(ctx, "is logging all management events (read and write)",
                                       {"is_logging": _trails.is_logging,
                                        "management_events": _trails.records_management})  # fmt: skip
