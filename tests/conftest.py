"""Shared fixtures: a fresh cloudsoc home, CloudTrail files, a moto server."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from cloudsoc.core.config import Home

SIGMA_AWS = Path(__file__).resolve().parents[2] / "shared" / "data" / "sigma-aws"


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home.open(tmp_path / "home")


def record(i: int, **over: Any) -> dict[str, Any]:
    """A realistic CloudTrail record; ``over`` replaces top-level fields."""
    rec: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE",
            "arn": "arn:aws:iam::111122223333:user/alice",
            "accountId": "111122223333",
            "userName": "alice",
        },
        "eventTime": f"2026-11-20T{10 + (i // 3600) % 10:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z",
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeInstances",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.15.0 Python/3.11",
        "requestParameters": None,
        "responseElements": None,
        "requestID": str(uuid.UUID(int=i + 10**9)),
        "eventID": str(uuid.UUID(int=i)),
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": "111122223333",
        "eventCategory": "Management",
    }
    rec.update(over)
    return rec


def write_trail(path: Path, records: list[dict[str, Any]], gz: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = orjson.dumps({"Records": records})
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def trail_dir(root: Path, files: int, per_file: int, account: str = "111122223333") -> Path:
    """CloudTrail's S3 layout with ``files * per_file`` distinct events."""
    base = root / "AWSLogs" / "o-example" / account / "CloudTrail" / "us-east-1" / "2026" / "11" / "20"
    for f in range(files):
        recs = [record(f * per_file + j, recipientAccountId=account) for j in range(per_file)]
        write_trail(base / f"{account}_CloudTrail_us-east-1_20261120T{f:04d}Z_{f:016d}.json.gz", recs)
    return root


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto server on loopback for the tests that talk to AWS APIs."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sandbox_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    """A home with the sandbox organization running (one per test worker)."""
    from cloudsoc.aws.sandbox import Sandbox

    home = Home.open(tmp_path_factory.mktemp("sandbox") / "home")
    sandbox = Sandbox(home.root)
    sandbox.up()
    try:
        yield home
    finally:
        sandbox.down()


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real PostgreSQL server (one per test worker)."""
    from tests.postgres import postgres_server

    with postgres_server(tmp_path_factory.mktemp("postgres")) as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> str:
    """The URL of a fresh, empty database on the test worker's PostgreSQL server."""
    from tests.postgres import fresh_database

    return fresh_database(postgres_server_url)
