"""Remove the flow logs of a VPC."""

from __future__ import annotations

import contextlib
import uuid

from botocore.exceptions import ClientError

from cloudsoc.aws.api import error_code
from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique


@technique
class VpcRemoveFlowLogs(Technique):
    title = "Remove VPC flow logs"
    attack = ("T1562.008",)
    expects = ("ec2_flow_logs_deleted",)
    description = "Finds the flow logs of the production VPC and deletes one, ending that network record."

    def warmup(self, ctx: Ctx) -> Json:
        admin = ctx.admin()
        bucket = f"{ctx.account}-vpc-flow-logs-{ctx.account_id}"
        client("s3", session=admin).create_bucket(Bucket=bucket)
        made = client("ec2", session=admin).create_flow_logs(
            ResourceIds=[ctx.res["vpc"]], ResourceType="VPC", TrafficType="REJECT", LogDestinationType="s3",
            LogDestination=f"arn:aws:s3:::{bucket}",
        )  # fmt: skip
        return {"flow_log": made["FlowLogIds"][0], "bucket": bucket}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        ec2 = client("ec2", session=ctx.attacker())
        ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [ctx.res["vpc"]]}])
        ec2.delete_flow_logs(FlowLogIds=[state["flow_log"]])
        _as_cloudtrail_writes_it(ctx, state["flow_log"])

    def revert(self, ctx: Ctx, state: Json) -> None:
        admin = ctx.admin()
        try:
            client("ec2", session=admin).delete_flow_logs(FlowLogIds=[state["flow_log"]])
        except ClientError as exc:
            if error_code(exc) != "InvalidFlowLogId.NotFound":  # the attack deleted it
                raise
        s3 = client("s3", session=admin)
        with contextlib.suppress(s3.exceptions.NoSuchBucket):  # already gone
            s3.delete_bucket(Bucket=state["bucket"])


def _as_cloudtrail_writes_it(ctx: Ctx, flow_log: str) -> None:
    """CloudTrail writes DeleteFlowLogs in its older XML-derived shape, not the list shape of other
    EC2 calls: the request under ``DeleteFlowLogsRequest`` and the id as an element's ``content``."""
    rec = next(r for r in reversed(ctx.recorder.records) if r["eventName"] == "DeleteFlowLogs")
    rec["requestParameters"] = {"DeleteFlowLogsRequest": {"FlowLogId": {"content": flow_log, "tag": 1}}}
    rec["responseElements"] = {"DeleteFlowLogsResponse": {"xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/",
                                                          "requestId": str(uuid.uuid4()), "unsuccessful": ""}}  # fmt: skip
