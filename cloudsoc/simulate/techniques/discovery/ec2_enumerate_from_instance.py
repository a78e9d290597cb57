"""Run discovery commands on an EC2 instance, under the identity of its instance role."""

from __future__ import annotations

import boto3

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique
from cloudsoc.simulate.techniques.credential_access._ec2 import ec2_denied

NAT_ADDRESS = "3.231.17.94"  # the prod VPC's NAT gateway: the instance's address on the internet
INSTANCE_CLI = ("aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.1.115-126.197.amzn2023.x86_64 md/arch#x86_64 "
                "lang/python#3.9.20 md/pyimpl#CPython cfg/retry-mode#standard md/installer#rpm md/distrib#amzn.2023 "
                "md/prompt#off")  # fmt: skip
# What the role may not do: (service, operation); the role only reads S3.
REFUSED = (("iam", "GetAccountSummary"), ("iam", "ListRoles"), ("iam", "ListUsers"),
           ("iam", "GetAccountAuthorizationDetails"), ("cloudtrail", "DescribeTrails"),
           ("guardduty", "ListDetectors"), ("secretsmanager", "ListSecrets"))  # fmt: skip
REFUSED_EC2 = ("DescribeInstances", "DescribeVpcs", "DescribeSecurityGroups", "DescribeSnapshots")


@technique
class Ec2EnumerateFromInstance(Technique):
    title = "Execute discovery commands on an EC2 instance"
    attack = ("T1580", "T1087.004", "T1526")
    expects = ("ec2_instance_role_discovery",)
    description = (
        "From a shell on the web instance, runs the usual first commands of an intruder with the "
        "aws-cli and the instance role's credentials: who am I, which buckets, users, roles, trails, "
        "detectors, instances, networks and snapshots. The role only reads S3, so most are refused."
    )
    synthetic = tuple(f"{s}:{o}" for s, o in REFUSED) + tuple(f"ec2:{o}" for o in REFUSED_EC2)

    def detonate(self, ctx: Ctx, state: Json) -> None:
        shell = ctx.instance_role("web-app-role", actor=ctx.actor(NAT_ADDRESS, INSTANCE_CLI))
        client("sts", session=shell).get_caller_identity()
        client("s3", session=shell).list_buckets()
        self._refused(ctx, shell)

    @staticmethod
    def _refused(ctx: Ctx, shell: boto3.Session) -> None:
        for service, operation in REFUSED:
            ctx.denied(shell, service, operation)
        for operation in REFUSED_EC2:
            ec2_denied(ctx, shell, operation, {})
