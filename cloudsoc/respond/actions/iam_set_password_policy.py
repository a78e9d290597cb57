"""Give an account an IAM password policy that meets the CIS benchmark: at least 14 characters, the
last 24 passwords not reused, upper and lower case letters, numbers and symbols, expiry within 90
days, users allowed to change their own password.

A setting that is already stricter stays (a longer minimum, a shorter maximum age); the hard-expiry
choice is the account's own and is kept. The API resets every setting it is not given, so the whole
policy is always sent.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from cloudsoc.respond.action import Action, ActionParams, action
from cloudsoc.respond.actions._aws import is_not_found

MIN_LENGTH = 14
REUSE_PREVENTION = 24  # the most IAM remembers
MAX_AGE_DAYS = 90
REQUIRED = ("RequireUppercaseCharacters", "RequireLowercaseCharacters", "RequireNumbers", "RequireSymbols",
            "AllowUsersToChangePassword")  # fmt: skip
# What UpdateAccountPasswordPolicy takes (GetAccountPasswordPolicy adds ExpirePasswords, derived)
SETTINGS = ("MinimumPasswordLength", "PasswordReusePrevention", "MaxPasswordAge", "HardExpiry", *REQUIRED)


def as_update(policy: dict[str, Any]) -> dict[str, Any]:
    """A policy as read, in the form UpdateAccountPasswordPolicy takes."""
    return {k: policy[k] for k in SETTINGS if k in policy}


def target(current: dict[str, Any] | None) -> dict[str, Any]:
    """The CIS policy, with the current policy's stricter values kept."""
    cur = current or {}
    age = cur.get("MaxPasswordAge") or 0  # 0 or absent: passwords never expire
    return {
        "MinimumPasswordLength": max(int(cur.get("MinimumPasswordLength", 0)), MIN_LENGTH),
        "PasswordReusePrevention": max(int(cur.get("PasswordReusePrevention", 0)), REUSE_PREVENTION),
        "MaxPasswordAge": min(int(age), MAX_AGE_DAYS) if age else MAX_AGE_DAYS,
        "HardExpiry": bool(cur.get("HardExpiry", False)),
        **dict.fromkeys(REQUIRED, True),
    }


@action
class SetPasswordPolicy(Action[ActionParams]):
    name = "iam.set_password_policy"
    summary = (
        "Set an IAM account password policy meeting CIS (14+ characters, 24 remembered, upper/lower/"
        "numbers/symbols, 90-day expiry, users may change theirs), keeping stricter existing values; "
        "revert puts the previous policy back or deletes it"
    )
    permissions = ("iam:GetAccountPasswordPolicy", "iam:UpdateAccountPasswordPolicy")
    revert_permissions = ("iam:GetAccountPasswordPolicy", "iam:UpdateAccountPasswordPolicy",
                          "iam:DeleteAccountPasswordPolicy")  # fmt: skip
    params_model = ActionParams

    def read(self) -> dict[str, Any]:
        try:
            policy = self.client("iam").get_account_password_policy()["PasswordPolicy"]
        except ClientError as exc:
            if is_not_found(exc, "NoSuchEntity"):
                return {"account_id": self.params.account_id, "policy": None}
            raise
        return {"account_id": self.params.account_id, "policy": as_update(policy)}

    def changes(self, state: dict[str, Any]) -> list[str]:
        current = state["policy"]
        wanted = target(current)
        if current is None:
            settings = ", ".join(f"{k} {v}" for k, v in wanted.items())
            return [f"create the password policy of account {state['account_id']}: {settings}"]
        return [
            f"set {k} to {v} (was {current.get(k)})"
            for k, v in wanted.items()
            if current.get(k, False if isinstance(v, bool) else None) != v
        ]

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        wanted = target(state["policy"])
        self.client("iam").update_account_password_policy(**wanted)
        return {"policy": wanted}

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        iam = self.client("iam")
        if before["policy"] is None:
            try:
                iam.delete_account_password_policy()
            except ClientError as exc:
                if not is_not_found(exc, "NoSuchEntity"):
                    raise
        else:
            iam.update_account_password_policy(**before["policy"])
