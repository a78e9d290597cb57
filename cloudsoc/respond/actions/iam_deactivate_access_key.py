"""Deactivate an IAM user's access key (kept, so it can be reactivated or examined)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from cloudsoc.respond.action import Action, ActionParams, action
from cloudsoc.respond.actions._aws import is_not_found


class DeactivateAccessKeyParams(ActionParams):
    access_key_id: str
    user_name: str | None = None  # found from the key when not given


@action
class DeactivateAccessKey(Action[DeactivateAccessKeyParams]):
    name = "iam.deactivate_access_key"
    summary = (
        "Deactivate an IAM access key (its user found from the key when not given); revert reactivates it"
    )
    permissions = ("iam:GetAccessKeyLastUsed", "iam:ListAccessKeys", "iam:UpdateAccessKey")
    revert_permissions = permissions
    params_model = DeactivateAccessKeyParams

    def _user(self, iam: Any) -> str | None:
        if self.params.user_name:
            return self.params.user_name
        try:
            user = iam.get_access_key_last_used(AccessKeyId=self.params.access_key_id).get("UserName")
        except ClientError as exc:
            if is_not_found(exc, "NoSuchEntity"):
                return None
            raise
        return str(user) if user else None

    def read(self) -> dict[str, Any]:
        iam = self.client("iam")
        key = self.params.access_key_id
        user = self._user(iam)
        state: dict[str, Any] = {"access_key_id": key, "user_name": user, "exists": False, "status": None}
        if user is None:
            return state
        try:
            listed = iam.get_paginator("list_access_keys").paginate(UserName=user)
            found = [k for page in listed for k in page["AccessKeyMetadata"] if k["AccessKeyId"] == key]
        except ClientError as exc:
            if is_not_found(exc, "NoSuchEntity"):
                return state
            raise
        if found:
            state.update(exists=True, status=found[0]["Status"])
        return state

    def changes(self, state: dict[str, Any]) -> list[str]:
        if not state["exists"] or state["status"] == "Inactive":
            return []
        return [f"deactivate access key {state['access_key_id']} of user {state['user_name']}"]

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        self._set(state["user_name"], "Inactive")
        return {}

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        self._set(before["user_name"], before["status"])

    def _set(self, user: str, status: str) -> None:
        self.client("iam").update_access_key(
            UserName=user, AccessKeyId=self.params.access_key_id, Status=status
        )
