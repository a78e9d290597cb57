"""Restore VPC Flow Logs: deliver a VPC's traffic records to S3 again when nothing records them
(an attacker deleting flow logs is covering network activity)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from cloudsoc.respond.action import Action, ActionError, ActionParams, action
from cloudsoc.respond.actions._aws import is_not_found


class RestoreFlowLogsParams(ActionParams):
    vpc_id: str
    log_destination: str  # S3 bucket ARN (arn:aws:s3:::bucket, optionally with /prefix)
    traffic_type: str = "ALL"  # ALL | ACCEPT | REJECT
    log_format: str | None = None  # default: the service's default format


@action
class RestoreFlowLogs(Action[RestoreFlowLogsParams]):
    name = "ec2.restore_flow_logs"
    summary = "Create an S3 flow log for a VPC that has no active flow log"
    permissions = ("ec2:DescribeVpcs", "ec2:DescribeFlowLogs", "ec2:CreateFlowLogs", "ec2:CreateTags",
                   "logs:CreateLogDelivery", "s3:GetBucketPolicy", "s3:PutBucketPolicy")  # fmt: skip
    revert_permissions = (
        "ec2:DescribeVpcs",
        "ec2:DescribeFlowLogs",
        "ec2:DeleteFlowLogs",
        "logs:DeleteLogDelivery",
    )
    params_model = RestoreFlowLogsParams

    def read(self) -> dict[str, Any]:
        ec2 = self.client("ec2")
        vpc = self.params.vpc_id
        try:
            ec2.describe_vpcs(VpcIds=[vpc])
        except ClientError as exc:
            if is_not_found(exc):
                return {"vpc_id": vpc, "exists": False, "flow_logs": []}
            raise
        filters = [{"Name": "resource-id", "Values": [vpc]}]
        logs = [
            log
            for page in ec2.get_paginator("describe_flow_logs").paginate(Filters=filters)
            for log in page["FlowLogs"]
        ]
        return {"vpc_id": vpc, "exists": True, "flow_logs": [
            {"id": log["FlowLogId"], "status": log.get("FlowLogStatus"), "traffic_type": log.get("TrafficType"),
             "destination_type": log.get("LogDestinationType"), "destination": log.get("LogDestination")}
            for log in logs]}  # fmt: skip

    def _covering(self, state: dict[str, Any]) -> list[dict[str, Any]]:
        """Active flow logs recording at least the wanted traffic."""
        wanted = self.params.traffic_type
        return [
            f for f in state["flow_logs"] if f["status"] == "ACTIVE" and f["traffic_type"] in ("ALL", wanted)
        ]

    def changes(self, state: dict[str, Any]) -> list[str]:
        if not state["exists"] or self._covering(state):
            return []
        fmt = " (custom format)" if self.params.log_format else ""
        return [f"create a flow log of {self.params.traffic_type} traffic of {state['vpc_id']} to "
                f"{self.params.log_destination}{fmt}"]  # fmt: skip

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"LogFormat": self.params.log_format} if self.params.log_format else {}
        if self.params.incident:
            kwargs["TagSpecifications"] = [
                {
                    "ResourceType": "vpc-flow-log",
                    "Tags": [{"Key": "cloudsoc:incident", "Value": self.params.incident}],
                }
            ]
        made = self.client("ec2").create_flow_logs(
            ResourceIds=[state["vpc_id"]], ResourceType="VPC", TrafficType=self.params.traffic_type,
            LogDestinationType="s3", LogDestination=self.params.log_destination, **kwargs)  # fmt: skip
        if made.get("Unsuccessful") or not made.get("FlowLogIds"):
            problems = [u.get("Error", {}).get("Message", "") for u in made.get("Unsuccessful", [])]
            raise ActionError(
                f"could not create the flow log of {state['vpc_id']}: {'; '.join(problems) or 'no id returned'}"
            )
        return {"created": made["FlowLogIds"][0]}

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        if applied.get("created"):
            self.client("ec2").delete_flow_logs(FlowLogIds=[applied["created"]])
