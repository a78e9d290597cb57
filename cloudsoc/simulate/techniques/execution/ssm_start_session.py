"""Open interactive Session Manager shells on several instances."""

from __future__ import annotations

import secrets

from cloudsoc.simulate.technique import STOLEN_USER, Ctx, Json, Technique, technique

HIDDEN_TOKEN = "Value hidden due to security reasons."


@technique
class SsmStartSession(Technique):
    title = "Usage of ssm:StartSession on multiple instances"
    attack = ("T1651",)
    expects = ("ssm_sessions_on_multiple_instances",)
    description = (
        "Checks which instances Systems Manager manages, then opens a Session Manager shell on each one "
        "and closes it again."
    )
    # The sandbox has neither a managed-instance inventory nor Session Manager.
    synthetic = ("ssm:DescribeInstanceInformation", "ssm:StartSession", "ssm:TerminateSession")

    def detonate(self, ctx: Ctx, state: Json) -> None:
        attacker = ctx.attacker()
        ids = list(ctx.res["instances"].values())
        info = [{"InstanceId": i, "PingStatus": "Online", "PlatformType": "Linux"} for i in ids]
        ctx.synthetic(
            attacker, "ssm", "DescribeInstanceInformation", {}, response={"InstanceInformationList": info}
        )
        for instance in ids:
            session = f"{STOLEN_USER}-{secrets.token_hex(9)[:17]}"
            url = f"wss://ssmmessages.{ctx.region}.amazonaws.com/v1/data-channel/{session}?role=publish_subscribe"
            opened = {"SessionId": session, "TokenValue": HIDDEN_TOKEN, "StreamUrl": url}
            ctx.synthetic(attacker, "ssm", "StartSession", {"Target": instance}, response=opened)
            ctx.synthetic(
                attacker, "ssm", "TerminateSession", {"SessionId": session}, response={"SessionId": session}
            )
