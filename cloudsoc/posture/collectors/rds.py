"""RDS: the DB instances and clusters (an Aurora instance's availability is its cluster's), and the
manual DB snapshots with who may restore them (the only snapshots that can be shared)."""

from __future__ import annotations

from cloudsoc.posture.collector import CollectContext, collector, names


@collector("rds")
def collect(c: CollectContext) -> None:
    instances = c.pages("DescribeDBInstances")
    if any(i.get("DBClusterIdentifier") for i in (instances or {}).get("DBInstances", [])):
        c.pages("DescribeDBClusters")
    snapshots = c.pages("DescribeDBSnapshots", SnapshotType="manual")
    for snapshot in names(snapshots and snapshots.get("DBSnapshots"), "DBSnapshotIdentifier"):
        if c.wanted(snapshot):
            c.call("DescribeDBSnapshotAttributes", snapshot, DBSnapshotIdentifier=snapshot)
