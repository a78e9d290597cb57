"""CIS 2.10: every IAM user with a console password has MFA."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._iam import user_arn, users


@check(title="MFA is enabled for every IAM user with a console password", severity="high", services=("iam",),
       scope="account", resource_type="AWS::IAM::User")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """A user with a login profile (``GetLoginProfile``) and no MFA device (``ListMFADevices``) is FAIL;
    with one, PASS. Users without a console password are not judged."""

    def judge(user: dict[str, Any]) -> Iterator[Result]:
        name = user["UserName"]
        if ctx.get("iam", "GetLoginProfile", name) is None:
            return
        devices = [d["SerialNumber"] for d in ctx.get("iam", "ListMFADevices", name)["MFADevices"]]
        yield ctx.verdict(bool(devices), user_arn(user), f"console user {name} has MFA",
                          f"console user {name} has no MFA", console_password=True, mfa_devices=devices)  # fmt: skip

    yield from ctx.each(users(ctx), user_arn, judge)
