"""Quarantine an IAM user or role: an inline policy that denies it every action."""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from cloudsoc.respond.action import ActionParams, action
from cloudsoc.respond.actions._policy import QUARANTINE_POLICY, InlinePolicy, deny_all, is_quarantine


class QuarantinePrincipalParams(ActionParams):
    user_name: str | None = None
    role_name: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> QuarantinePrincipalParams:
        if (self.user_name is None) == (self.role_name is None):
            raise ValueError("give exactly one of user_name and role_name")
        return self


@action
class QuarantinePrincipal(InlinePolicy[QuarantinePrincipalParams]):
    name = "iam.quarantine_principal"
    summary = (
        f"Attach the inline deny-all policy {QUARANTINE_POLICY} (Deny * on *) to an IAM user or role; "
        "revert removes it, or restores the policy of that name that was there before"
    )
    permissions = ("iam:GetUser", "iam:GetRole", "iam:GetUserPolicy", "iam:GetRolePolicy", "iam:PutUserPolicy",
                   "iam:PutRolePolicy")  # fmt: skip
    revert_permissions = ("iam:GetUser", "iam:GetRole", "iam:GetUserPolicy", "iam:GetRolePolicy", "iam:PutUserPolicy",
                          "iam:PutRolePolicy", "iam:DeleteUserPolicy", "iam:DeleteRolePolicy")  # fmt: skip
    params_model = QuarantinePrincipalParams
    policy_name = QUARANTINE_POLICY

    def principal(self) -> tuple[str, str]:
        if self.params.user_name is not None:
            return "user", self.params.user_name
        return "role", str(self.params.role_name)

    def changes(self, state: dict[str, Any]) -> list[str]:
        if not state["exists"] or is_quarantine(state["policy"]):
            return []
        return [
            f"attach inline policy {QUARANTINE_POLICY} denying every action to {state['kind']} {state['name']}"
        ]

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        self.put(deny_all("CloudSOCQuarantine"))
        return {"policy_name": QUARANTINE_POLICY}
