"""What every channel shares: the message it is handed, the outcome it returns, how HTTP failures
become retryable or final delivery errors, and the registry of channel types."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import urlsplit

import boto3
import httpx

from cloudsoc.core.errors import CloudSOCError
from cloudsoc.core.registry import Registry
from cloudsoc.core.timeutil import utcnow
from cloudsoc.integrations.config import NotifyError, secret

C = TypeVar("C")


class DeliveryError(CloudSOCError):
    """A message not delivered. ``retry`` False: sending it again cannot help (a rejected payload, a
    refused credential), so it goes dead at once; ``retry_after``: the service said when to come back."""

    def __init__(self, reason: str, *, retry: bool = True, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry = retry
        self.retry_after = retry_after


@dataclass(frozen=True)
class Message:
    id: int
    channel: str
    event: str
    incident_id: int | None
    dedup_key: str
    subject: str
    body: str
    doc: dict[str, Any] = field(default_factory=dict)

    @property
    def incident(self) -> dict[str, Any]:
        return dict(self.doc.get("incident") or {})


@dataclass(frozen=True)
class Ticket:
    """A ticket a ticketing channel holds for an incident: API address, display number, last state."""

    ref: str
    number: str
    state: str


@dataclass(frozen=True)
class Sent:
    external_ref: str | None = None
    ticket: Ticket | None = None  # the ticket as it stands after this message (ticketing channels)


@dataclass(frozen=True)
class RemoteState:
    """A ticket's state as read back from the ticketing system."""

    state: str
    by: str
    why: str


class Channel(ABC, Generic[C]):
    type: ClassVar[str]

    def __init__(self, name: str, config: C, *, aws_session: boto3.Session | None = None) -> None:
        self.name = name
        self.config = config
        self.aws_session = aws_session

    @abstractmethod
    def send(self, msg: Message, ticket: Ticket | None) -> Sent:
        """Deliver one message, or raise DeliveryError."""

    @property
    def timeout(self) -> float:
        return float(getattr(self.config, "timeout_seconds", 10.0))

    def http(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One HTTP request; failures become DeliveryError (retryable unless a 4xx other than 408/429)."""
        where = f"{method} {site(url)}"
        try:
            with httpx.Client(timeout=self.timeout) as client:
                resp = client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{where}: {type(exc).__name__}: {exc}") from exc
        if resp.status_code < 300:
            return resp
        detail = f"{where}: HTTP {resp.status_code} {resp.text[:300].strip()}"
        if resp.status_code == 429:
            raise DeliveryError(detail, retry_after=retry_after(resp.headers.get("Retry-After")))
        raise DeliveryError(detail, retry=resp.status_code >= 500 or resp.status_code == 408)


def site(url: str) -> str:
    """Scheme, host and path up to the first segment: webhook URLs carry their secret in the path."""
    parts = urlsplit(url)
    first = parts.path.strip("/").split("/")[0]
    return f"{parts.scheme}://{parts.netloc}/{first}{'/...' if parts.path.strip('/') != first else ''}"


def retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


ChannelClass = type[Channel[Any]]
CHANNELS: Registry[ChannelClass] = Registry("channel type", "cloudsoc.integrations.channels")


def channel(type_name: str) -> Callable[[ChannelClass], ChannelClass]:
    def decorate(cls: ChannelClass) -> ChannelClass:
        cls.type = type_name
        return CHANNELS.register(type_name)(cls)

    return decorate


def need_incident(msg: Message) -> int:
    if msg.incident_id is None:
        raise DeliveryError(
            f"{msg.event} messages carry no incident: a ticket or page needs one", retry=False
        )
    return msg.incident_id


class TicketChannel(Channel[C]):
    """A channel that keeps one ticket per incident. The first message finds the ticket again (an
    earlier create may have got no answer) or creates it; every message then updates it; the outbox
    keeps the ticket, and the ticket sync reads its state back. A test message only checks access."""

    def send(self, msg: Message, ticket: Ticket | None) -> Sent:
        if msg.event == "test":
            self.check_access()
            return Sent()
        incident_id = need_incident(msg)
        if ticket is None:
            ticket = self.find(incident_id)
        created = ticket is None
        if ticket is None:
            ticket = self.create(msg, incident_id)
        ticket = self.update(msg, ticket, created=created)
        return Sent(external_ref=ticket.ref, ticket=ticket)

    @abstractmethod
    def check_access(self) -> None:
        """Prove the URL, the credentials and the permissions with one read, or raise DeliveryError."""

    @abstractmethod
    def find(self, incident_id: int) -> Ticket | None:
        """The incident's ticket, found by the mark ``create`` puts on it."""

    @abstractmethod
    def create(self, msg: Message, incident_id: int) -> Ticket:
        """A new ticket for the incident, marked so that ``find`` finds it."""

    @abstractmethod
    def update(self, msg: Message, ticket: Ticket, *, created: bool) -> Ticket:
        """Bring the ticket to the message's incident status and add the message (a ticket ``created``
        from this message already carries it); the ticket as it now stands."""

    @abstractmethod
    def read_state(self, ticket: Ticket) -> RemoteState:
        """The ticket's current state in the ticketing system."""

    @abstractmethod
    def status_of(self, state: str) -> str | None:
        """The cloudsoc status a ticket state means (None: no opinion)."""


def secret_or_fail(value: str) -> str:
    """Resolve an ``env:`` secret; a missing variable is retried (it may be set before the next run)."""
    try:
        return secret(value)
    except NotifyError as exc:
        raise DeliveryError(str(exc)) from exc
