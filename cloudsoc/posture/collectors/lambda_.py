"""Lambda: the functions and each one's resource-based policy (who may invoke it), filed parsed under
the function name; a function without one is filed as None."""

from __future__ import annotations

import json
from typing import Any

from cloudsoc.posture.collector import CollectContext, collector, names


@collector("lambda")
def collect(c: CollectContext) -> None:
    functions = c.pages("ListFunctions")
    for name in names(functions and functions.get("Functions"), "FunctionName"):
        if c.wanted(name):
            c.call("GetPolicy", name, transform=_parse_policy, FunctionName=name)


def _parse_policy(answer: dict[str, Any]) -> dict[str, Any]:
    return {"Policy": json.loads(answer["Policy"]), "RevisionId": answer.get("RevisionId")}
