"""Jira REST API v2: create an issue (201 {"id", "key", "self"}), read it (with the changelog),
comment, list and perform transitions (204), search by JQL (``project = "X" AND labels = "y"`` only),
read a project. The workflow is Jira's simplified one: To Do, In Progress, Done, any to any."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tests.servers.base import ApiServer, Reply, Request, reply_json

API = "/rest/api/2"
TRANSITIONS: list[dict[str, Any]] = [{"id": "11", "name": "To Do", "to": {"id": "10000", "name": "To Do"}},
               {"id": "21", "name": "In Progress", "to": {"id": "3", "name": "In Progress"}},
               {"id": "31", "name": "Done", "to": {"id": "10001", "name": "Done"}}]  # fmt: skip


class JiraServer(ApiServer):
    def __init__(self, user: str = "soc@example.com", token: str = "api-token", project: str = "SEC",
                 port: int = 0) -> None:  # fmt: skip
        super().__init__(port)
        self.credentials = (user, token)
        self.project = project
        self.issues: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[str]] = {}
        self._ids = itertools.count(10001)

    def move(self, key: str, status: str, *, by: str) -> None:
        """What a person does on the board."""
        with self.lock:
            self._set_status(key, status, by)

    def handle(self, req: Request) -> Reply:
        if req.user != self.credentials:
            return reply_json(401, {"errorMessages": ["You are not authenticated."], "errors": {}})
        path = req.path[len(API) :] if req.path.startswith(API) else ""
        route: list[tuple[str, str, Callable[..., Reply]]] = [
            ("POST", r"/issue", self._create), ("GET", r"/issue/([A-Z]+-\d+)", self._get),
            ("POST", r"/issue/([A-Z]+-\d+)/comment", self._comment),
            ("GET", r"/issue/([A-Z]+-\d+)/transitions", self._transitions),
            ("POST", r"/issue/([A-Z]+-\d+)/transitions", self._transition), ("GET", r"/search", self._search),
            ("GET", r"/project/([A-Z]+)", self._project),
        ]  # fmt: skip
        for method, pattern, handler in route:
            m = re.fullmatch(pattern, path)
            if m and method == req.method:
                if m.groups() and m.group(1) not in self.issues and pattern.startswith("/issue"):
                    return _not_found("Issue does not exist or you do not have permission to see it.")
                return handler(req, *m.groups())
        return _not_found(f"no route {req.method} {req.path}")

    def _create(self, req: Request) -> Reply:
        fields = req.json.get("fields") or {}
        errors = {}
        if (fields.get("project") or {}).get("key") != self.project:
            errors["project"] = "valid project is required"
        if not fields.get("summary"):
            errors["summary"] = "You must specify a summary of the issue."
        if not (fields.get("issuetype") or {}).get("name"):
            errors["issuetype"] = "valid issue type is required"
        if errors:
            return reply_json(400, {"errorMessages": [], "errors": errors})
        issue_id = str(next(self._ids))
        key = f"{self.project}-{len(self.issues) + 1}"
        self.issues[key] = {"id": issue_id, "key": key, "fields": {**fields, "status": {"name": "To Do"}},
                            "histories": []}  # fmt: skip
        self.comments[key] = []
        return reply_json(201, {"id": issue_id, "key": key, "self": f"{self.url}{API}/issue/{issue_id}"})

    def _get(self, req: Request, key: str) -> Reply:
        issue = self.issues[key]
        out: dict[str, Any] = {"id": issue["id"], "key": key, "self": f"{self.url}{API}/issue/{issue['id']}",
                               "fields": issue["fields"]}  # fmt: skip
        if "changelog" in req.query.get("expand", ""):
            out["changelog"] = {"histories": issue["histories"]}
        return reply_json(200, out)

    def _comment(self, req: Request, key: str) -> Reply:
        self.comments[key].append(req.json["body"])
        return reply_json(201, {"id": str(next(self._ids)), "body": req.json["body"]})

    def _transitions(self, req: Request, key: str) -> Reply:
        current = self.issues[key]["fields"]["status"]["name"]
        return reply_json(200, {"expand": "transitions",
                                "transitions": [t for t in TRANSITIONS if t["to"]["name"] != current]})  # fmt: skip

    def _transition(self, req: Request, key: str) -> Reply:
        wanted = str((req.json.get("transition") or {}).get("id"))
        for t in TRANSITIONS:
            if t["id"] == wanted:
                self._set_status(key, str(t["to"]["name"]), req.user[0] if req.user else "")
                return 204, {}, b""
        return reply_json(400, {"errorMessages": [f"Transition id '{wanted}' is not valid for this issue."],
                                "errors": {}})  # fmt: skip

    def _search(self, req: Request) -> Reply:
        terms = dict(re.findall(r'(\w+)\s*=\s*"([^"]*)"', req.query.get("jql", "")))
        found = [i for i in self.issues.values() if terms.get("project", self.project) == self.project
                 and ("labels" not in terms or terms["labels"] in i["fields"].get("labels", []))]  # fmt: skip
        found = found[: int(req.query.get("maxResults", "50"))]
        return reply_json(200, {"total": len(found), "issues": [{"id": i["id"], "key": i["key"],
                                "fields": {"status": i["fields"]["status"]}} for i in found]})  # fmt: skip

    def _project(self, req: Request, key: str) -> Reply:
        if key != self.project:
            return _not_found(f"No project could be found with key '{key}'.")
        return reply_json(200, {"id": "10000", "key": key, "name": "Security"})

    def _set_status(self, key: str, status: str, by: str) -> None:
        issue = self.issues[key]
        before = issue["fields"]["status"]["name"]
        issue["fields"]["status"] = {"name": status}
        issue["histories"].append({"author": {"displayName": by}, "created": datetime.now(UTC).isoformat(),
                                   "items": [{"field": "status", "fromString": before, "toString": status}]})  # fmt: skip


def _not_found(message: str) -> Reply:
    return reply_json(404, {"errorMessages": [message], "errors": {}})
