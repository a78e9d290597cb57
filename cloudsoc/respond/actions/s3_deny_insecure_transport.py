"""Make a bucket refuse requests that are not sent over TLS: a Deny statement on
``aws:SecureTransport = false`` is added to its policy, beside the statements already there.

A policy that already denies every S3 action on the bucket and its objects to everyone over plain
HTTP, with no other condition, counts as done whatever its Sid. Revert puts back the policy text
exactly as the owner wrote it (or deletes the policy when the bucket had none).
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

from cloudsoc.respond.action import Action, ActionParams, action
from cloudsoc.respond.actions._policy import as_list, bucket_policy_document, bucket_policy_state, statements

SID = "DenyInsecureTransport"


class DenyInsecureTransportParams(ActionParams):
    bucket: str


def deny_statement(bucket: str) -> dict[str, Any]:
    return {"Sid": SID, "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}  # fmt: skip


def denies_insecure(statement: dict[str, Any], bucket: str) -> bool:
    """The statement denies all S3 actions on the bucket and its objects to everyone without TLS."""
    principal = statement.get("Principal")
    everyone = principal == "*" or (isinstance(principal, dict) and "*" in as_list(principal.get("AWS")))
    resources = [str(r) for r in as_list(statement.get("Resource"))]
    covers = all(
        any(fnmatchcase(target, r) for r in resources)
        for target in (f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/any-object")
    )
    return (
        statement.get("Effect") == "Deny"
        and everyone
        and not {"NotAction", "NotResource", "NotPrincipal"} & statement.keys()
        and bool({"s3:*", "*"} & {str(a).lower() for a in as_list(statement.get("Action"))})
        and covers
        and _only_without_tls(statement.get("Condition") or {})
    )


def _only_without_tls(condition: dict[str, Any]) -> bool:
    """The condition is exactly aws:SecureTransport = false (Bool, or BoolIfExists): any other key
    would narrow the deny to some of the plain-HTTP requests."""
    if len(condition) != 1:
        return False
    [(operator, block)] = condition.items()
    if operator.lower() not in ("bool", "boolifexists") or not isinstance(block, dict) or len(block) != 1:
        return False
    [(key, values)] = block.items()
    return key.lower() == "aws:securetransport" and [str(v).lower() for v in as_list(values)] == ["false"]


@action
class DenyInsecureTransport(Action[DenyInsecureTransportParams]):
    name = "s3.deny_insecure_transport"
    summary = (
        "Add a statement denying every request not sent over TLS (aws:SecureTransport false) to a "
        "bucket's policy, keeping its other statements; revert restores the previous policy text"
    )
    permissions = ("s3:GetBucketPolicy", "s3:PutBucketPolicy")
    revert_permissions = ("s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy")
    params_model = DenyInsecureTransportParams

    def read(self) -> dict[str, Any]:
        return bucket_policy_state(self.client("s3"), self.params.bucket)

    def _document(self, text: str | None) -> dict[str, Any]:
        return bucket_policy_document(self.params.bucket, text)

    def changes(self, state: dict[str, Any]) -> list[str]:
        if not state["exists"]:
            return []
        doc = self._document(state["policy"])
        if any(denies_insecure(s, self.params.bucket) for s in statements(doc)):
            return []
        where = "a new policy" if state["policy"] is None else "the policy"
        return [f"add statement {SID!r} to {where} of bucket {self.params.bucket}: deny requests without TLS"]

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        doc = self._document(state["policy"])
        sids = {s.get("Sid") for s in statements(doc)}
        statement = deny_statement(self.params.bucket)
        if SID in sids:  # a statement of that name that does not deny: keep it, name ours apart
            statement["Sid"] = f"{SID}CloudSOC"
        new = doc | {"Statement": [*statements(doc), statement]}
        self.client("s3").put_bucket_policy(Bucket=self.params.bucket, Policy=json.dumps(new))
        return {"sid": statement["Sid"]}

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        s3 = self.client("s3")
        if before["policy"] is None:
            s3.delete_bucket_policy(Bucket=self.params.bucket)
        else:  # the text as read: what the owner wrote comes back byte for byte
            s3.put_bucket_policy(Bucket=self.params.bucket, Policy=before["policy"])
