"""What the IAM checks share: the credential report's dates, users."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from cloudsoc.core.timeutil import parse_time
from cloudsoc.posture.check import CheckContext, Result

ROOT_ROW = "<root_account>"


def when(value: Any) -> datetime | None:
    """A date of the API or the credential report; ``None`` for its "N/A", "no_information", "not_supported"."""
    if not isinstance(value, str) or not value[:1].isdigit():
        return None
    return parse_time(value)


def age_days(ctx: CheckContext, value: Any) -> int | None:
    t = when(value)
    return None if t is None else (ctx.now - t).days


def report_rows(ctx: CheckContext) -> list[dict[str, str]]:
    """The credential report's rows (the root row included where the report has one)."""
    rows: list[dict[str, str]] = ctx.get("iam", "GetCredentialReport")["Users"]
    return rows


def root_row(ctx: CheckContext, *, optional: bool = False) -> dict[str, str] | None:
    """The credential report's root row (``None`` where the report has none: not every endpoint writes
    it). Raises MissingData when the report was not collected, unless ``optional``: a check that can
    decide from the account summary alone then reads no row."""
    if optional and "" not in ctx.keys("iam", "GetCredentialReport"):
        return None
    return next((r for r in report_rows(ctx) if r.get("user") == ROOT_ROW), None)


def summary(ctx: CheckContext) -> dict[str, Any]:
    out: dict[str, Any] = ctx.get("iam", "GetAccountSummary")["SummaryMap"]
    return out


def users(ctx: CheckContext) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = ctx.get("iam", "ListUsers")["Users"]
    return out


def user_arn(user: dict[str, Any]) -> str:
    return str(user["Arn"])


def password_policy(ctx: CheckContext) -> dict[str, Any] | None:
    """The account password policy; ``None`` when the account has none (IAM's defaults apply)."""
    answer = ctx.get("iam", "GetAccountPasswordPolicy")
    return None if answer is None else dict(answer["PasswordPolicy"])


def judge_password_policy(ctx: CheckContext, judge: Callable[[dict[str, Any]], Result]) -> Iterator[Result]:
    """``judge``'s result on the account password policy; an account without one is FAIL (IAM's
    defaults meet none of the policy checks)."""
    policy = password_policy(ctx)
    if policy is None:
        yield ctx.failed(ctx.account_arn, "the account has no password policy", policy=None)
    else:
        yield judge(policy)


def policy_fix(result: Any) -> dict[str, Any]:
    """Parameters of ``iam.set_password_policy``: it sets the whole compliant policy of the account."""
    return {"account_id": result.account, "region": "us-east-1"}
