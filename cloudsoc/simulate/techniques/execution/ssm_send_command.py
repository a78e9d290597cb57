"""Run a shell command on several instances at once through Systems Manager."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique

COMMAND = 'echo "id=$(id), hostname=$(hostname)"'


@technique
class SsmSendCommand(Technique):
    title = "Usage of ssm:SendCommand on multiple instances"
    attack = ("T1651",)
    expects = ("ssm_send_command_shell_script",)
    description = (
        "Lists the instances managed by Systems Manager, runs a shell command on all of them with one "
        "SendCommand (AWS-RunShellScript) and reads each instance's output."
    )
    synthetic = ("ssm:DescribeInstanceInformation",)  # the sandbox has no managed-instance inventory

    def detonate(self, ctx: Ctx, state: Json) -> None:
        attacker = ctx.attacker()
        ids = list(ctx.res["instances"].values())
        info = [{"InstanceId": i, "PingStatus": "Online", "PlatformType": "Linux"} for i in ids]
        ctx.synthetic(
            attacker, "ssm", "DescribeInstanceInformation", {}, response={"InstanceInformationList": info}
        )
        ssm = client("ssm", session=attacker)
        command = ssm.send_command(InstanceIds=ids, DocumentName="AWS-RunShellScript",
                                   Parameters={"commands": [COMMAND]})["Command"]  # fmt: skip
        for instance in ids:
            ssm.get_command_invocation(CommandId=command["CommandId"], InstanceId=instance)
