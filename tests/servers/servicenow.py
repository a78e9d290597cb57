"""ServiceNow Table API for ``incident``: basic auth; POST 201 / GET / PATCH 200 ``{"result": ...}``;
``sysparm_query`` with ``field=value`` terms joined by ``^``; ``sysparm_fields``; work notes kept as
a journal (read back empty, as the API does); the default data policy: resolving or closing needs
close_code and close_notes."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

from tests.servers.base import ApiServer, Reply, Request, reply_json

TABLE = "/api/now/table/incident"


class ServiceNowServer(ApiServer):
    def __init__(self, user: str = "cloudsoc.integration", password: str = "s3cret", port: int = 0) -> None:
        super().__init__(port)
        self.credentials = (user, password)
        self.records: dict[str, dict[str, Any]] = {}
        self.journal: dict[str, list[dict[str, str]]] = {}
        self._numbers = itertools.count(10001)

    def set_state(self, sys_id: str, state: str, *, by: str, close_notes: str = "") -> None:
        """What an analyst does in the ServiceNow UI."""
        with self.lock:
            self.records[sys_id].update(
                state=state, sys_updated_by=by, close_notes=close_notes, sys_updated_on=_now()
            )

    def handle(self, req: Request) -> Reply:
        if req.user != self.credentials:
            return _error(401, "User Not Authenticated", "Required to provide Auth information")
        if not req.path.startswith(TABLE):
            return _error(400, "Invalid table", req.path)
        sys_id = req.path[len(TABLE) :].strip("/")
        if req.method == "POST" and not sys_id:
            return self._create(req)
        if req.method == "GET" and not sys_id:
            found = [r for r in self.records.values() if _matches(r, req.query.get("sysparm_query", ""))]
            found = found[: int(req.query.get("sysparm_limit", "10000"))]
            return reply_json(200, {"result": [_fields(r, req) for r in found]})
        if sys_id not in self.records:
            return _error(
                404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval"
            )
        if req.method == "GET":
            return reply_json(200, {"result": _fields(self.records[sys_id], req)})
        if req.method in ("PATCH", "PUT"):
            return self._update(req, sys_id)
        return _error(405, "Method not supported", req.method)

    def _create(self, req: Request) -> Reply:
        body = req.json
        sys_id = uuid.uuid4().hex
        record = {k: str(v) for k, v in body.items() if k != "work_notes"}
        record.update(sys_id=sys_id, number=f"INC{next(self._numbers):07d}", state=str(body.get("state", "1")),
                      sys_created_by=req.user[0] if req.user else "", sys_updated_by=req.user[0] if req.user else "",
                      sys_created_on=_now(), sys_updated_on=_now(), work_notes="")  # fmt: skip
        self.records[sys_id] = record
        self.journal[sys_id] = []
        if body.get("work_notes"):
            self.journal[sys_id].append({"value": body["work_notes"], "by": record["sys_created_by"]})
        return reply_json(201, {"result": record})

    def _update(self, req: Request, sys_id: str) -> Reply:
        body = req.json
        if str(body.get("state")) in ("6", "7") and not (body.get("close_code") and body.get("close_notes")):
            return _error(403, "Operation Failed", "Data Policy Exception: Resolution code, Resolution notes")
        record = self.records[sys_id]
        if body.get("work_notes"):
            self.journal[sys_id].append({"value": body["work_notes"], "by": req.user[0] if req.user else ""})
        record.update({k: str(v) for k, v in body.items() if k != "work_notes"})
        record.update(sys_updated_by=req.user[0] if req.user else "", sys_updated_on=_now())
        return reply_json(200, {"result": record})


def _matches(record: dict[str, Any], query: str) -> bool:
    terms = [t.partition("=") for t in query.split("^") if t]
    return all(record.get(field) == value for field, _, value in terms)


def _fields(record: dict[str, Any], req: Request) -> dict[str, Any]:
    wanted = [f for f in req.query.get("sysparm_fields", "").split(",") if f]
    return {f: record.get(f, "") for f in wanted} if wanted else dict(record)


def _error(status: int, message: str, detail: str) -> Reply:
    return reply_json(status, {"error": {"message": message, "detail": detail}, "status": "failure"})


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
