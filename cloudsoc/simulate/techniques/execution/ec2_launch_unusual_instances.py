"""Try to launch GPU instances with stolen keys, as cryptominers do; the attempts fail."""

from __future__ import annotations

from cloudsoc.simulate.technique import Ctx, Json, Technique, technique

# GPU families a miner tries one after the other; the account has no vCPU quota for any of them.
ATTEMPTS = (("p2.xlarge", 10), ("p3.2xlarge", 10), ("g4dn.12xlarge", 4))
PUBLIC_AMI = "ami-0e86e20dae9224db8"  # a public Ubuntu image, not one of the organization's
QUOTA = ("Client.VcpuLimitExceeded",
         "You have requested more vCPU capacity than your current vCPU limit of 0 allows for the instance bucket "
         "that the specified instance type belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request "
         "to request an adjustment to this limit.")  # fmt: skip


@technique
class Ec2LaunchUnusualInstances(Technique):
    title = "Launch unusual EC2 instances"
    attack = ("T1496.001",)
    expects = ("ec2_unusual_instance_type_launch",)
    description = (
        "Tries to run up to ten GPU instances (p2.xlarge, then other GPU families) with the stolen key. "
        "The account's vCPU quota for those families is zero, so every RunInstances fails."
    )
    # The sandbox would launch them; the real account refuses, so the failed calls are written.
    synthetic = ("ec2:RunInstances",)

    def detonate(self, ctx: Ctx, state: Json) -> None:
        attacker = ctx.attacker()
        for instance_type, count in ATTEMPTS:
            params = {"ImageId": PUBLIC_AMI, "InstanceType": instance_type, "MinCount": 1, "MaxCount": count,
                      "SubnetId": ctx.res["subnet"]}  # fmt: skip
            ctx.synthetic(attacker, "ec2", "RunInstances", params, error=QUOTA)
