"""Which resource-policy statements (bucket, function) and S3 ACL grants open a resource to everyone."""

from __future__ import annotations

import json
import re
from typing import Any

from cloudsoc.respond.actions._policy import as_list, exposure, principal_account, statements

# ACL grantees that stand for everyone, and for every AWS account holder (as good as everyone).
PUBLIC_GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "AuthenticatedUsers",
}


def public_statements(policy: dict[str, Any] | None, trusted: set[str]) -> list[str]:
    """The statements that allow everyone without a condition narrowing the callers (a condition naming
    accounts outside ``trusted`` does not count as narrowing), as "<Sid or #n>: <why>"."""
    out = []
    for i, statement in enumerate(statements(policy)):
        # Accounts named as principals are another matter (cross-account access, not public).
        named = {a for v in _principals(statement) if (a := principal_account(v))}
        why = exposure(statement, trusted | named)
        if why is not None:
            out.append(f"{statement.get('Sid') or f'#{i + 1}'}: {why}")
    return out


def accounts_named(policy: dict[str, Any] | None) -> set[str]:
    """Every account id a policy names (as principal, in an ARN or in a condition)."""
    return set(re.findall(r"(?<!\d)\d{12}(?!\d)", json.dumps(policy))) if policy else set()


def _principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    values = as_list(principal.get("AWS")) if isinstance(principal, dict) else as_list(principal)
    return [str(v) for v in values]


def public_grants(acl: dict[str, Any] | None) -> list[str]:
    """ACL grants to everyone or to any AWS account holder, as "<group>:<permission>"."""
    out = []
    for grant in (acl or {}).get("Grants", []):
        group = PUBLIC_GROUPS.get(str((grant.get("Grantee") or {}).get("URI", "")))
        if group:
            out.append(f"{group}:{grant.get('Permission', '')}")
    return sorted(out)
