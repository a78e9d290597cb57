"""Posture checks: one registered pure function per file (``cloudsoc/posture/checks/<id>.py``).

A check reads the inventory through a ``CheckContext`` and yields one ``Result`` per resource it
judged: PASS or FAIL with the evidence that decided it, MANUAL where a person must look. It never
catches ``MissingData``: the runner turns it into ERROR naming the missing permission (for the whole
account or region when it escapes the check; per resource through ``ctx.each``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar

from cloudsoc.core.registry import Registry
from cloudsoc.core.severity import Severity
from cloudsoc.core.timeutil import parse_time, utcnow
from cloudsoc.posture.inventory import GLOBAL, Inventory, MissingData

Status = Literal["PASS", "FAIL", "ERROR", "MANUAL"]
STATUSES: tuple[Status, ...] = ("PASS", "FAIL", "ERROR", "MANUAL")
T = TypeVar("T")


@dataclass(frozen=True)
class Result:
    check: str
    status: Status
    account: str
    region: str  # "global" for account-wide checks
    resource: str  # ARN (or the account's ARN for account-wide settings)
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    severity: str = "medium"

    def key(self) -> tuple[str, str, str, str]:
        return (self.check, self.account, self.region, self.resource)

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "status": self.status, "severity": self.severity, "account": self.account,
                "region": self.region, "resource": self.resource, "message": self.message,
                "evidence": self.evidence}  # fmt: skip


@dataclass(frozen=True)
class CheckSpec:
    id: str
    title: str
    severity: Severity
    services: tuple[str, ...]  # the inventory services it reads: what a re-collection re-evaluates
    scope: str  # "account": once per account (global data); "region": once per account and region
    fn: Callable[[CheckContext], Iterable[Result]]
    resource_type: str = ""  # CloudFormation-style type of what it judges (AWS::S3::Bucket)
    fix: str | None = None  # the response action that fixes a FAIL
    # a FAIL -> that action's parameters (None: this failure has no automatic fix)
    fix_params: Callable[[Result], dict[str, Any] | None] | None = None
    description: str = ""


CHECKS: Registry[CheckSpec] = Registry("check", "cloudsoc.posture.checks")


def check(*, title: str, severity: Severity, services: tuple[str, ...], scope: str = "region",
          resource_type: str = "", fix: str | None = None,
          fix_params: Callable[[Result], dict[str, Any] | None] | None = None
          ) -> Callable[[Callable[[CheckContext], Iterable[Result]]], Callable[[CheckContext], Iterable[Result]]]:  # fmt: skip
    """Register ``fn`` as a check; its id is its module's file name."""

    def register(
        fn: Callable[[CheckContext], Iterable[Result]],
    ) -> Callable[[CheckContext], Iterable[Result]]:
        cid = fn.__module__.rsplit(".", 1)[-1]
        doc = (fn.__doc__ or "").strip()
        CHECKS.register(cid)(CheckSpec(cid, title, severity, services, scope, fn, resource_type, fix,
                                       fix_params, doc))  # fmt: skip
        return fn

    return register


class CheckContext:
    """The inventory of one account (and region, for regional checks), and the result makers."""

    def __init__(self, spec: CheckSpec, inventory: Inventory, account: str, region: str) -> None:
        self.spec, self.inventory, self.account, self.region = spec, inventory, account, region

    @property
    def regions(self) -> list[str]:
        """Every region collected (for account-wide checks that ask "in all regions")."""
        return list(self.inventory.regions)

    @property
    def now(self) -> datetime:
        """When the inventory was collected: ages (of keys, of last use) count to then, so a stored
        inventory judged again gives the same answer."""
        return parse_time(self.inventory.started) if self.inventory.started else utcnow()

    @property
    def account_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:root"

    def get(self, service: str, operation: str, key: str = "", *, region: str | None = None,
            account: str | None = None) -> Any:  # fmt: skip
        """The collected answer (``None``: the setting does not exist). Raises MissingData.
        ``account``: another account of the organization (where an organization trail lives)."""
        return self.inventory.get(account or self.account, region or self._region, service, operation, key)

    def keys(self, service: str, operation: str, *, region: str | None = None) -> list[str]:
        return self.inventory.keys(self.account, region or self._region, service, operation)

    @property
    def accounts(self) -> list[str]:
        """Every account collected in this inventory."""
        return sorted(self.inventory.accounts)

    @property
    def _region(self) -> str:
        return self.inventory.regions[0] if self.region == GLOBAL and self.inventory.regions else self.region

    # -- results -------------------------------------------------------------------------------
    def result(self, status: Status, resource: str, message: str, region: str | None = None,
               **evidence: Any) -> Result:  # fmt: skip
        return Result(self.spec.id, status, self.account, region or self.region, resource, message, evidence,
                      self.spec.severity)  # fmt: skip

    def passed(self, resource: str, message: str, region: str | None = None, **evidence: Any) -> Result:
        return self.result("PASS", resource, message, region, **evidence)

    def failed(self, resource: str, message: str, region: str | None = None, **evidence: Any) -> Result:
        return self.result("FAIL", resource, message, region, **evidence)

    def manual(self, resource: str, message: str, region: str | None = None, **evidence: Any) -> Result:
        return self.result("MANUAL", resource, message, region, **evidence)

    def error(self, resource: str, missing: MissingData, region: str | None = None) -> Result:
        return self.result("ERROR", resource, f"cannot evaluate: {missing}", region,
                           permission=missing.permission, error=missing.error)  # fmt: skip

    def verdict(self, ok: bool, resource: str, good: str, bad: str, region: str | None = None,
                **evidence: Any) -> Result:  # fmt: skip
        """PASS with ``good`` or FAIL with ``bad``, on the same evidence."""
        return self.result("PASS" if ok else "FAIL", resource, good if ok else bad, region, **evidence)

    def each(self, items: Iterable[T], resource: Callable[[T], str],
             judge: Callable[[T], Result | Iterable[Result]]) -> Iterator[Result]:  # fmt: skip
        """Judge every item; an item whose data is missing is ERROR on its own, the others still count."""
        for item in items:
            try:
                out = judge(item)
                yield from ([out] if isinstance(out, Result) else out)
            except MissingData as missing:
                yield self.error(resource(item), missing)


def run_check(spec: CheckSpec, inventory: Inventory, account: str, region: str) -> list[Result]:
    """The check's results in one place; what it judged before data went missing is kept."""
    ctx = CheckContext(spec, inventory, account, region)
    out: list[Result] = []
    try:
        out.extend(spec.fn(ctx))
    except MissingData as missing:
        out.append(ctx.error(ctx.account_arn, missing))
    return out
