"""CIS 2.14: no customer-managed policy in use grants full "*:*" administrative privileges."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.respond.actions._policy import as_list, statements

_EVERYTHING = {"*", "*:*"}


def document(version: dict[str, Any]) -> dict[str, Any]:
    """The policy document, whether the API gave it as URL-encoded JSON text or as parsed JSON."""
    doc = version["PolicyVersion"]["Document"]
    if isinstance(doc, str):
        doc = json.loads(urllib.parse.unquote(doc))
    return dict(doc)


def admin_statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Statements allowing every action on every resource."""
    return [s for s in statements(doc)
            if s.get("Effect") == "Allow" and _EVERYTHING & set(as_list(s.get("Action")))
            and "*" in as_list(s.get("Resource"))]  # fmt: skip


@check(title="No customer-managed policy in use allows all actions on all resources", severity="high",
       services=("iam",), scope="account", resource_type="AWS::IAM::Policy")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """Each attached customer-managed policy (``ListPolicies`` Scope=Local, OnlyAttached) is read at its
    default version: a statement with Effect Allow, Action "*" and Resource "*" is FAIL."""
    policies = ctx.get("iam", "ListPolicies")["Policies"]

    def judge(policy: dict[str, Any]) -> Result:
        found = admin_statements(document(ctx.get("iam", "GetPolicyVersion", policy["Arn"])))
        return ctx.verdict(not found, policy["Arn"], f"{policy['PolicyName']} does not grant *:*",
                           f"{policy['PolicyName']} allows every action on every resource",
                           attachments=policy.get("AttachmentCount"), statements=found)  # fmt: skip

    yield from ctx.each(policies, lambda p: str(p["Arn"]), judge)
