"""Retrieve the Windows administrator password data of many EC2 instances."""

from __future__ import annotations

from cloudsoc.simulate.technique import technique
from cloudsoc.simulate.techniques.credential_access._ec2 import InstanceSpray


@technique
class Ec2GetPasswordData(InstanceSpray):
    title = "Retrieve EC2 password data"
    attack = ("T1552",)
    expects = ("ec2_password_data_many_instances",)
    description = (
        "Reads the password data of every instance with the stolen key, then assumes an inventory role "
        "and sprays GetPasswordData over the known and many guessed instance ids; the role may not call "
        "it, so EC2 refuses each one."
    )
    synthetic = ("ec2:GetPasswordData",)  # the refused calls: the sandbox does not enforce IAM
    role = "ec2-fleet-inventory"  # may list instances, not read their password data
    guesses = 27
    operation = "GetPasswordData"
