"""Facts about the AWS APIs that every layer shares."""

from __future__ import annotations

from typing import Any

import orjson
from botocore.exceptions import ClientError

# S3 Block Public Access with all four settings on (bucket or account level)
BLOCK_ALL_PUBLIC_ACCESS = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                           "RestrictPublicBuckets": True}  # fmt: skip


def error_code(exc: ClientError) -> str:
    """The AWS error code of a failed call ("" when the answer carries none)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def jsonable(value: Any) -> Any:
    """An API answer as plain JSON data: timestamps as ISO strings, bytes and streaming bodies as text,
    the transport's ``ResponseMetadata`` dropped."""
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k != "ResponseMetadata"}
    return orjson.loads(orjson.dumps(value, default=_text, option=orjson.OPT_NON_STR_KEYS))


def _text(obj: Any) -> str:
    if isinstance(obj, bytes | bytearray):
        return obj.decode("utf-8", "replace")
    if hasattr(obj, "read"):  # a streaming body
        data: bytes = obj.read()
        return data.decode("utf-8", "replace")
    raise TypeError(f"{type(obj).__name__} is not JSON data")
