"""A receiver of generic JSON webhooks: records and answers 204."""

from __future__ import annotations

from tests.servers.base import ApiServer, Reply, Request


class WebhookServer(ApiServer):
    def handle(self, req: Request) -> Reply:
        return 204, {}, b""
