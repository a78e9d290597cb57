"""Turn on the EC2 serial console and push an SSH public key to many instances through it."""

from __future__ import annotations

import uuid

from cloudsoc.simulate.technique import Ctx, Json, Technique, technique
from cloudsoc.simulate.techniques.credential_access._ec2 import instance_ids
from cloudsoc.simulate.techniques.lateral_movement._ssh import PUBLIC_KEY


@technique
class Ec2SerialConsoleSendSshPublicKey(Technique):
    title = "Usage of EC2 Serial Console to push SSH public key"
    attack = ("T1021.004", "T1098.004")
    expects = ("ec2_serial_console_access",)
    description = (
        "With stolen keys, checks whether the account allows the EC2 serial console, turns it on, and "
        "pushes the intruder's SSH public key to every instance's serial console with "
        "SendSerialConsoleSSHPublicKey: a way in that needs no network path to the instance."
    )
    # The sandbox has no serial console: these are written as EC2 would log them; nothing to revert.
    synthetic = ("ec2:GetSerialConsoleAccessStatus", "ec2:EnableSerialConsoleAccess",
                 "ec2-instance-connect:SendSerialConsoleSSHPublicKey")  # fmt: skip

    def detonate(self, ctx: Ctx, state: Json) -> None:
        attacker = ctx.attacker()
        for operation, enabled in (
            ("GetSerialConsoleAccessStatus", False),
            ("EnableSerialConsoleAccess", True),
        ):
            ctx.synthetic(attacker, "ec2", operation, {}, response={"SerialConsoleAccessEnabled": enabled})
        for instance in instance_ids(attacker):
            ctx.synthetic(attacker, "ec2-instance-connect", "SendSerialConsoleSSHPublicKey",
                          {"InstanceId": instance, "SerialPort": 0, "SSHPublicKey": PUBLIC_KEY},
                          response={"RequestId": str(uuid.uuid4()), "Success": True})  # fmt: skip
