"""Push an SSH public key to many EC2 instances with EC2 Instance Connect."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique
from cloudsoc.simulate.techniques.credential_access._ec2 import instance_ids
from cloudsoc.simulate.techniques.lateral_movement._ssh import PUBLIC_KEY


@technique
class Ec2InstanceConnect(Technique):
    title = "Usage of EC2 Instance Connect on multiple instances"
    attack = ("T1021.004", "T1098.004")
    expects = ("ec2_instance_connect_many_instances",)
    description = (
        "Lists the instances with stolen keys and pushes the intruder's SSH public key to each of them "
        "with SendSSHPublicKey; anyone holding the private key can log in for the next 60 seconds."
    )

    def detonate(self, ctx: Ctx, state: Json) -> None:
        attacker = ctx.attacker()
        eic = client("ec2-instance-connect", session=attacker)
        for instance in instance_ids(attacker):
            eic.send_ssh_public_key(InstanceId=instance, InstanceOSUser="ec2-user", SSHPublicKey=PUBLIC_KEY)
