"""Forensic snapshots of every EBS volume attached to an instance.

Evidence capture, not containment: it changes nothing the workload sees, so it also runs in dry
runs. The snapshots carry the incident, the source instance and volume, so running it again for
the same incident finds them instead of taking new ones.
"""

from __future__ import annotations

from typing import Any

from cloudsoc.aws.api import jsonable
from cloudsoc.respond.action import Action, action
from cloudsoc.respond.actions._ec2 import InstanceParams, ebs_volumes, find_instance

EVIDENCE_TAG = "cloudsoc:evidence"
INCIDENT_TAG = "cloudsoc:incident"
INSTANCE_TAG = "cloudsoc:source-instance"
VOLUME_TAG = "cloudsoc:source-volume"


@action
class SnapshotVolumes(Action[InstanceParams]):
    name = "ec2.snapshot_volumes"
    summary = "Take tagged forensic snapshots of every EBS volume attached to an instance"
    permissions = ("ec2:DescribeInstances", "ec2:DescribeVolumes", "ec2:DescribeSnapshots",
                   "ec2:CreateSnapshot", "ec2:CreateSnapshots", "ec2:CreateTags")  # fmt: skip
    params_model = InstanceParams
    reversible = False  # evidence is kept, never taken back
    changes_aws = False

    def read(self) -> dict[str, Any]:
        iid = self.params.instance_id
        ec2 = self.client("ec2")
        inst = find_instance(ec2, iid)
        if inst is None:
            return {"instance_id": iid, "exists": False, "volumes": [], "snapshots": {}}
        attached = ebs_volumes(inst)
        volumes = []
        if attached:
            described = ec2.describe_volumes(VolumeIds=[v["volume_id"] for v in attached])["Volumes"]
            meta = {v["VolumeId"]: v for v in described}
            volumes = [a | _volume_meta(meta.get(a["volume_id"], {})) for a in attached]
        return {"instance_id": iid, "exists": True, "volumes": volumes, "snapshots": self._evidence()}

    def _evidence(self) -> dict[str, str]:
        """Volume id -> the evidence snapshot already taken of it for this incident."""
        filters = [{"Name": f"tag:{EVIDENCE_TAG}", "Values": ["true"]},
                   {"Name": f"tag:{INCIDENT_TAG}", "Values": [self.params.incident]},
                   {"Name": f"tag:{INSTANCE_TAG}", "Values": [self.params.instance_id]}]  # fmt: skip
        pages = (
            self.client("ec2")
            .get_paginator("describe_snapshots")
            .paginate(OwnerIds=["self"], Filters=filters)
        )
        return {
            s["VolumeId"]: s["SnapshotId"]
            for page in pages
            for s in page["Snapshots"]
            if s["State"] != "error"
        }

    def changes(self, state: dict[str, Any]) -> list[str]:
        incident = self.params.incident or "(none)"
        return [
            f"snapshot volume {v['volume_id']} ({v['device']}, {v.get('size', '?')} GiB) of {state['instance_id']}"
            f" for incident {incident}"
            for v in self._missing(state)
        ]

    def _missing(self, state: dict[str, Any]) -> list[dict[str, Any]]:
        return [v for v in state["volumes"] if v["volume_id"] not in state["snapshots"]]

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        ec2 = self.client("ec2")
        iid = state["instance_id"]
        missing = self._missing(state)
        description = f"cloudsoc evidence: {iid} incident {self.params.incident}".strip()
        common = [{"Key": EVIDENCE_TAG, "Value": "true"}, {"Key": INCIDENT_TAG, "Value": self.params.incident},
                  {"Key": INSTANCE_TAG, "Value": iid}]  # fmt: skip
        if len(missing) == len(state["volumes"]):
            # All at once: one crash-consistent point in time across the instance's volumes.
            made = ec2.create_snapshots(InstanceSpecification={"InstanceId": iid}, Description=description,
                                        TagSpecifications=[{"ResourceType": "snapshot", "Tags": common}])["Snapshots"]  # fmt: skip
            taken = {s["VolumeId"]: s["SnapshotId"] for s in made}
            for vol, snap in taken.items():
                ec2.create_tags(Resources=[snap], Tags=[{"Key": VOLUME_TAG, "Value": vol}])
        else:
            taken = {}
            for v in missing:
                tags = [*common, {"Key": VOLUME_TAG, "Value": v["volume_id"]}]
                taken[v["volume_id"]] = ec2.create_snapshot(
                    VolumeId=v["volume_id"], Description=description,
                    TagSpecifications=[{"ResourceType": "snapshot", "Tags": tags}])["SnapshotId"]  # fmt: skip
        by_id = {v["volume_id"]: v for v in state["volumes"]}
        return {
            "snapshots": [
                by_id.get(vol, {"volume_id": vol}) | {"snapshot_id": snap} for vol, snap in taken.items()
            ]
        }

    def capture(self, state: dict[str, Any], applied: dict[str, Any]) -> dict[str, Any]:
        return {
            "instance_id": state["instance_id"],
            "volumes": state["volumes"],
            "snapshots": applied["snapshots"],
        }


def _volume_meta(volume: dict[str, Any]) -> dict[str, Any]:
    keys = {"Size": "size", "VolumeType": "volume_type", "Encrypted": "encrypted", "KmsKeyId": "kms_key_id",
            "AvailabilityZone": "availability_zone", "SnapshotId": "created_from_snapshot", "CreateTime": "created_at",
            "Iops": "iops", "Tags": "tags"}  # fmt: skip
    return {name: jsonable(volume[key]) for key, name in keys.items() if key in volume}
