"""Helpers shared by the S3 and IAM actions: IAM policy documents (deny-all, the session revocation),
which bucket-policy statements open a bucket to the public or to foreign accounts, and the base of
the actions that put an inline policy on a user or role."""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar, TypeVar
from urllib.parse import unquote

from botocore.exceptions import ClientError

from cloudsoc.respond.action import Action, ActionError, ActionParams
from cloudsoc.respond.actions._aws import is_not_found

P = TypeVar("P", bound=ActionParams)

QUARANTINE_POLICY = "cloudsoc-quarantine"
REVOKE_SESSIONS_POLICY = "AWSRevokeOlderSessions"  # the name the IAM console uses


# --- IAM policy documents -----------------------------------------------------------------------
def deny_all(sid: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Deny", "Action": "*", "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def statements(document: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A policy's statements as a list (a single statement may stand alone)."""
    if not document:
        return []
    raw = document.get("Statement", [])
    return [raw] if isinstance(raw, dict) else [s for s in raw if isinstance(s, dict)]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def denies_everything(statement: dict[str, Any]) -> bool:
    """Deny of every action on every resource (conditions are the caller's to check)."""
    return (
        statement.get("Effect") == "Deny"
        and as_list(statement.get("Action")) == ["*"]
        and as_list(statement.get("Resource")) == ["*"]
        and not {"NotAction", "NotResource", "NotPrincipal"} & statement.keys()
    )


def is_quarantine(document: dict[str, Any] | None) -> bool:
    """An unconditional deny-all statement is in the document."""
    return any(denies_everything(s) and not s.get("Condition") for s in statements(document))


def revoked_before(document: dict[str, Any] | None) -> str | None:
    """The time before which a session-revocation policy denies sessions (None: not that policy)."""
    for s in statements(document):
        cond = s.get("Condition") or {}
        if denies_everything(s) and set(cond) == {"DateLessThan"}:
            times = as_list(cond["DateLessThan"].get("aws:TokenIssueTime"))
            if len(times) == 1 and len(cond["DateLessThan"]) == 1:
                return str(times[0])
    return None


# --- bucket policies ----------------------------------------------------------------------------
# Condition keys that narrow a public principal to known callers (the keys S3's own "is public"
# evaluation accepts), and the operators that make them narrow rather than wide.
RESTRICTING_KEYS = frozenset({
    "aws:sourceaccount", "aws:sourcearn", "aws:sourceowner", "aws:principalorgid", "aws:principalorgpaths",
    "aws:principalaccount", "aws:principalarn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceip",
    "aws:userid", "aws:username", "s3:dataaccesspointaccount", "s3:dataaccesspointarn",
})  # fmt: skip
ACCOUNT_KEYS = frozenset({"aws:sourceaccount", "aws:sourceowner", "aws:principalaccount"})
_NARROWING_OPERATORS = frozenset({"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike",
                                  "ipaddress"})  # fmt: skip
_WIDE_VALUES = frozenset({"*", "0.0.0.0/0", "::/0"})
_ACCOUNT_IN_ARN = re.compile(r"^arn:aws[\w-]*:(?:iam|sts)::(\d{12}):")


def principal_account(value: str) -> str | None:
    """The account an AWS principal value names ("123456789012" or an IAM/STS ARN); None for "*"."""
    if re.fullmatch(r"\d{12}", value):
        return value
    m = _ACCOUNT_IN_ARN.match(value)
    return m.group(1) if m else None


def _restricts(statement: dict[str, Any], trusted: set[str]) -> bool:
    """A condition narrows the statement's callers to known ones (trusted accounts for account keys)."""
    for operator, block in (statement.get("Condition") or {}).items():
        qualifier, _, op = operator.lower().rpartition(":")
        # Not... operators, ...IfExists, Null and ForAllValues (true when the key is absent) do not narrow
        if op not in _NARROWING_OPERATORS or qualifier == "forallvalues" or not isinstance(block, dict):
            continue
        for key, values in block.items():
            vals = [str(v) for v in as_list(values)]
            if key.lower() not in RESTRICTING_KEYS or not vals or _WIDE_VALUES & set(vals):
                continue
            if key.lower() in ACCOUNT_KEYS and not set(vals) <= trusted:
                continue
            return True
    return False


def exposure(statement: dict[str, Any], trusted: set[str]) -> str | None:
    """Why an Allow statement opens the bucket (to everyone, or to foreign accounts); None when it does not."""
    if statement.get("Effect") != "Allow":
        return None
    if "NotPrincipal" in statement:  # Allow everyone except a few: public
        return (
            None if _restricts(statement, trusted) else "everyone except the named principals (NotPrincipal)"
        )
    principal = statement.get("Principal")
    values = (
        [str(v) for v in as_list(principal.get("AWS"))] if isinstance(principal, dict) else as_list(principal)
    )
    if "*" in values and not _restricts(statement, trusted):
        return "everyone (public principal without a restricting condition)"
    foreign = sorted({a for v in values if (a := principal_account(str(v))) and a not in trusted})
    return f"foreign accounts {', '.join(foreign)}" if foreign else None


def label(statement: dict[str, Any], index: int) -> str:
    sid = statement.get("Sid")
    return f"statement {sid!r}" if sid else f"statement #{index + 1}"


# --- inline policies on users and roles -----------------------------------------------------------
class InlinePolicy(Action[P]):
    """An action that puts one named inline policy on a user or a role; revert puts back the policy
    of that name that was there before, or deletes it."""

    policy_name: ClassVar[str]

    def principal(self) -> tuple[str, str]:
        """("user" | "role", its name)."""
        raise NotImplementedError

    def _call(self, operation: str, **kwargs: Any) -> Any:
        kind, name = self.principal()
        key = "UserName" if kind == "user" else "RoleName"
        return getattr(self.client("iam"), operation.format(kind=kind))(**{key: name}, **kwargs)

    def read(self) -> dict[str, Any]:
        kind, name = self.principal()
        state: dict[str, Any] = {"kind": kind, "name": name, "exists": True, "policy": None}
        try:
            self._call("get_{kind}")
        except ClientError as exc:
            if is_not_found(exc, "NoSuchEntity"):
                return state | {"exists": False}
            raise
        try:
            doc = self._call("get_{kind}_policy", PolicyName=self.policy_name)["PolicyDocument"]
        except ClientError as exc:
            if is_not_found(exc, "NoSuchEntity"):
                return state
            raise
        state["policy"] = json.loads(unquote(doc)) if isinstance(doc, str) else dict(doc)
        return state

    def put(self, document: dict[str, Any]) -> None:
        self._call("put_{kind}_policy", PolicyName=self.policy_name, PolicyDocument=json.dumps(document))

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        if before["policy"] is None:
            try:
                self._call("delete_{kind}_policy", PolicyName=self.policy_name)
            except ClientError as exc:
                if not is_not_found(exc, "NoSuchEntity"):
                    raise
        else:
            self.put(before["policy"])


def bucket_policy_state(s3: Any, bucket: str) -> dict[str, Any]:
    """A bucket's policy text as an action records it: ``exists`` False when the bucket is gone, ``policy``
    None when it has none."""
    state: dict[str, Any] = {"bucket": bucket, "exists": True, "policy": None}
    try:
        state["policy"] = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError as exc:
        if is_not_found(exc, "NoSuchBucket"):
            return state | {"exists": False}
        if not is_not_found(exc, "NoSuchBucketPolicy"):
            raise
    return state


def bucket_policy_document(bucket: str, text: str | None) -> dict[str, Any]:
    """A bucket policy's text as a document (an empty one when there is none); ActionError when it is
    not a JSON object."""
    if text is None:
        return {"Version": "2012-10-17", "Statement": []}
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ActionError(f"bucket {bucket}: its policy is not JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise ActionError(f"bucket {bucket}: its policy is not a JSON object")
    return doc
