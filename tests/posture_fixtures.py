"""Inventories written by hand for check unit tests: the API answers a check reads, nothing else."""

from __future__ import annotations

from typing import Any

from cloudsoc.posture.check import CHECKS, Result, run_check
from cloudsoc.posture.inventory import GLOBAL, Inventory
from cloudsoc.respond.action import ACTIONS

ACCOUNT = "123456789012"
REGIONS = ["us-east-1", "eu-west-1"]


def inventory(data: dict[str, dict[str, dict[str, dict[str, Any]]]], *, account: str = ACCOUNT,
              errors: list[tuple[str, str, str, str, str]] = (), regions: list[str] | None = None,
              others: dict[str, dict[str, Any]] | None = None) -> Inventory:  # fmt: skip
    """``data``: region ("global" for IAM/S3) -> service -> operation -> key ("" account-wide) -> answer.
    ``errors``: (region, service, operation, key, code) of calls that failed.
    ``others``: more accounts of the organization, account id -> data of the same shape."""
    inv = Inventory(id="inv-test", started="2026-11-21T00:00:00+00:00", regions=regions or list(REGIONS))
    for acct, acct_data in {account: data, **(others or {})}.items():
        inv.add_account(acct, acct)
        for region, services in acct_data.items():
            for service, ops in services.items():
                for op, keyed in ops.items():
                    for key, answer in keyed.items():
                        inv.put(acct, region, service, op, key, answer)
    for region, service, op, key, code in errors:
        inv.fail(account, region, service, op, key, code, f"{code} (test)")
    return inv


def run(check_id: str, inv: Inventory, *, account: str = ACCOUNT, region: str | None = None) -> list[Result]:
    """The check's results in one account: every region collected (or ``region``), or global."""
    spec = CHECKS.get(check_id)
    places = [GLOBAL] if spec.scope == "account" else ([region] if region else inv.regions)
    return [r for place in places for r in run_check(spec, inv, account, place)]


def statuses(results: list[Result]) -> dict[str, str]:
    """resource -> status (the last result for each resource)."""
    return {r.resource: r.status for r in results}


def fix_of(result: Result) -> tuple[str, dict[str, Any]]:
    """The name and parameters of the fix of a result's check; the action accepts the parameters."""
    spec = CHECKS.get(result.check)
    assert spec.fix and spec.fix_params is not None
    params = spec.fix_params(result)
    assert params is not None
    ACTIONS.get(spec.fix).params_model.model_validate(params)
    return spec.fix, params
