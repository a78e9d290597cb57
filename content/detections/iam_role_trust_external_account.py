"""The policy half of iam_role_trust_external_account: parse the trust policy written by CreateRole
or UpdateAssumeRolePolicy and keep the events where an Allow statement admits an AWS principal of
another account, or any principal at all."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

# An account id alone, or the account inside an IAM/STS principal ARN.
_ACCOUNT = re.compile(r"^(?:arn:aws[\w-]*:(?:iam|sts)::)?(\d{12})(?::|$)")
# Conditions that keep a "*" principal inside the organization.
_ORG_SCOPED = ("aws:principalorgid", "aws:principalorgpaths")


def rule(event: dict[str, Any]) -> bool:
    return bool(outside_principals(event))


def alert_context(event: dict[str, Any]) -> dict[str, Any]:
    return {"trusted_outside_principals": outside_principals(event)}


def outside_principals(event: dict[str, Any]) -> list[str]:
    params = event.get("requestParameters") or {}
    own = str(event.get("recipientAccountId") or (event.get("userIdentity") or {}).get("accountId") or "")
    doc = _policy(params.get("policyDocument") or params.get("assumeRolePolicyDocument"))
    found: list[str] = []
    for statement in _listed(doc.get("Statement")):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        for principal in _aws_principals(statement.get("Principal")):
            if principal == "*" and not _org_scoped(statement):
                found.append(principal)
            match = _ACCOUNT.match(principal)
            if match and match.group(1) != own:
                found.append(principal)
    return found


def _policy(text: Any) -> dict[str, Any]:
    if not isinstance(text, str):
        return {}
    try:
        doc = json.loads(unquote(text) if text.lstrip().startswith("%") else text)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _aws_principals(principal: Any) -> list[str]:
    if principal == "*":
        return ["*"]
    if not isinstance(principal, dict):
        return []
    return [str(p) for p in _listed(principal.get("AWS")) if p is not None]


def _org_scoped(statement: dict[str, Any]) -> bool:
    conditions = statement.get("Condition") or {}
    keys = [k.lower() for block in conditions.values() if isinstance(block, dict) for k in block]
    return any(k in _ORG_SCOPED for k in keys)
