"""Slack incoming webhooks: 200 "ok"; 400 "invalid_payload" for a body that is not JSON, "no_text"
without text; 404 "no_service" for an unknown hook."""

from __future__ import annotations

import json

from tests.servers.base import ApiServer, Reply, Request, reply_text

HOOK = "/services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX"


class SlackServer(ApiServer):
    @property
    def hook_url(self) -> str:
        return self.url + HOOK

    def handle(self, req: Request) -> Reply:
        if req.method != "POST" or req.path != HOOK:
            return reply_text(404, "no_service")
        try:
            body = json.loads(req.body)
        except ValueError:
            return reply_text(400, "invalid_payload")
        if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
            return reply_text(400, "no_text")
        return reply_text(200, "ok")
