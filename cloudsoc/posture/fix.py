"""Fixing a failed check with the response action it names, under the account's approval policy.

Policies (``posture`` in cloudsoc.yaml):
- ``fix_approval``: what ``posture fix --apply`` needs per account tier: allow | approval (a named
  approver) | deny. Without ``--apply`` a fix is only planned.
- ``auto_fix``: where the continuous evaluation fixes a new failure by itself; everywhere else it only
  plans, and the plan goes with the alert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cloudsoc.core.config import Home
from cloudsoc.core.errors import CloudSOCError
from cloudsoc.posture.check import CHECKS, CheckSpec, Result
from cloudsoc.posture.inventory import GLOBAL
from cloudsoc.posture.triggers import collector_of
from cloudsoc.respond.access import Responder
from cloudsoc.respond.action import ACTIONS


class FixRefused(CloudSOCError):
    """The approval policy does not allow this fix as asked."""


def spec(check_id: str) -> CheckSpec:
    return CHECKS.get(check_id)


def action_region(region: str) -> str:
    """The region a fix acts in: a global result's (IAM, S3) through us-east-1."""
    return "us-east-1" if region == GLOBAL else region


@dataclass
class FixItem:
    result: Result
    action: str
    params: dict[str, Any]
    tier: str
    policy: str  # allow | approval | deny
    plan: dict[str, Any] = field(default_factory=dict)  # changes, before: what apply would do
    outcome: dict[str, Any] = field(default_factory=dict)  # the action's result once applied
    after: str | None = None  # the check's status for the resource after the fix

    @property
    def status(self) -> str:
        """The outcome's status once applied (or refused); else the plan's: planned, or failed."""
        return str((self.outcome or self.plan).get("status", "planned" if self.plan else "not_planned"))

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.result.check, "account": self.result.account, "region": self.result.region,
                "resource": self.result.resource, "action": self.action, "params": self.params,
                "tier": self.tier, "policy": self.policy, "changes": self.plan.get("changes", []),
                "status": self.status,
                "error": self.outcome.get("error") or self.plan.get("error"), "after": self.after}  # fmt: skip


def fixable(result: Result) -> tuple[str, dict[str, Any]] | None:
    """The action and its parameters that fix a failed result, if its check names one."""
    s = spec(result.check)
    if s.fix is None or s.fix_params is None or result.status != "FAIL":
        return None
    made = s.fix_params(result)
    if made is None:  # this failure has no automatic fix (the check says so)
        return None
    return s.fix, {"region": action_region(result.region), **made}


def item(home: Home, responder: Responder, result: Result) -> FixItem | None:
    found = fixable(result)
    if found is None:
        return None
    tier = responder.tier(_acting(result, found[1]))
    policies = home.settings.posture.fix_approval
    policy = policies.get(tier, policies.get("*", "approval"))
    return FixItem(result, found[0], found[1], tier, policy)


def _acting(result: Result, params: dict[str, Any]) -> str:
    """The account the fix acts in: the one its parameters name (an organization trail's fix acts in the
    management account, whichever member account failed)."""
    return str(params.get("account_id") or result.account)


def acted_in(result: Result, params: dict[str, Any]) -> tuple[str, str, str]:
    """Where a fix changes something, to collect again: (account, region, collector service)."""
    return _acting(result, params), params["region"], collector_of(spec(result.check).services[0])


def _action(responder: Responder, it: FixItem) -> Any:
    return ACTIONS.get(it.action).build(
        responder.session(_acting(it.result, it.params), it.params["region"]), it.params
    )


def plan(responder: Responder, it: FixItem) -> FixItem:
    try:
        act = _action(responder, it)
        it.plan = act.plan().model_dump(mode="json")
    except Exception as exc:  # a fix that cannot be planned is reported on its row, the others go on
        it.plan = {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "changes": []}
    return it


def apply(responder: Responder, it: FixItem, approved_by: str | None = None) -> FixItem:
    """Apply under the tier's policy: ``approval`` needs a named approver, ``deny`` never applies."""
    if it.policy == "deny":
        raise FixRefused(f"fixes are not allowed in {it.tier} accounts ({it.result.account})")
    if it.policy == "approval" and not approved_by:
        raise FixRefused(f"fixes in {it.tier} accounts need an approver (--approved-by)")
    try:
        act = _action(responder, it)
        res = act.apply()
        it.outcome = res.model_dump(mode="json") | {"approved_by": approved_by}
    except Exception as exc:  # recorded on the fix, never lost
        it.outcome = {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "approved_by": approved_by}
    return it


def auto_allowed(home: Home, tier: str, account: str, check: str) -> bool:
    return any(
        a.account in ("*", account, tier) and a.check in ("*", check) for a in home.settings.posture.auto_fix
    )


def auto_fix(home: Home, responder: Responder, failed: Result) -> dict[str, Any] | None:
    """The continuous evaluation's fix of a new failure: applied where ``auto_fix`` allows, else planned."""
    it = item(home, responder, failed)
    if it is None:
        return None
    if auto_allowed(home, it.tier, _acting(failed, it.params), failed.check):
        apply(responder, it, approved_by="policy:posture.auto_fix")
        return {"mode": "apply", **_summary(it)}
    plan(responder, it)
    return {"mode": "plan", **_summary(it)}


def _summary(it: FixItem) -> dict[str, Any]:
    src = it.outcome or it.plan
    return {"action": it.action, "params": it.params, "status": it.status,
            "changes": src.get("changes", []), "error": src.get("error"), "before": src.get("before"),
            "after": src.get("after"), "applied": src.get("applied")}  # fmt: skip
