"""CIS 2.6: the root user's MFA is a hardware device, not a virtual one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._iam import summary


def _is_root(device: dict[str, Any]) -> bool:
    user_arn = str(device.get("User", {}).get("Arn", ""))
    return user_arn.endswith(":root") or str(device.get("SerialNumber", "")).endswith(
        ":mfa/root-account-mfa-device"
    )


@check(title="Hardware MFA is enabled for the root user", severity="critical", services=("iam",),
       scope="account", resource_type="AWS::IAM::User")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """PASS when the account summary counts root MFA (``AccountMFAEnabled``) and no assigned virtual
    MFA device belongs to root (a root device is ``...:mfa/root-account-mfa-device`` or assigned to
    the ``:root`` ARN): the device is then a hardware one. No MFA, or a virtual one, is FAIL."""
    enabled = summary(ctx).get("AccountMFAEnabled")
    if enabled != 1:
        yield ctx.failed(ctx.account_arn, "the root user has no MFA", AccountMFAEnabled=enabled)
        return
    devices = ctx.get("iam", "ListVirtualMFADevices")["VirtualMFADevices"]
    virtual = [
        str(d.get("SerialNumber")) for d in devices if _is_root(d) and (d.get("User") or d.get("EnableDate"))
    ]
    yield ctx.verdict(not virtual, ctx.account_arn, "the root user's MFA is a hardware device",
                      "the root user's MFA is a virtual device", AccountMFAEnabled=enabled,
                      root_virtual_devices=virtual)  # fmt: skip
