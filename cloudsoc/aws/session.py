"""boto3 sessions and clients. A session carries its endpoint (the sandbox's, or AWS's by default),
so code that is handed a session never needs to know which AWS it talks to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
import botocore.session
from botocore.config import Config
from botocore.loaders import Loader, create_loader

_RETRIES = Config(retries={"max_attempts": 8, "mode": "adaptive"})
# One loader for every session made here: it caches the parsed service models, and a fresh session
# would parse them again (EC2's takes the better part of a second). Posture collection makes a session
# per account and dozens of clients in each.
_LOADER: Loader = create_loader()


def client(
    service: str, *, region: str | None = None, session: boto3.Session | None = None, attempts: int = 0
) -> Any:
    """A client for one service; pass a session to act as another principal or account.
    ``attempts`` caps retries (0: the default adaptive retries)."""
    sess = session or boto3.Session()
    make: Any = sess.client  # the stubs type each service name separately; this seam takes any
    config = Config(retries={"total_max_attempts": attempts}) if attempts else _RETRIES
    return make(service, region_name=region or sess.region_name or "us-east-1", config=config)


def make_session(
    access_key: str,
    secret_key: str,
    token: str | None = None,
    *,
    region: str = "us-east-1",
    endpoint: str | None = None,
) -> boto3.Session:
    """A session for explicit credentials; ``endpoint`` points every client it makes elsewhere."""
    core = botocore.session.Session()
    core.register_component("data_loader", _LOADER)
    if endpoint:
        core.get_component("config_store").set_config_variable("endpoint_url", endpoint)
    core.set_credentials(access_key, secret_key, token)
    return boto3.Session(botocore_session=core, region_name=region)


def endpoint_of(session: boto3.Session) -> str | None:
    value: str | None = session._session.get_component("config_store").get_config_variable("endpoint_url")
    return value


def access_key_of(session: boto3.Session) -> str:
    creds = session.get_credentials()
    if creds is None:
        raise ValueError("session has no credentials")
    return str(creds.access_key)


def assume_role(session: boto3.Session, role_arn: str, session_name: str, **extra: Any) -> boto3.Session:
    """Credentials of ``role_arn``, as a session on the same endpoint and region."""
    creds = client("sts", session=session).assume_role(
        RoleArn=role_arn, RoleSessionName=session_name, **extra
    )
    c = creds["Credentials"]
    return make_session(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"],
                        region=session.region_name or "us-east-1", endpoint=endpoint_of(session))  # fmt: skip


def role_arn(account: str, role: str) -> str:
    return f"arn:aws:iam::{account}:role/{role}"


@dataclass(frozen=True)
class ClientFactory:
    """A picklable way to make a client in another process (ingest workers reading S3)."""

    service: str
    access_key: str
    secret_key: str
    token: str | None
    region: str
    endpoint: str | None

    @classmethod
    def of(cls, session: boto3.Session, service: str) -> ClientFactory:
        creds = session.get_credentials()
        if creds is None:
            raise ValueError("session has no credentials")
        frozen = creds.get_frozen_credentials()
        return cls(service, str(frozen.access_key), str(frozen.secret_key), frozen.token, session.region_name or "us-east-1",
                   endpoint_of(session))  # fmt: skip

    def __call__(self) -> Any:
        sess = make_session(
            self.access_key, self.secret_key, self.token, region=self.region, endpoint=self.endpoint
        )
        return client(self.service, session=sess)


def address_s3control_locally(s3control: Any, account: str) -> Any:
    """S3 Control sends to ``<account>.s3-control.<region>.amazonaws.com``. A local endpoint (the
    sandbox) has no per-account host names, so there the account prefix comes off before signing.
    Returns the client; registering twice for one account is harmless."""
    host = urlsplit(str(s3control.meta.endpoint_url)).hostname or ""
    if host.endswith((".amazonaws.com", ".amazonaws.com.cn")):
        return s3control
    prefix = f"{account}."

    def strip(request: Any, **_: Any) -> None:
        parts = urlsplit(request.url)
        if parts.netloc.startswith(prefix):
            request.url = urlunsplit(parts._replace(netloc=parts.netloc[len(prefix) :]))

    s3control.meta.events.register(
        "before-sign.s3-control", strip, unique_id=f"cloudsoc-local-s3control-{account}"
    )
    return s3control
