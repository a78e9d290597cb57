"""Results of actions run on their own (``cloudsoc actions apply``), one JSON file each in
``<home>/respond/actions/<id>.json``: what apply changed, so that ``revert`` can undo it later.

A record is the ActionResult's JSON with its ``id``; a revert's record names the result it reverts
(``reverts``) and the reverted record gains ``reverted_by``, so a change is not undone twice.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cloudsoc.core.timeutil import utcnow
from cloudsoc.respond.action import ActionError, ActionResult

if TYPE_CHECKING:
    from cloudsoc.core.config import Home

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$")


def directory(home: Home) -> Path:
    return home.root / "respond" / "actions"


def path_of(home: Home, result_id: str) -> Path:
    if not _ID.match(result_id):
        raise ActionError(f"not an action result id: {result_id!r}")
    return directory(home) / f"{result_id}.json"


def new_id() -> str:
    """Sortable by time, unique without coordination."""
    return f"{utcnow():%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def save(home: Home, result: ActionResult, *, reverts: str | None = None) -> str:
    """Store a result under a new id; return the id."""
    result_id = new_id()
    record: dict[str, Any] = {"id": result_id, **result.model_dump(mode="json")}
    if reverts:
        record["reverts"] = reverts
    _write(path_of(home, result_id), record)
    return result_id


def read(home: Home, result_id: str) -> dict[str, Any]:
    """The stored record: the result's fields, ``id``, and ``reverts``/``reverted_by`` when set."""
    path = path_of(home, result_id)
    if not path.exists():
        raise ActionError(f"no action result {result_id} in {directory(home)}")
    record: dict[str, Any] = json.loads(path.read_text())
    return record


def revertible(home: Home, result_id: str) -> ActionResult:
    """The stored apply result to revert; refused when it was reverted already or is no apply result."""
    record = read(home, result_id)
    if record.get("reverted_by"):
        raise ActionError(f"result {result_id} was already reverted by {record['reverted_by']}")
    if record.get("status") not in ("applied", "already_done"):
        raise ActionError(f"result {result_id} is {record.get('status')}: only apply results can be reverted")
    return ActionResult.model_validate(record)


def mark_reverted(home: Home, result_id: str, by: str) -> None:
    record = read(home, result_id)
    record["reverted_by"] = by
    _write(path_of(home, result_id), record)


def _write(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1, sort_keys=False) + "\n")
    tmp.replace(path)
