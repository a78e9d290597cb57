"""Make AWS Config record every supported resource type in a region: create the recorder when the
region has none, widen one that records only some types, start one that is stopped.

A recorder needs a delivery channel to start: given ``bucket`` the action creates one when the
region has none; without it the plan refuses rather than leaving a recorder that cannot start. The
default role is AWS Config's service-linked role, created when the account lacks it. Revert stops,
deletes or puts back exactly what the action started, created or changed.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from cloudsoc.aws.api import jsonable
from cloudsoc.respond.action import Action, ActionError, ActionParams, action
from cloudsoc.respond.actions._aws import is_not_found

SERVICE_ROLE = "AWSServiceRoleForConfig"
DEFAULT_NAME = "default"
# what PutConfigurationRecorder takes of what DescribeConfigurationRecorders answers
RECORDER_FIELDS = ("name", "roleARN", "recordingGroup", "recordingMode")


class EnableRecorderParams(ActionParams):
    role_arn: str | None = None  # default: AWS Config's service-linked role
    bucket: str | None = None  # for a delivery channel, when the region has none
    # Global resource types (IAM users, roles, policies...). None: recorded by a recorder the action
    # creates or widens, an all-supported recorder left as it is; True: turned on there too; False: not
    include_global_resources: bool | None = None


@action
class EnableRecorder(Action[EnableRecorderParams]):
    name = "config.enable_recorder"
    summary = (
        "Make AWS Config record all supported resource types in a region: create (with a delivery channel "
        "to the given bucket), widen or start the recorder; revert stops, deletes or restores what it changed"
    )
    permissions = ("config:DescribeConfigurationRecorders", "config:DescribeConfigurationRecorderStatus",
                   "config:DescribeDeliveryChannels", "config:PutConfigurationRecorder",
                   "config:PutDeliveryChannel", "config:StartConfigurationRecorder", "iam:GetRole",
                   "iam:CreateServiceLinkedRole", "iam:PassRole")  # fmt: skip
    revert_permissions = ("config:DescribeConfigurationRecorders", "config:DescribeConfigurationRecorderStatus",
                          "config:DescribeDeliveryChannels", "config:StopConfigurationRecorder",
                          "config:DeleteDeliveryChannel", "config:DeleteConfigurationRecorder",
                          "config:PutConfigurationRecorder", "iam:DeleteServiceLinkedRole")  # fmt: skip
    params_model = EnableRecorderParams

    @property
    def role_arn(self) -> str:
        return self.params.role_arn or (
            f"arn:aws:iam::{self.params.account_id}:role/aws-service-role/config.amazonaws.com/{SERVICE_ROLE}"
        )

    @property
    def wanted_group(self) -> dict[str, Any]:
        return {
            "allSupported": True,
            "includeGlobalResourceTypes": self.params.include_global_resources is not False,
        }

    def narrow(self, recorder: dict[str, Any]) -> bool:
        """The recorder leaves out resource types it should record."""
        group = recorder.get("recordingGroup", {})
        if not group.get("allSupported"):
            return True
        return self.params.include_global_resources is True and not group.get("includeGlobalResourceTypes")

    def read(self) -> dict[str, Any]:
        cfg = self.client("config")
        # the account's own recorder (service-linked recorders belong to other services)
        recorders = [r for r in cfg.describe_configuration_recorders()["ConfigurationRecorders"]
                     if not r.get("servicePrincipal")]  # fmt: skip
        recorder = {k: r[k] for r in recorders[:1] for k in RECORDER_FIELDS if k in r} or None
        statuses = cfg.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
        recording = any(s["name"] == (recorder or {}).get("name") and s.get("recording") for s in statuses)
        channels = [c["name"] for c in cfg.describe_delivery_channels()["DeliveryChannels"]]
        state = {"region": self.params.region, "recorder": jsonable(recorder), "recording": recording,
                 "channels": channels, "service_role": None}  # fmt: skip
        if recorder is None and self.role_arn.endswith(f"/{SERVICE_ROLE}"):
            state["service_role"] = self._service_role_exists()
        return state

    def _types(self) -> str:
        scope = "global ones too" if self.wanted_group["includeGlobalResourceTypes"] else "not global ones"
        return f"all supported resource types ({scope})"

    def _service_role_exists(self) -> bool:
        try:
            self.client("iam").get_role(RoleName=SERVICE_ROLE)
        except ClientError as exc:
            if is_not_found(exc, "NoSuchEntity"):
                return False
            raise
        return True

    def changes(self, state: dict[str, Any]) -> list[str]:
        recorder, where = state["recorder"], f"{self.params.account_id} {state['region']}"
        out = []
        if recorder is None:
            if state["service_role"] is False:
                out.append(f"create AWS Config's service-linked role {SERVICE_ROLE}")
            out.append(f"create configuration recorder {DEFAULT_NAME} in {where} recording {self._types()} "
                       f"with role {self.role_arn}")  # fmt: skip
        elif self.narrow(recorder):
            out.append(f"record {self._types()} with recorder {recorder['name']} in {where} "
                       f"(was {recorder.get('recordingGroup')})")  # fmt: skip
        if state["recording"] and out == []:
            return []
        if not state["channels"]:
            if not self.params.bucket:
                raise ActionError(
                    f"AWS Config in {where} has no delivery channel: give a bucket to create one"
                )
            out.append(f"create delivery channel {DEFAULT_NAME} in {where} to s3://{self.params.bucket}")
        if not state["recording"]:
            out.append(
                f"start configuration recorder {(recorder or {}).get('name', DEFAULT_NAME)} in {where}"
            )
        return out

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        cfg, recorder = self.client("config"), state["recorder"]
        applied: dict[str, Any] = {"created_role": None, "created_recorder": None, "widened_recorder": None,
                                   "created_channel": None, "started": None}  # fmt: skip
        if recorder is None:
            if state["service_role"] is False:
                role = self.client("iam").create_service_linked_role(AWSServiceName="config.amazonaws.com")
                applied["created_role"] = role["Role"]["RoleName"]
            recorder = {"name": DEFAULT_NAME, "roleARN": self.role_arn, "recordingGroup": self.wanted_group}
            cfg.put_configuration_recorder(ConfigurationRecorder=recorder)
            applied["created_recorder"] = DEFAULT_NAME
        elif self.narrow(recorder):
            cfg.put_configuration_recorder(
                ConfigurationRecorder=recorder | {"recordingGroup": self.wanted_group}
            )
            applied["widened_recorder"] = recorder["name"]
        if not state["channels"]:
            cfg.put_delivery_channel(
                DeliveryChannel={"name": DEFAULT_NAME, "s3BucketName": self.params.bucket}
            )
            applied["created_channel"] = DEFAULT_NAME
        if not state["recording"]:
            cfg.start_configuration_recorder(ConfigurationRecorderName=recorder["name"])
            applied["started"] = recorder["name"]
        return applied

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        cfg = self.client("config")
        if applied.get("started"):  # stopped first: a recording recorder keeps its last channel
            cfg.stop_configuration_recorder(ConfigurationRecorderName=applied["started"])
        if applied.get("created_channel"):
            cfg.delete_delivery_channel(DeliveryChannelName=applied["created_channel"])
        if applied.get("created_recorder"):
            cfg.delete_configuration_recorder(ConfigurationRecorderName=applied["created_recorder"])
        elif applied.get("widened_recorder"):
            cfg.put_configuration_recorder(ConfigurationRecorder=before["recorder"])
        if applied.get("created_role"):
            self.client("iam").delete_service_linked_role(RoleName=applied["created_role"])
