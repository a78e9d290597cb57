"""Create an IAM Access Analyzer external-access analyzer in a region, so resources shared outside
the account (buckets, roles, keys, queues, ...) become findings.

A region that already has an active (or creating) external-access analyzer, for the account or for
its organization, needs none. Revert deletes only the analyzer this action created.
"""

from __future__ import annotations

from typing import Any, Literal

from botocore.exceptions import ClientError

from cloudsoc.aws.api import error_code
from cloudsoc.respond.action import Action, ActionError, ActionParams, action

EXTERNAL_ACCESS = ("ACCOUNT", "ORGANIZATION")  # the analyzer types that find external access
WORKING = ("ACTIVE", "CREATING")


class CreateAnalyzerParams(ActionParams):
    analyzer_name: str = "cloudsoc-account-analyzer"
    type: Literal["ACCOUNT", "ORGANIZATION"] = "ACCOUNT"


@action
class CreateAnalyzer(Action[CreateAnalyzerParams]):
    name = "accessanalyzer.create_analyzer"
    summary = (
        "Create an IAM Access Analyzer (external access, account by default) in a region that has none "
        "working; revert deletes the analyzer it created"
    )
    permissions = (
        "access-analyzer:ListAnalyzers",
        "access-analyzer:CreateAnalyzer",
        "iam:CreateServiceLinkedRole",
    )
    revert_permissions = ("access-analyzer:ListAnalyzers", "access-analyzer:DeleteAnalyzer")
    params_model = CreateAnalyzerParams

    def read(self) -> dict[str, Any]:
        aa = self.client("accessanalyzer")
        found = [
            {"name": a["name"], "type": a["type"], "status": a["status"], "arn": a["arn"]}
            for t in EXTERNAL_ACCESS
            for page in aa.get_paginator("list_analyzers").paginate(type=t)
            for a in page["analyzers"]
        ]
        return {"region": self.params.region, "analyzers": found}

    def changes(self, state: dict[str, Any]) -> list[str]:
        if any(a["status"] in WORKING for a in state["analyzers"]):
            return []
        name = self.params.analyzer_name
        if clash := next((a for a in state["analyzers"] if a["name"] == name), None):
            raise ActionError(f"analyzer {name} exists but is {clash['status']}: name another one")
        return [
            f"create {self.params.type} access analyzer {name} in {self.params.account_id} {state['region']}"
        ]

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        p = self.params
        tags = {"cloudsoc:incident": p.incident} if p.incident else {}
        try:
            arn = self.client("accessanalyzer").create_analyzer(analyzerName=p.analyzer_name, type=p.type,
                                                                tags=tags)["arn"]  # fmt: skip
        except ClientError as exc:
            if error_code(exc) == "ConflictException":  # created meanwhile: not ours to delete
                return {"created": None}
            raise
        return {"created": p.analyzer_name, "arn": arn}

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        if not applied.get("created"):
            return
        try:
            self.client("accessanalyzer").delete_analyzer(analyzerName=applied["created"])
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":  # deleted meanwhile: done
                raise
