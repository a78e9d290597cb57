"""Put a tampered CloudTrail trail back to work: logging on, management events recorded again.

An attacker blinds a trail by stopping it, by event selectors that leave out management events (it
still reports "logging"), or by deleting it. Without explicit selectors the action keeps the
trail's data-event selectors and makes sure all management events (read and write, no excluded
sources) are recorded; given ``s3_bucket`` it recreates a deleted trail. Organization trails live
in the management account: act there.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from botocore.exceptions import ClientError

from cloudsoc.aws.session import client
from cloudsoc.respond.action import Action, ActionParams, action
from cloudsoc.respond.actions._aws import is_not_found, trail_region

MANAGEMENT_ALL = {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}
MANAGEMENT_ADVANCED = {
    "Name": "Management events",
    "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
}
MAX_SELECTORS = 5  # what a trail accepts


class RestoreTrailParams(ActionParams):
    trail: str  # name or ARN
    event_selectors: list[dict[str, Any]] | None = (
        None  # basic (ReadWriteType...) or advanced (FieldSelectors)
    )
    s3_bucket: str | None = None  # recreate the trail there when it was deleted


@action
class RestoreTrail(Action[RestoreTrailParams]):
    name = "cloudtrail.restore_trail"
    summary = "Start a stopped CloudTrail trail and restore event selectors that record all management events"
    permissions = ("cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors",
                   "cloudtrail:PutEventSelectors", "cloudtrail:StartLogging", "cloudtrail:CreateTrail")  # fmt: skip
    revert_permissions = ("cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors",
                          "cloudtrail:PutEventSelectors", "cloudtrail:StopLogging", "cloudtrail:DeleteTrail")  # fmt: skip
    params_model = RestoreTrailParams

    @functools.cached_property
    def _ct(self) -> Any:
        """A client in the trail's home region, made once."""
        return client(
            "cloudtrail", region=trail_region(self.params.trail, self.params.region), session=self.session
        )

    def read(self) -> dict[str, Any]:
        ct = self._ct
        wanted = self.params.trail
        # Filter the answer too: not every implementation honours trailNameList.
        trails = [
            t
            for t in ct.describe_trails(trailNameList=[wanted])["trailList"]
            if wanted in (t["Name"], t["TrailARN"])
        ]
        if not trails:
            return {"trail": wanted, "exists": False}
        arn = trails[0]["TrailARN"]
        try:
            status = ct.get_trail_status(Name=arn)
            selectors = ct.get_event_selectors(TrailName=arn)
        except ClientError as exc:
            if is_not_found(exc):
                return {"trail": wanted, "exists": False}
            raise
        return {"trail": wanted, "exists": True, "arn": arn, "name": trails[0]["Name"],
                "s3_bucket": trails[0].get("S3BucketName"), "is_logging": bool(status["IsLogging"]),
                "event_selectors": selectors.get("EventSelectors", []),
                "advanced_event_selectors": selectors.get("AdvancedEventSelectors", [])}  # fmt: skip

    # -- what the selectors should be ----------------------------------------------------------
    def target_selectors(self, state: dict[str, Any]) -> tuple[str, list[dict[str, Any]]] | None:
        """The selectors to put (which kind, which list); None when the current ones will do."""
        basic, advanced = state["event_selectors"], state["advanced_event_selectors"]
        if self.params.event_selectors is not None:
            wanted = self.params.event_selectors
            kind = (
                "AdvancedEventSelectors" if any("FieldSelectors" in s for s in wanted) else "EventSelectors"
            )
            current = basic if kind == "EventSelectors" else advanced
            return (
                None if _same(current, wanted) and (kind == "EventSelectors" or not basic) else (kind, wanted)
            )
        if basic:  # basic selectors take effect when both are reported
            return (
                None
                if any(_records_management(s) for s in basic)
                else ("EventSelectors", _with_management(basic))
            )
        if advanced:
            if any(_records_management_advanced(s) for s in advanced):
                return None
            data = [s for s in advanced if not _mentions_management(s)]
            return "AdvancedEventSelectors", [MANAGEMENT_ADVANCED, *data][:MAX_SELECTORS]
        return None  # no custom selectors: the trail records all management events

    def changes(self, state: dict[str, Any]) -> list[str]:
        if not state["exists"]:
            if not self.params.s3_bucket:
                return []  # nothing to restore, and nowhere to recreate it
            name = self.params.trail.rsplit("/", 1)[-1]
            return [f"recreate trail {name} (multi-region, log file validation) delivering to s3://{self.params.s3_bucket}",
                    f"record all management events on {name}", f"start logging on {name}"]  # fmt: skip
        out = []
        if target := self.target_selectors(state):
            out.append(f"put {target[0]} on {state['arn']}: {json.dumps(target[1], sort_keys=True)}")
        if not state["is_logging"]:
            out.append(f"start logging on {state['arn']}")
        return out

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        ct = self._ct
        if not state["exists"]:
            return {"created": self._recreate(ct)}
        applied: dict[str, Any] = {"selectors_changed": False, "started_logging": False}
        if target := self.target_selectors(state):
            ct.put_event_selectors(TrailName=state["arn"], **{target[0]: target[1]})
            applied["selectors_changed"] = True
        if not state["is_logging"]:
            ct.start_logging(Name=state["arn"])
            applied["started_logging"] = True
        return applied

    def _recreate(self, ct: Any) -> str:
        name = self.params.trail.rsplit("/", 1)[-1]
        arn = str(ct.create_trail(Name=name, S3BucketName=self.params.s3_bucket, IsMultiRegionTrail=True,
                                  IncludeGlobalServiceEvents=True, EnableLogFileValidation=True)["TrailARN"])  # fmt: skip
        wanted = self.params.event_selectors or [MANAGEMENT_ALL]
        kind = "AdvancedEventSelectors" if any("FieldSelectors" in s for s in wanted) else "EventSelectors"
        ct.put_event_selectors(TrailName=arn, **{kind: wanted})
        ct.start_logging(Name=arn)
        return arn

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        ct = self._ct
        if applied.get("created"):
            # by name (the ARN's last part): the sandbox deletes by name only
            ct.delete_trail(Name=applied["created"].rsplit("/", 1)[-1])
            return
        if applied.get("selectors_changed"):
            if before["event_selectors"]:
                ct.put_event_selectors(TrailName=before["arn"], EventSelectors=before["event_selectors"])
            else:
                ct.put_event_selectors(
                    TrailName=before["arn"], AdvancedEventSelectors=before["advanced_event_selectors"]
                )
        if applied.get("started_logging"):
            ct.stop_logging(Name=before["arn"])


def _same(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    """Equal selector lists, empty fields ignored (the service echoes them back or leaves them out)."""

    def canon(sels: list[dict[str, Any]]) -> list[str]:
        return sorted(
            json.dumps({k: v for k, v in s.items() if v not in ([], None, "")}, sort_keys=True) for s in sels
        )

    return canon(a) == canon(b)


def _records_management(selector: dict[str, Any]) -> bool:
    return (
        bool(selector.get("IncludeManagementEvents"))
        and selector.get("ReadWriteType") == "All"
        and not selector.get("ExcludeManagementEventSources")
    )


def _with_management(basic: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The data-event selectors as they are, management events (all of them) on exactly one selector."""
    data = [{**s, "IncludeManagementEvents": False, "ExcludeManagementEventSources": []}
            for s in basic if s.get("DataResources")]  # fmt: skip
    for s in data:
        if s.get("ReadWriteType") == "All":
            s["IncludeManagementEvents"] = True
            return data
    return [MANAGEMENT_ALL, *data][:MAX_SELECTORS]


def _records_management_advanced(selector: dict[str, Any]) -> bool:
    """eventCategory = Management and nothing narrowing it (readOnly, eventSource, ...)."""
    fields = selector.get("FieldSelectors", [])
    return [f.get("Field") for f in fields] == ["eventCategory"] and fields[0].get("Equals") == ["Management"]


def _mentions_management(selector: dict[str, Any]) -> bool:
    return any(
        f.get("Field") == "eventCategory" and "Management" in f.get("Equals", [])
        for f in selector.get("FieldSelectors", [])
    )
