"""Download the user data of many EC2 instances, looking for secrets in launch scripts."""

from __future__ import annotations

from cloudsoc.simulate.technique import technique
from cloudsoc.simulate.techniques.credential_access._ec2 import InstanceSpray


@technique
class Ec2DownloadUserData(InstanceSpray):
    title = "Download EC2 instance user data"
    attack = ("T1580", "T1552")
    expects = ("ec2_user_data_many_instances",)
    description = (
        "Reads the user data of every instance with the stolen key, then assumes a reporting role and "
        "asks for the user data of the known and many guessed instance ids; the role may not, so EC2 "
        "refuses each one."
    )
    synthetic = ("ec2:DescribeInstanceAttribute",)  # the refused calls: the sandbox does not enforce IAM
    role = "ec2-asset-reporting"  # may list instances, not read their attributes
    guesses = 12
    operation = "DescribeInstanceAttribute"
    extra = {"Attribute": "userData"}
