"""Stop sharing an RDS DB snapshot publicly or with accounts outside the allowed ones."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from cloudsoc.respond.action import Action, ActionParams, action
from cloudsoc.respond.actions._aws import is_not_found


class UnshareDBSnapshotParams(ActionParams):
    db_snapshot_id: str
    allowed_accounts: list[str] = []  # accounts that keep their access (the organization's own)


@action
class UnshareDBSnapshot(Action[UnshareDBSnapshotParams]):
    name = "rds.unshare_snapshot"
    summary = (
        "Remove 'all' (public) and accounts outside the allowed ones from a DB snapshot's restore "
        "attribute; revert shares it with them again"
    )
    permissions = ("rds:DescribeDBSnapshotAttributes", "rds:ModifyDBSnapshotAttribute")
    revert_permissions = permissions
    params_model = UnshareDBSnapshotParams

    def read(self) -> dict[str, Any]:
        sid = self.params.db_snapshot_id
        state: dict[str, Any] = {"db_snapshot_id": sid, "exists": True, "restore": []}
        try:
            answer = self.client("rds").describe_db_snapshot_attributes(DBSnapshotIdentifier=sid)
        except ClientError as exc:
            if is_not_found(exc, "DBSnapshotNotFound", "DBSnapshotNotFoundFault"):
                return state | {"exists": False}
            raise
        for attr in answer["DBSnapshotAttributesResult"].get("DBSnapshotAttributes", []):
            if attr.get("AttributeName") == "restore":
                state["restore"] = sorted(attr.get("AttributeValues", []))
        return state

    def foreign(self, values: list[str]) -> list[str]:
        allowed = {self.params.account_id, *self.params.allowed_accounts}
        return [v for v in values if v == "all" or v not in allowed]

    def changes(self, state: dict[str, Any]) -> list[str]:
        sid = self.params.db_snapshot_id
        return [
            f"stop sharing DB snapshot {sid} with {'everyone (public)' if v == 'all' else f'account {v}'}"
            for v in self.foreign(state["restore"])
        ]

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        removed = self.foreign(state["restore"])
        self._modify(ValuesToRemove=removed)
        return {"removed": removed}

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        if applied.get("removed"):
            self._modify(ValuesToAdd=applied["removed"])

    def _modify(self, **values: list[str]) -> None:
        self.client("rds").modify_db_snapshot_attribute(
            DBSnapshotIdentifier=self.params.db_snapshot_id, AttributeName="restore", **values
        )
