"""IAM: the credential report, password policy, users with their keys, MFA and policies, roles,
customer-managed policies (default versions), the AWS Support role, server certificates."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from cloudsoc.posture.collector import CollectContext, collector, names


@collector("iam", scope="global")
def collect(c: CollectContext) -> None:
    _credential_report(c)
    c.call("GetAccountPasswordPolicy")
    c.call("GetAccountSummary")
    users = c.pages("ListUsers")
    for user in names(users and users.get("Users"), "UserName"):
        if not c.wanted(user):
            continue
        c.pages("ListAccessKeys", user, UserName=user)
        c.pages("ListMFADevices", user, UserName=user)
        c.pages("ListAttachedUserPolicies", user, UserName=user)
        c.pages("ListUserPolicies", user, UserName=user)
        c.pages("ListGroupsForUser", user, UserName=user)
        c.call("GetLoginProfile", user, UserName=user)
    c.pages("ListVirtualMFADevices", transform=_without_seeds)
    c.pages("ListRoles")
    policies = c.pages("ListPolicies", Scope="Local", OnlyAttached=True)
    for p in (policies or {}).get("Policies", []):
        if c.wanted(p["Arn"]):
            c.call("GetPolicyVersion", p["Arn"], PolicyArn=p["Arn"], VersionId=p["DefaultVersionId"])
    support = "arn:aws:iam::aws:policy/AWSSupportAccess"
    c.pages("ListEntitiesForPolicy", support, PolicyArn=support)
    shell = "arn:aws:iam::aws:policy/AWSCloudShellFullAccess"
    c.pages("ListEntitiesForPolicy", shell, PolicyArn=shell)
    c.pages("ListServerCertificates")


def _credential_report(c: CollectContext) -> None:
    """Filed as GetCredentialReport: {"GeneratedTime", "Users": [one dict per CSV row]}."""
    for _ in range(20):
        state = c.call("GenerateCredentialReport")
        if state is None or state.get("State") == "COMPLETE":
            break
        time.sleep(0.2)
    c.call("GetCredentialReport", transform=_parse_report)


def _without_seeds(answer: dict[str, Any]) -> dict[str, Any]:
    """Virtual MFA devices without their secret seed and QR code (some endpoints return them): the
    inventory is kept as evidence and must not hold a second factor."""
    secret = {"Base32StringSeed", "QRCodePNG"}
    devices = [{k: v for k, v in d.items() if k not in secret} for d in answer.get("VirtualMFADevices", [])]
    return answer | {"VirtualMFADevices": devices}


def _parse_report(answer: dict[str, Any]) -> dict[str, Any]:
    content = answer["Content"]
    text = content.decode() if isinstance(content, bytes) else str(content)
    return {"GeneratedTime": answer.get("GeneratedTime"), "Users": list(csv.DictReader(io.StringIO(text)))}
