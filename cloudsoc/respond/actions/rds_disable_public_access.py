"""Take a database instance off the internet: PubliclyAccessible off, applied immediately, so its
endpoint resolves to its private address only. Its security groups and subnets stay as they are."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from cloudsoc.respond.action import Action, ActionParams, action
from cloudsoc.respond.actions._aws import gone_on_revert, is_not_found

GONE = ("DBInstanceNotFound", "DBInstanceNotFoundFault")
GONE_STATES = frozenset({"deleting", "deleted"})


class DisablePublicAccessParams(ActionParams):
    db_instance_id: str


@action
class DisablePublicAccess(Action[DisablePublicAccessParams]):
    name = "rds.disable_public_access"
    summary = "Turn off PubliclyAccessible on an RDS database instance (applied immediately); revert turns it back on"
    permissions = ("rds:DescribeDBInstances", "rds:ModifyDBInstance")
    revert_permissions = permissions
    params_model = DisablePublicAccessParams

    def read(self) -> dict[str, Any]:
        db_id = self.params.db_instance_id
        gone = {"db_instance_id": db_id, "exists": False, "public": None}
        try:
            db = self.client("rds").describe_db_instances(DBInstanceIdentifier=db_id)["DBInstances"][0]
        except ClientError as exc:
            if is_not_found(exc, *GONE):
                return gone
            raise
        if db.get("DBInstanceStatus") in GONE_STATES:
            return gone
        return {"db_instance_id": db_id, "exists": True, "public": bool(db.get("PubliclyAccessible", False)),
                "status": db.get("DBInstanceStatus")}  # fmt: skip

    def changes(self, state: dict[str, Any]) -> list[str]:
        if not state["exists"] or not state["public"]:
            return []
        return [f"turn off public access to database instance {state['db_instance_id']}"]

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        self._modify(False)
        return {"disabled": True}

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        if not (applied.get("disabled") and before["public"]):
            return
        with gone_on_revert(f"cannot restore public access: {before['db_instance_id']} is gone", *GONE):
            self._modify(True)

    def _modify(self, public: bool) -> None:
        self.client("rds").modify_db_instance(
            DBInstanceIdentifier=self.params.db_instance_id, PubliclyAccessible=public, ApplyImmediately=True
        )
