"""boto3 clients; the endpoint comes from AWS_ENDPOINT_URL (the sandbox) or the AWS default."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

_RETRIES = Config(retries={"max_attempts": 8, "mode": "adaptive"})


def client(service: str, *, region: str | None = None, session: boto3.Session | None = None) -> Any:
    """A client for one service; pass a session to act as another principal or account."""
    sess = session or boto3.Session()
    make: Any = sess.client  # the stubs type each service name separately; this seam takes any
    return make(service, region_name=region or sess.region_name or "us-east-1", config=_RETRIES)
