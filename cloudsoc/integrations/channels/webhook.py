"""A generic JSON webhook: the event, the rendered text and the whole incident document, signed with
HMAC-SHA256 over the exact body when a secret is configured (``sha256=<hex>``, as GitHub does)."""

from __future__ import annotations

import hashlib
import hmac

import orjson

from cloudsoc.integrations.channels.base import Channel, Message, Sent, Ticket, channel, secret_or_fail
from cloudsoc.integrations.config import WebhookChannel


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@channel("webhook")
class Webhook(Channel[WebhookChannel]):
    def send(self, msg: Message, ticket: Ticket | None) -> Sent:
        body = orjson.dumps({"event": msg.event, "delivery": msg.dedup_key, "incident_id": msg.incident_id,
                             "subject": msg.subject, "text": msg.body, "document": msg.doc})  # fmt: skip
        # the delivery key lets a receiver drop a message it already took (delivery is at least once)
        headers = {**self.config.headers, "Content-Type": "application/json", "X-CloudSOC-Event": msg.event,
                   "X-CloudSOC-Delivery": msg.dedup_key}  # fmt: skip
        if self.config.secret:
            headers[self.config.signature_header] = signature(secret_or_fail(self.config.secret), body)
        self.http("POST", secret_or_fail(self.config.url), content=body, headers=headers)
        return Sent()
