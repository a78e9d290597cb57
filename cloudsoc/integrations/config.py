"""The ``notify`` block of ``cloudsoc.yaml``: channels, severity routes and delivery, validated here
(core keeps it as a raw dict because it does not know the channel types)."""

from __future__ import annotations

import os
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cloudsoc.core.errors import ConfigError
from cloudsoc.core.severity import Severity, normalize, rank

_ENV = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")


class NotifyError(ConfigError):
    """A notify configuration that cannot be used; lists every problem with its path."""


def secret(value: str) -> str:
    """A configured secret: literal, or ``env:NAME`` read from the environment when it is used."""
    m = _ENV.match(value)
    if not m:
        return value
    if m.group(1) not in os.environ:
        raise NotifyError(f"environment variable {m.group(1)} is not set")
    return os.environ[m.group(1)]


class _Channel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    template: str | None = None  # a .tmpl file: relative to the home, or a name in content/notify
    timeout_seconds: float = 10.0


class SlackChannel(_Channel):
    type: Literal["slack"]
    webhook_url: str  # may be env:VAR (the URL is the secret)
    username: str | None = None
    icon_emoji: str | None = None


class SnsChannel(_Channel):
    type: Literal["sns"]
    topic_arn: str
    region: str | None = None  # default: the topic's


class EmailChannel(_Channel):
    type: Literal["email"]
    host: str
    port: int = 25
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    starttls: bool = False
    ca_file: str | None = None  # a private CA for the relay's certificate
    username: str | None = None
    password: str | None = None


class PagerDutyChannel(_Channel):
    type: Literal["pagerduty"]
    routing_key: str
    events_url: str = "https://events.pagerduty.com"
    source: str = "cloudsoc"


class ServiceNowChannel(_Channel):
    type: Literal["servicenow"]
    instance_url: str  # https://example.service-now.com
    username: str
    password: str
    assignment_group: str | None = None
    caller_id: str | None = None
    category: str = "security"
    close_code: str = "Solved (Permanently)"  # required by ServiceNow to resolve or close


class JiraChannel(_Channel):
    type: Literal["jira"]
    base_url: str
    username: str  # the account's email on Jira Cloud
    api_token: str
    project: str
    issue_type: str = "Task"
    labels: list[str] = Field(default_factory=lambda: ["cloudsoc"])
    # cloudsoc status -> the transition to perform; Jira status -> cloudsoc status (read back)
    transitions: dict[str, str] = Field(
        default_factory=lambda: {"acknowledged": "In Progress", "contained": "In Progress",
                                 "resolved": "Done", "closed": "Done", "false_positive": "Done"})  # fmt: skip
    statuses: dict[str, str] = Field(
        default_factory=lambda: {"To Do": "new", "In Progress": "acknowledged", "Done": "resolved"}
    )


class WebhookChannel(_Channel):
    type: Literal["webhook"]
    url: str
    secret: str | None = None  # HMAC-SHA256 of the body, in the signature header
    signature_header: str = "X-CloudSOC-Signature"
    headers: dict[str, str] = Field(default_factory=dict)


ChannelConfig = Annotated[
    SlackChannel
    | SnsChannel
    | EmailChannel
    | PagerDutyChannel
    | ServiceNowChannel
    | JiraChannel
    | WebhookChannel,
    Field(discriminator="type"),
]
TICKETS = ("servicenow", "jira")  # channels that keep one ticket per incident
NO_DIGEST = ("pagerduty", "servicenow", "jira")  # a daily list makes no page and no ticket


class Route(BaseModel):
    """Which incidents (by severity, optionally by event) go to which channels, now or in the digest."""

    model_config = ConfigDict(extra="forbid")
    severities: list[Severity] | None = None
    min_severity: Severity | None = None
    events: list[str] | None = None  # default: every event
    channels: list[str] = Field(min_length=1)
    digest: bool = False

    @model_validator(mode="after")
    def _one_selector(self) -> Route:
        if self.severities is not None and self.min_severity is not None:
            raise ValueError("give severities or min_severity, not both")
        return self

    def takes(self, severity: str) -> bool:
        if self.severities is not None:
            return normalize(severity) in self.severities
        return self.min_severity is None or rank(severity) >= rank(self.min_severity)

    def matches(self, severity: str, event: str) -> bool:
        return (self.events is None or event in self.events) and self.takes(severity)


class Delivery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_attempts: int = Field(default=8, ge=1)
    backoff_seconds: float = Field(default=30.0, ge=0)  # doubled after each failed attempt
    max_backoff_seconds: float = Field(default=3600.0, ge=0)
    lease_seconds: float = Field(
        default=300.0, gt=0
    )  # a claimed message is retried after this if its sender died


class NotifyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    routes: list[Route] | None = None  # default: see default_routes
    delivery: Delivery = Field(default_factory=Delivery)

    @field_validator("channels")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        bad = [n for n in value if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", n)]
        if bad:
            raise ValueError(f"channel names may use letters, digits, _ . - only: {bad}")
        return value

    def effective_routes(self) -> list[Route]:
        return self.routes if self.routes is not None else default_routes(self.channels)


def default_routes(channels: dict[str, ChannelConfig]) -> list[Route]:
    """Without routes: critical and high page and ticket at once; medium goes to tickets and chat at
    once; low and informational wait for the daily digest of the chat channels."""
    pager = [n for n, c in channels.items() if c.type == "pagerduty"]
    tickets = [n for n, c in channels.items() if c.type in TICKETS]
    chat = [n for n, c in channels.items() if c.type not in NO_DIGEST]
    routes = [Route(min_severity="high", channels=pager)] if pager else []
    if tickets or chat:
        routes.append(Route(min_severity="medium", channels=[*tickets, *chat]))
    if chat:
        routes.append(Route(severities=["low", "informational"], channels=chat, digest=True))
    return routes


def _where(loc: tuple[int | str, ...]) -> str:
    # pydantic puts the discriminator value in the path of a tagged union member: drop it
    kinds = ("slack", "sns", "email", "pagerduty", "servicenow", "jira", "webhook")
    parts = [str(p) for i, p in enumerate(loc) if not (i == 2 and loc[0] == "channels" and p in kinds)]
    return ".".join(["notify", *parts])


def load(raw: dict[str, Any]) -> NotifyConfig:
    """Validate the block; every problem is reported at once, each with its path."""
    try:
        cfg = NotifyConfig.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{_where(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise NotifyError("invalid notify settings:\n  " + "\n  ".join(problems)) from None
    problems = _cross_check(cfg)
    if problems:
        raise NotifyError("invalid notify settings:\n  " + "\n  ".join(problems))
    return cfg


def _cross_check(cfg: NotifyConfig) -> list[str]:
    problems = []
    for i, route in enumerate(cfg.routes or []):
        for j, name in enumerate(route.channels):
            where = f"notify.routes.{i}.channels.{j}"
            if name not in cfg.channels:
                problems.append(f"{where}: unknown channel {name!r}")
            elif route.digest and cfg.channels[name].type in NO_DIGEST:
                problems.append(f"{where}: a {cfg.channels[name].type} channel cannot take a digest")
    return problems
