"""Email over SMTP, with optional STARTTLS and authentication."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from cloudsoc.integrations.channels.base import (
    Channel,
    DeliveryError,
    Message,
    Sent,
    Ticket,
    channel,
    secret_or_fail,
)
from cloudsoc.integrations.config import EmailChannel


@channel("email")
class Email(Channel[EmailChannel]):
    def send(self, msg: Message, ticket: Ticket | None) -> Sent:
        mail = self._compose(msg)
        cfg = self.config
        try:
            with smtplib.SMTP(cfg.host, cfg.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if cfg.starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=cfg.ca_file))
                    smtp.ehlo()
                if cfg.username:
                    smtp.login(cfg.username, secret_or_fail(cfg.password or ""))
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(f"SMTP {cfg.host}: recipients refused {exc.recipients}",
                                retry=all(400 <= c < 500 for c in codes)) from exc  # fmt: skip
        except smtplib.SMTPResponseException as exc:  # 4xx: try later; 5xx: refused for good
            raise DeliveryError(f"SMTP {cfg.host}: {exc.smtp_code} {exc.smtp_error!r}",
                                retry=400 <= exc.smtp_code < 500) from exc  # fmt: skip
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP {cfg.host}:{cfg.port}: {type(exc).__name__}: {exc}") from exc
        return Sent(external_ref=str(mail["Message-ID"]))

    def _compose(self, msg: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = msg.subject
        mail["From"] = self.config.sender
        mail["To"] = ", ".join(self.config.to)
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = make_msgid(domain="cloudsoc")
        mail["X-CloudSOC-Event"] = msg.event
        if msg.incident_id is not None:
            mail["X-CloudSOC-Incident"] = str(msg.incident_id)
        mail.set_content(msg.body or msg.subject)
        return mail
