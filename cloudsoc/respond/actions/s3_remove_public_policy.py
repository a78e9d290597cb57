"""Take the statements that open a bucket to everyone, or to foreign accounts, out of its policy."""

from __future__ import annotations

import json
from typing import Any

from cloudsoc.respond.action import Action, ActionParams, action
from cloudsoc.respond.actions._policy import (
    bucket_policy_document,
    bucket_policy_state,
    exposure,
    label,
    statements,
)


class RemovePublicPolicyParams(ActionParams):
    bucket: str
    allowed_accounts: list[str] = []  # accounts besides the bucket's own that may stay in the policy


@action
class RemovePublicPolicy(Action[RemovePublicPolicyParams]):
    name = "s3.remove_public_policy"
    summary = (
        "Remove bucket-policy statements that allow everyone (without a restricting condition) or accounts "
        "outside the bucket's own and the allowed ones; the policy is deleted when nothing is left; "
        "revert puts the original policy text back"
    )
    permissions = ("s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy")
    revert_permissions = ("s3:GetBucketPolicy", "s3:PutBucketPolicy")
    params_model = RemovePublicPolicyParams

    def read(self) -> dict[str, Any]:
        return bucket_policy_state(self.client("s3"), self.params.bucket)

    def _document(self, text: str | None) -> dict[str, Any]:
        return bucket_policy_document(self.params.bucket, text)

    def _split(self, text: str) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
        """The document, the statements it keeps, and in words the ones it loses."""
        doc = self._document(text)
        trusted = {self.params.account_id, *self.params.allowed_accounts}
        kept, removed = [], []
        for i, s in enumerate(statements(doc)):
            why = exposure(s, trusted)
            if why is None:
                kept.append(s)
            else:
                removed.append(
                    f"remove {label(s, i)} of bucket {self.params.bucket}'s policy: it allows {why}"
                )
        return doc, kept, removed

    def changes(self, state: dict[str, Any]) -> list[str]:
        if not state["exists"] or state["policy"] is None:
            return []
        _, kept, removed = self._split(state["policy"])
        if removed and not kept:
            removed.append(f"delete the policy of bucket {self.params.bucket}: no statement is left")
        return removed

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        doc, kept, _ = self._split(state["policy"])
        s3 = self.client("s3")
        if not kept:
            s3.delete_bucket_policy(Bucket=self.params.bucket)
            return {"policy_deleted": True}
        s3.put_bucket_policy(Bucket=self.params.bucket, Policy=json.dumps(doc | {"Statement": kept}))
        return {"policy_deleted": False}

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        # The text as read, not a re-serialisation: what the bucket owner wrote comes back unchanged.
        self.client("s3").put_bucket_policy(Bucket=self.params.bucket, Policy=before["policy"])
