"""Isolate a compromised EC2 instance, keeping it (and its disks) for forensics.

Order matters: the instance leaves its Auto Scaling group first (the desired capacity drops with
it, so the group neither replaces it nor, once it stops answering health checks, terminates it)
and its load balancer target groups (no more user traffic), then every network interface moves to
a quarantine security group with no rules at all (existing tracked connections are cut when the
groups change), and termination protection plus DeleteOnTermination=false keep the evidence.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from cloudsoc.aws.api import error_code
from cloudsoc.respond.action import Action, ActionError, action
from cloudsoc.respond.actions._aws import is_not_found
from cloudsoc.respond.actions._ec2 import InstanceParams, ebs_volumes, find_instance

QUARANTINE_GROUP = "cloudsoc-quarantine"


@action
class IsolateInstance(Action[InstanceParams]):
    name = "ec2.isolate_instance"
    summary = (
        "Detach an instance from its Auto Scaling group and target groups, move it to a no-traffic "
        "quarantine security group, and protect it and its volumes from termination"
    )
    permissions = (
        "ec2:DescribeInstances", "ec2:DescribeInstanceAttribute", "ec2:DescribeSecurityGroups",
        "ec2:CreateSecurityGroup", "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress",
        "ec2:ModifyNetworkInterfaceAttribute", "ec2:ModifyInstanceAttribute",
        "autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:UpdateAutoScalingGroup", "autoscaling:DetachInstances",
        "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth",
        "elasticloadbalancing:DeregisterTargets",
    )  # fmt: skip
    revert_permissions = (
        "ec2:DescribeInstances", "ec2:DescribeInstanceAttribute", "ec2:DescribeSecurityGroups",
        "ec2:DescribeNetworkInterfaces", "ec2:ModifyNetworkInterfaceAttribute", "ec2:ModifyInstanceAttribute",
        "ec2:DeleteSecurityGroup", "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeAutoScalingGroups", "autoscaling:AttachInstances",
        "autoscaling:UpdateAutoScalingGroup", "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:RegisterTargets",
    )  # fmt: skip
    params_model = InstanceParams

    # -- reading -------------------------------------------------------------------------------
    def read(self) -> dict[str, Any]:
        iid = self.params.instance_id
        ec2 = self.client("ec2")
        inst = find_instance(ec2, iid)
        if inst is None:
            return {"instance_id": iid, "exists": False}
        vpc = inst.get("VpcId", "")
        protection = ec2.describe_instance_attribute(InstanceId=iid, Attribute="disableApiTermination")
        return {
            "instance_id": iid,
            "exists": True,
            "vpc_id": vpc,
            "auto_scaling": self._auto_scaling(),
            "target_groups": self._target_groups(vpc),
            "network_interfaces": [
                {"id": eni["NetworkInterfaceId"], "groups": [g["GroupId"] for g in eni.get("Groups", [])]}
                for eni in inst.get("NetworkInterfaces", [])
            ],
            "termination_protection": bool(protection["DisableApiTermination"]["Value"]),
            "volumes": ebs_volumes(inst),
            "quarantine_group": quarantine_group(ec2, vpc),
        }

    def _auto_scaling(self) -> dict[str, Any] | None:
        asg = self.client("autoscaling")
        found = asg.describe_auto_scaling_instances(InstanceIds=[self.params.instance_id])[
            "AutoScalingInstances"
        ]
        if not found or found[0].get("LifecycleState") in ("Detaching", "Detached"):  # on its way out
            return None
        name = found[0]["AutoScalingGroupName"]
        group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
        return {"group": name, "min_size": group["MinSize"], "desired_capacity": group["DesiredCapacity"],
                "lifecycle_state": found[0].get("LifecycleState", "")}  # fmt: skip

    def _target_groups(self, vpc: str) -> list[dict[str, Any]]:
        """Every instance target group in the VPC where the instance is registered (a draining
        registration is on its way out already)."""
        elb = self.client("elbv2")
        out = []
        for page in elb.get_paginator("describe_target_groups").paginate():
            for tg in page["TargetGroups"]:
                if tg.get("TargetType", "instance") != "instance" or tg.get("VpcId") != vpc:
                    continue
                arn = tg["TargetGroupArn"]
                for h in elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]:
                    target = h["Target"]
                    if (
                        target["Id"] == self.params.instance_id
                        and h["TargetHealth"].get("State") != "draining"
                    ):
                        out.append({"arn": arn, "port": target.get("Port", tg.get("Port"))})
        return out

    # -- planning ------------------------------------------------------------------------------
    def changes(self, state: dict[str, Any]) -> list[str]:
        if not state["exists"]:
            return []
        iid = state["instance_id"]
        out = []
        if asg := state["auto_scaling"]:
            out.append(f"detach {iid} from Auto Scaling group {asg['group']} (desired capacity "
                       f"{asg['desired_capacity']} -> {asg['desired_capacity'] - 1}, so it is not replaced)")  # fmt: skip
        out += [
            f"deregister {iid} from target group {tg['arn']} (port {tg['port']})"
            for tg in state["target_groups"]
        ]
        q = state["quarantine_group"]
        if q is None:
            out.append(f"create security group {QUARANTINE_GROUP} in {state['vpc_id']} with no rules")
        elif q["ingress"] or q["egress"]:
            out.append(f"remove every rule of the quarantine security group {q['id']}")
        qid = q["id"] if q else QUARANTINE_GROUP
        for eni in state["network_interfaces"]:
            if eni["groups"] != [qid]:
                out.append(f"move network interface {eni['id']} from {', '.join(eni['groups'])} to {qid}")
        if not state["termination_protection"]:
            out.append(f"enable termination protection on {iid}")
        for vol in state["volumes"]:
            if vol["delete_on_termination"]:
                out.append(f"keep volume {vol['volume_id']} ({vol['device']}) when {iid} terminates")
        return out

    # -- applying ------------------------------------------------------------------------------
    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        iid = state["instance_id"]
        if state["auto_scaling"]:
            self._detach(state["auto_scaling"])
        elb = self.client("elbv2")
        for tg in state["target_groups"]:
            elb.deregister_targets(TargetGroupArn=tg["arn"], Targets=[{"Id": iid, "Port": tg["port"]}])
        ec2 = self.client("ec2")
        qid, created = ensure_quarantine_group(ec2, state["vpc_id"], state["quarantine_group"])
        self._set_groups(ec2, {eni["id"]: [qid] for eni in state["network_interfaces"]})
        if not state["termination_protection"]:
            ec2.modify_instance_attribute(InstanceId=iid, DisableApiTermination={"Value": True})
        self._delete_on_termination(
            ec2, {v["device"]: False for v in state["volumes"] if v["delete_on_termination"]}
        )
        return {"quarantine_group": qid, "created_quarantine_group": created}

    def _detach(self, asg: dict[str, Any]) -> None:
        client = self.client("autoscaling")
        if asg["desired_capacity"] - 1 < asg["min_size"]:
            # Detaching with a lower desired capacity is refused below the minimum: lower it too
            # (revert puts it back) rather than let the group launch a replacement.
            client.update_auto_scaling_group(
                AutoScalingGroupName=asg["group"], MinSize=asg["desired_capacity"] - 1
            )
        client.detach_instances(InstanceIds=[self.params.instance_id], AutoScalingGroupName=asg["group"],
                                ShouldDecrementDesiredCapacity=True)  # fmt: skip

    def _set_groups(self, ec2: Any, groups: dict[str, list[str]]) -> None:
        """Replace the groups of each interface. With a single interface the instance-level call
        follows: on AWS it sets the same (primary) interface again; implementations that keep the
        instance's launch groups beside the interface's (the sandbox) need it to drop them."""
        for eni, ids in groups.items():
            ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, Groups=ids)
        if len(groups) == 1:
            ec2.modify_instance_attribute(
                InstanceId=self.params.instance_id, Groups=next(iter(groups.values()))
            )

    def _delete_on_termination(self, ec2: Any, values: dict[str, bool]) -> None:
        if values:
            ec2.modify_instance_attribute(InstanceId=self.params.instance_id, BlockDeviceMappings=[
                {"DeviceName": dev, "Ebs": {"DeleteOnTermination": keep}} for dev, keep in values.items()])  # fmt: skip

    # -- reverting -----------------------------------------------------------------------------
    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        iid = before["instance_id"]
        ec2 = self.client("ec2")
        try:
            self._set_groups(ec2, {eni["id"]: eni["groups"] for eni in before["network_interfaces"]})
            ec2.modify_instance_attribute(
                InstanceId=iid, DisableApiTermination={"Value": before["termination_protection"]}
            )
            self._delete_on_termination(
                ec2, {v["device"]: v["delete_on_termination"] for v in before["volumes"]}
            )
        except ClientError as exc:
            if is_not_found(exc):
                raise ActionError(
                    f"cannot restore {iid}: it (or one of its interfaces) no longer exists"
                ) from exc
            raise
        elb = self.client("elbv2")
        for tg in before["target_groups"]:
            elb.register_targets(TargetGroupArn=tg["arn"], Targets=[{"Id": iid, "Port": tg["port"]}])
        if before["auto_scaling"] and self._auto_scaling() is None:
            self._reattach(before["auto_scaling"])
        if applied.get("created_quarantine_group"):
            delete_if_unused(ec2, applied["quarantine_group"])

    def _reattach(self, asg: dict[str, Any]) -> None:
        client = self.client("autoscaling")
        # Attach first (it raises the desired capacity by one), then the minimum: raised first, the
        # group would launch a replacement.
        client.attach_instances(InstanceIds=[self.params.instance_id], AutoScalingGroupName=asg["group"])
        group = client.describe_auto_scaling_groups(AutoScalingGroupNames=[asg["group"]])["AutoScalingGroups"]
        if group and group[0]["MinSize"] < asg["min_size"]:
            client.update_auto_scaling_group(AutoScalingGroupName=asg["group"], MinSize=asg["min_size"])


# --- the quarantine group ------------------------------------------------------------------------
def quarantine_group(ec2: Any, vpc: str) -> dict[str, Any] | None:
    filters = [{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": [QUARANTINE_GROUP]}]
    groups = ec2.describe_security_groups(Filters=filters)["SecurityGroups"]
    if not groups:
        return None
    g = groups[0]
    return {
        "id": g["GroupId"],
        "ingress": g.get("IpPermissions", []),
        "egress": g.get("IpPermissionsEgress", []),
    }


def ensure_quarantine_group(ec2: Any, vpc: str, known: dict[str, Any] | None) -> tuple[str, bool]:
    """The VPC's quarantine group, created when missing, with no rule in or out (a new group
    allows all egress by default). Returns its id and whether this call created it."""
    created = False
    if known is None:
        try:
            ec2.create_security_group(GroupName=QUARANTINE_GROUP, VpcId=vpc,
                                      Description="cloudsoc quarantine: no traffic in or out")  # fmt: skip
            created = True
        except ClientError as exc:
            if error_code(exc) != "InvalidGroup.Duplicate":  # another isolation made it meanwhile
                raise
        known = quarantine_group(ec2, vpc)
        if known is None:
            raise ActionError(f"the quarantine security group in {vpc} vanished after it was created")
    if known["ingress"]:
        ec2.revoke_security_group_ingress(GroupId=known["id"], IpPermissions=known["ingress"])
    if known["egress"]:
        ec2.revoke_security_group_egress(GroupId=known["id"], IpPermissions=known["egress"])
    return str(known["id"]), created


def delete_if_unused(ec2: Any, group_id: str) -> None:
    """Remove a quarantine group this action created once no interface uses it any more."""
    users = ec2.describe_network_interfaces(Filters=[{"Name": "group-id", "Values": [group_id]}])
    if users["NetworkInterfaces"]:
        return
    try:
        ec2.delete_security_group(GroupId=group_id)
    except ClientError as exc:
        if error_code(exc) not in ("DependencyViolation", "InvalidGroup.NotFound"):
            raise
