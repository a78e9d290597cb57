"""Revoke a role's active sessions the way the IAM console does: deny every session issued before now."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import field_validator

from cloudsoc.core.timeutil import utcnow
from cloudsoc.respond.action import ActionParams, action
from cloudsoc.respond.actions._policy import REVOKE_SESSIONS_POLICY, InlinePolicy, deny_all, revoked_before


class RevokeRoleSessionsParams(ActionParams):
    role_name: str
    # Sessions issued before this time are revoked. Not given: the time of the apply, and a revocation
    # already in place counts as done (pass a later time to revoke sessions issued since).
    issued_before: datetime | None = None

    @field_validator("issued_before")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def iso(t: datetime) -> str:
    """The console's form: UTC with milliseconds and a Z."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _parse(text: str) -> datetime | None:
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@action
class RevokeRoleSessions(InlinePolicy[RevokeRoleSessionsParams]):
    name = "iam.revoke_role_sessions"
    summary = (
        f"Revoke a role's active sessions: the inline policy {REVOKE_SESSIONS_POLICY} denies every action to "
        "sessions issued before now (aws:TokenIssueTime), as the IAM console does; revert restores the "
        "previous policy of that name or removes it"
    )
    permissions = ("iam:GetRole", "iam:GetRolePolicy", "iam:PutRolePolicy")
    revert_permissions = ("iam:GetRole", "iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy")
    params_model = RevokeRoleSessionsParams
    policy_name = REVOKE_SESSIONS_POLICY

    def principal(self) -> tuple[str, str]:
        return "role", self.params.role_name

    def _done(self, policy: dict[str, Any] | None) -> bool:
        current = revoked_before(policy)
        if current is None:
            return False
        wanted = self.params.issued_before
        if wanted is None:
            return True
        existing = _parse(current)
        return existing is not None and existing >= wanted.astimezone(UTC)

    def changes(self, state: dict[str, Any]) -> list[str]:
        if not state["exists"] or self._done(state["policy"]):
            return []
        when = iso(self.params.issued_before) if self.params.issued_before else "now"
        return [f"deny every action to sessions of role {state['name']} issued before {when} "
                f"(inline policy {REVOKE_SESSIONS_POLICY})"]  # fmt: skip

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        when = iso(self.params.issued_before or utcnow())
        self.put(deny_all("RevokeOlderSessions", {"DateLessThan": {"aws:TokenIssueTime": when}}))
        return {"issued_before": when}
