"""Input objects from local paths and ``s3://bucket/prefix`` URIs, listed lazily."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from isal import isal_zlib as zlib  # ISA-L: the same format as zlib, about twice as fast

from cloudsoc.core.errors import InputError

S3Factory = Callable[[], Any]
_GZIP_ERROR: type[Exception] = zlib.error  # type: ignore[assignment]  # isal stubs type it as an instance


@dataclass(frozen=True)
class InputObject:
    """One file or S3 object; ``fingerprint`` changes when its content may have changed."""

    uri: str
    size: int
    fingerprint: str


def list_inputs(uris: list[str], s3: S3Factory | None = None) -> Iterator[InputObject]:
    for uri in uris:
        if uri.startswith("s3://"):
            yield from _list_s3(uri, _s3(s3))
        else:
            yield from _list_local(Path(uri))


def _s3(factory: S3Factory | None) -> Any:
    if factory is not None:
        return factory()
    from cloudsoc.aws.session import client

    return client("s3")


def _list_local(path: Path) -> Iterator[InputObject]:
    if not path.exists():
        raise InputError(f"no such file or folder: {path}")
    if path.is_file():
        yield _local_object(str(path.resolve()))
        return
    for resolved in _walk(str(path.resolve())):
        yield _local_object(resolved)


def _local_object(resolved: str) -> InputObject:
    st = os.stat(resolved)
    return InputObject(resolved, st.st_size, f"{st.st_size}:{st.st_mtime_ns}")


def _walk(folder: str) -> Iterator[str]:
    """The resolved path of every file below ``folder`` (not hidden), in path order.

    Symlinked folders are not entered; a symlinked file is listed as its target. ``folder`` is
    resolved, so only symlinks need resolving (resolving each of a day's ten thousand files
    cost a second).
    """
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except PermissionError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(entry.path)
        elif entry.name.startswith("."):
            continue
        elif entry.is_symlink():
            if os.path.isfile(entry.path):
                yield str(Path(entry.path).resolve())
        elif entry.is_file(follow_symlinks=False):
            yield entry.path


def _list_s3(uri: str, s3: Any) -> Iterator[InputObject]:
    bucket, _, prefix = uri[5:].partition("/")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith("/"):
                continue
            yield InputObject(f"s3://{bucket}/{obj['Key']}", obj["Size"], obj["ETag"].strip('"'))


def read_object(obj: InputObject, s3: S3Factory | None = None) -> bytes:
    """The object's bytes, gunzipped when they are gzip (by magic number, not by name)."""
    if obj.uri.startswith("s3://"):
        bucket, _, key = obj.uri[5:].partition("/")
        data: bytes = _s3(s3).get_object(Bucket=bucket, Key=key)["Body"].read()
    else:
        with open(obj.uri, "rb") as fh:
            data = fh.read()
    return gunzip(data) if data[:2] == b"\x1f\x8b" else data


def gunzip(data: bytes) -> bytes:
    """Decompress every gzip member; a corrupt or truncated stream names the compressed offset."""
    out: list[bytes] = []
    pos = 0
    while pos < len(data):
        d = zlib.decompressobj(wbits=31)
        try:
            out.append(d.decompress(data[pos:]))
        except _GZIP_ERROR as exc:
            raise InputError(f"corrupt gzip: {exc}", offset=pos) from exc
        if not d.eof:
            raise InputError("truncated gzip stream", offset=len(data))
        pos = len(data) - len(d.unused_data)
        if data[pos : pos + 2] != b"\x1f\x8b":
            break  # trailing garbage after the last member is ignored, as gzip(1) does
    return b"".join(out)


def local_name(uri: str) -> str:
    return os.path.basename(uri.rstrip("/"))


__all__ = ["InputObject", "gunzip", "list_inputs", "local_name", "read_object"]
