"""Slack incoming webhooks: POST {"text": ...}; Slack answers 200 "ok"."""

from __future__ import annotations

from typing import Any

from cloudsoc.integrations.channels.base import Channel, Message, Sent, Ticket, channel, secret_or_fail
from cloudsoc.integrations.config import SlackChannel


@channel("slack")
class Slack(Channel[SlackChannel]):
    def send(self, msg: Message, ticket: Ticket | None) -> Sent:
        body: dict[str, Any] = {"text": f"{msg.subject}\n{msg.body}".strip()}
        if self.config.username:
            body["username"] = self.config.username
        if self.config.icon_emoji:
            body["icon_emoji"] = self.config.icon_emoji
        self.http("POST", secret_or_fail(self.config.webhook_url), json=body)
        return Sent()
