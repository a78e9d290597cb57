"""Turn GuardDuty back on in a region: re-enable a suspended detector, or create one when the
region has none (an attacker may have deleted it)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from cloudsoc.aws.api import error_code
from cloudsoc.respond.action import Action, ActionParams, action


class EnableDetectorParams(ActionParams):
    detector_id: str | None = None  # default: the region's detector (a region holds at most one)


@action
class EnableDetector(Action[EnableDetectorParams]):
    name = "guardduty.enable_detector"
    summary = "Re-enable a suspended GuardDuty detector, or create one in a region that has none"
    permissions = ("guardduty:ListDetectors", "guardduty:GetDetector", "guardduty:UpdateDetector",
                   "guardduty:CreateDetector", "iam:CreateServiceLinkedRole")  # fmt: skip
    revert_permissions = ("guardduty:ListDetectors", "guardduty:GetDetector", "guardduty:UpdateDetector",
                          "guardduty:DeleteDetector")  # fmt: skip
    params_model = EnableDetectorParams

    def read(self) -> dict[str, Any]:
        gd = self.client("guardduty")
        ids = [i for page in gd.get_paginator("list_detectors").paginate() for i in page["DetectorIds"]]
        wanted = self.params.detector_id
        # A named detector that is gone is replaced by the region's own (or a new one).
        chosen = wanted if wanted in ids else (ids[0] if ids else None)
        if chosen is None:
            return {"region": self.params.region, "detector_id": None, "status": None}
        try:
            status = gd.get_detector(DetectorId=chosen)["Status"]
        except ClientError as exc:
            if error_code(exc) in ("BadRequestException", "ResourceNotFoundException"):  # deleted meanwhile
                return {"region": self.params.region, "detector_id": None, "status": None}
            raise
        return {"region": self.params.region, "detector_id": chosen, "status": status}

    def changes(self, state: dict[str, Any]) -> list[str]:
        if state["detector_id"] is None:
            return [f"create an enabled GuardDuty detector in {state['region']}"]
        if state["status"] != "ENABLED":
            return [
                f"enable GuardDuty detector {state['detector_id']} in {state['region']} (now {state['status']})"
            ]
        return []

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        gd = self.client("guardduty")
        if state["detector_id"] is None:
            made = gd.create_detector(Enable=True, FindingPublishingFrequency="FIFTEEN_MINUTES")["DetectorId"]
            return {"created": made}
        gd.update_detector(DetectorId=state["detector_id"], Enable=True)
        return {"enabled": state["detector_id"]}

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        gd = self.client("guardduty")
        if applied.get("created"):
            gd.delete_detector(DetectorId=applied["created"])
        elif applied.get("enabled"):
            gd.update_detector(DetectorId=applied["enabled"], Enable=False)
