"""Turn on log file integrity validation for a CloudTrail trail: CloudTrail then delivers a signed
digest file every hour, so tampering with or deleting delivered log files can be proven.

A trail is changed in its home region; given an ARN the action goes there. Organization trails are
changed in the management account.
"""

from __future__ import annotations

import functools
from typing import Any

from botocore.exceptions import ClientError

from cloudsoc.aws.session import client
from cloudsoc.respond.action import Action, ActionParams, action
from cloudsoc.respond.actions._aws import is_not_found, trail_region


class EnableLogValidationParams(ActionParams):
    trail_name: str  # name or ARN


@action
class EnableLogValidation(Action[EnableLogValidationParams]):
    name = "cloudtrail.enable_log_validation"
    summary = (
        "Turn on log file integrity validation (signed digests) for a CloudTrail trail; revert turns it off"
    )
    permissions = ("cloudtrail:GetTrail", "cloudtrail:UpdateTrail")
    revert_permissions = permissions
    params_model = EnableLogValidationParams

    @functools.cached_property
    def _ct(self) -> Any:
        region = trail_region(self.params.trail_name, self.params.region)
        return client("cloudtrail", region=region, session=self.session)

    def read(self) -> dict[str, Any]:
        wanted = self.params.trail_name
        try:
            trail = self._ct.get_trail(Name=wanted)["Trail"]
        except ClientError as exc:
            if is_not_found(exc, "TrailNotFoundException", "InvalidTrailNameException"):
                return {"trail": wanted, "exists": False, "validation": None}
            raise
        return {"trail": wanted, "exists": True, "arn": trail["TrailARN"],
                "validation": bool(trail.get("LogFileValidationEnabled", False))}  # fmt: skip

    def changes(self, state: dict[str, Any]) -> list[str]:
        if not state["exists"] or state["validation"]:
            return []
        return [f"turn on log file validation for trail {state['arn']}"]

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        self._ct.update_trail(Name=state["arn"], EnableLogFileValidation=True)
        return {"enabled": state["arn"]}

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        if applied.get("enabled") and before["validation"] is False:
            self._ct.update_trail(Name=applied["enabled"], EnableLogFileValidation=False)
