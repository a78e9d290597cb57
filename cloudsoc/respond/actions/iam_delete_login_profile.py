"""Take away an IAM user's console password (its login profile)."""

from __future__ import annotations

import secrets
import string
from typing import Any

from botocore.exceptions import ClientError

from cloudsoc.aws.api import jsonable
from cloudsoc.respond.action import Action, ActionParams, action
from cloudsoc.respond.actions._aws import is_not_found


class DeleteLoginProfileParams(ActionParams):
    user_name: str


def random_password(length: int = 40) -> str:
    """A password no one knows, meeting any IAM password policy (every character class, long)."""
    classes = (string.ascii_uppercase, string.ascii_lowercase, string.digits, "!@#$%^&*()_+-=[]{}|'")
    chars = [secrets.choice(c) for c in classes]
    chars += [secrets.choice("".join(classes)) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


@action
class DeleteLoginProfile(Action[DeleteLoginProfileParams]):
    name = "iam.delete_login_profile"
    summary = (
        "Delete an IAM user's console login profile (its CreateDate and PasswordResetRequired are recorded); "
        "revert creates a new login profile with a random password that is never stored or shown and "
        "PasswordResetRequired, so an administrator must reset the password for the user"
    )
    permissions = ("iam:GetLoginProfile", "iam:DeleteLoginProfile")
    revert_permissions = ("iam:GetLoginProfile", "iam:CreateLoginProfile", "iam:UpdateLoginProfile")
    params_model = DeleteLoginProfileParams

    def read(self) -> dict[str, Any]:
        state: dict[str, Any] = {"user_name": self.params.user_name, "login_profile": None}
        try:
            profile = self.client("iam").get_login_profile(UserName=self.params.user_name)["LoginProfile"]
        except ClientError as exc:
            if is_not_found(exc, "NoSuchEntity"):  # no such user, or no console password
                return state
            raise
        state["login_profile"] = {
            "CreateDate": jsonable(profile.get("CreateDate")),
            "PasswordResetRequired": bool(profile.get("PasswordResetRequired", False)),
        }
        return state

    def changes(self, state: dict[str, Any]) -> list[str]:
        if state["login_profile"] is None:
            return []
        return [f"delete the console login profile (password) of user {self.params.user_name}"]

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        self.client("iam").delete_login_profile(UserName=self.params.user_name)
        return {}

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        if before["login_profile"] is None:
            return
        iam = self.client("iam")
        user = self.params.user_name
        iam.create_login_profile(UserName=user, Password=random_password(), PasswordResetRequired=True)
        # A service that ignores the flag on create (the sandbox's) gets it set explicitly.
        if not iam.get_login_profile(UserName=user)["LoginProfile"].get("PasswordResetRequired"):
            iam.update_login_profile(UserName=user, Password=random_password(), PasswordResetRequired=True)
