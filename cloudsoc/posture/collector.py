"""Inventory collectors: one registered function per AWS service (``cloudsoc/posture/collectors/``).

A collector reads one service in one account and region through a ``CollectContext``, whose ``call``
and ``pages`` file every answer in the inventory and turn every failure into data there. Collectors
never catch errors themselves: the context records them, and returns ``None`` so the collector goes
on with what it has.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError

from cloudsoc.aws.api import jsonable
from cloudsoc.core.registry import Registry
from cloudsoc.posture.inventory import Inventory

# Answers that mean "this setting does not exist": filed as None, not as an error.
ABSENT = frozenset({
    "NoSuchBucketPolicy", "NoSuchPublicAccessBlockConfiguration", "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchEntity", "NoSuchLifecycleConfiguration", "ObjectLockConfigurationNotFoundError",
    "ReplicationConfigurationNotFoundError", "NoSuchTagSet", "NoSuchWebsiteConfiguration",
    "NoSuchConfigurationRecorderException", "TrailNotFoundException", "ResourceNotFoundException",
    "InvalidAccessException",  # Security Hub: not enabled
})  # fmt: skip
THROTTLED = frozenset({"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
                       "SlowDown", "RequestThrottled", "RequestThrottledException"})  # fmt: skip


@dataclass(frozen=True)
class CollectorSpec:
    service: str  # boto3 service name
    fn: Callable[[CollectContext], None]
    scope: str  # "global": once per account (IAM, S3); "region": per account and region


COLLECTORS: Registry[CollectorSpec] = Registry("collector", "cloudsoc.posture.collectors")


def collector(
    service: str, *, scope: str = "region"
) -> Callable[[Callable[[CollectContext], None]], Callable[[CollectContext], None]]:
    """Register ``fn`` as the collector of ``service``."""

    def register(fn: Callable[[CollectContext], None]) -> Callable[[CollectContext], None]:
        COLLECTORS.register(service)(CollectorSpec(service, fn, scope))
        return fn

    return register


class CollectContext:
    """One service in one account and region. ``only``: refresh just these resource keys (continuous
    evaluation); collectors that take it skip the other resources' per-resource calls."""

    def __init__(self, inventory: Inventory, account: str, region: str, service: str, client: Any, *,
                 lock: threading.Lock | None = None, only: set[str] | None = None, attempts: int = 5,
                 backoff: float = 0.2, clients: Callable[[str], Any] | None = None) -> None:  # fmt: skip
        self.inventory, self.account, self.region, self.service = inventory, account, region, service
        self.client = client
        self.only = only
        self.calls = 0
        self._lock = lock or threading.Lock()
        self._attempts, self._backoff = attempts, backoff
        self._clients = clients

    def other(self, service: str) -> CollectContext:
        """A context for a companion service in the same place (S3 Control beside S3, CloudWatch Logs
        beside CloudWatch)."""
        if self._clients is None:
            raise ValueError("this context cannot make other clients")
        return CollectContext(self.inventory, self.account, self.region, service, self._clients(service),
                              lock=self._lock, only=self.only, attempts=self._attempts, backoff=self._backoff,
                              clients=self._clients)  # fmt: skip

    def wanted(self, key: str) -> bool:
        return self.only is None or key in self.only

    def call(self, operation: str, key: str = "", *, transform: Callable[[Any], Any] | None = None,
             **params: Any) -> Any:  # fmt: skip
        """Call ``operation`` and file its answer (after ``transform``) under ``key``; ``None`` when
        the setting is absent or the call failed (the failure is filed as data)."""
        answer = self._invoke(operation, key, lambda: getattr(self.client, xform_name(operation))(**params))
        return self._file(operation, key, answer, transform)

    def pages(self, operation: str, key: str = "", *, transform: Callable[[Any], Any] | None = None,
              **params: Any) -> Any:  # fmt: skip
        """A paginated call, its pages merged into one answer (list fields concatenated)."""

        def run() -> dict[str, Any]:
            merged: dict[str, Any] = {}
            for page in self.client.get_paginator(xform_name(operation)).paginate(**params):
                for k, v in page.items():
                    if isinstance(v, list):
                        merged.setdefault(k, []).extend(v)
                    elif k not in merged:
                        merged[k] = v
            return merged

        return self._file(operation, key, self._invoke(operation, key, run), transform)

    def put(self, operation: str, key: str, value: Any) -> None:
        """File a value the collector derived itself (the credential report, parsed)."""
        with self._lock:
            self.inventory.put(self.account, self.region, self.service, operation, key, jsonable(value))

    # -- internals ---------------------------------------------------------------------------
    _FAILED = object()

    def _invoke(self, operation: str, key: str, run: Callable[[], Any]) -> Any:
        for attempt in range(self._attempts):
            self.calls += 1
            try:
                return run()
            except ClientError as exc:
                err = exc.response.get("Error", {})
                code, message = str(err.get("Code", "ClientError")), str(err.get("Message", exc))
                if code in ABSENT:
                    return None
                if code in THROTTLED and attempt + 1 < self._attempts:
                    time.sleep(self._backoff * 2**attempt * (0.5 + random.random()))
                    continue
                if code in THROTTLED:
                    code, message = (
                        "ThrottledOut",
                        f"still throttled after {self._attempts} attempts: {message}",
                    )
                return self._fail(operation, key, code, message)
            except (BotoCoreError, NotImplementedError) as exc:
                return self._fail(operation, key, type(exc).__name__, str(exc))
        raise AssertionError("unreachable")

    def _fail(self, operation: str, key: str, code: str, message: str) -> object:
        with self._lock:
            self.inventory.fail(self.account, self.region, self.service, operation, key, code, message)
        return self._FAILED

    def _file(self, operation: str, key: str, answer: Any, transform: Callable[[Any], Any] | None) -> Any:
        if answer is self._FAILED:
            return None
        try:
            value = None if answer is None else jsonable(transform(answer) if transform else answer)
        except (ValueError, TypeError, KeyError) as exc:  # an answer that cannot be read is a failed call
            self._fail(operation, key, "UnreadableAnswer", f"{type(exc).__name__}: {exc}")
            return None
        with self._lock:
            self.inventory.put(self.account, self.region, self.service, operation, key, value)
        return value


def names(items: Iterable[dict[str, Any]] | None, field: str) -> list[str]:
    """The ``field`` of each item of a listing the collector got (none when the listing failed)."""
    return [str(i[field]) for i in items or [] if field in i]
