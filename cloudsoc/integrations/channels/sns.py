"""Amazon SNS: Publish to a topic with the subject, the text and message attributes that let
subscribers filter (event, severity, incident)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cloudsoc.aws.api import error_code
from cloudsoc.aws.session import client
from cloudsoc.integrations.channels.base import Channel, DeliveryError, Message, Sent, Ticket, channel
from cloudsoc.integrations.config import SnsChannel

_RETRYABLE = {"Throttling", "ThrottlingException", "ThrottledException", "InternalError", "InternalFailure",
              "ServiceUnavailable", "KMSThrottlingException"}  # fmt: skip


@channel("sns")
class Sns(Channel[SnsChannel]):
    def send(self, msg: Message, ticket: Ticket | None) -> Sent:
        attrs: dict[str, Any] = {"event": {"DataType": "String", "StringValue": msg.event}}
        if msg.incident_id is not None:
            attrs["incident_id"] = {"DataType": "Number", "StringValue": str(msg.incident_id)}
        if msg.incident.get("severity"):
            attrs["severity"] = {"DataType": "String", "StringValue": str(msg.incident["severity"])}
        region = self.config.region or self.config.topic_arn.split(":")[3]
        try:
            sns = client("sns", region=region, session=self.aws_session, attempts=1)
            out = sns.publish(TopicArn=self.config.topic_arn, Subject=_subject(msg.subject),
                              Message=msg.body or msg.subject, MessageAttributes=attrs)  # fmt: skip
        except ClientError as exc:
            code = error_code(exc)
            raise DeliveryError(f"SNS Publish: {exc}", retry=code in _RETRYABLE) from exc
        except BotoCoreError as exc:  # endpoint unreachable, credentials missing: try again later
            raise DeliveryError(f"SNS Publish: {exc}") from exc
        return Sent(external_ref=str(out["MessageId"]))


def _subject(text: str) -> str:
    """SNS subjects: at most 100 printable ASCII characters, no line breaks."""
    clean = "".join(c if 32 <= ord(c) < 127 else "?" for c in text).strip() or "cloudsoc"
    return clean[:100]
