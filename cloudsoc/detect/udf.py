"""DuckDB functions for what SQL cannot say about raw JSON records; they only ever see the
candidate rows that survived the hot-column filters."""

from __future__ import annotations

import contextlib
import ipaddress
from functools import lru_cache
from typing import Any

import duckdb
import msgspec
import orjson
import pyarrow as pa
from duckdb.sqltypes import BOOLEAN, VARCHAR


def _walk(value: Any, parts: list[str], out: list[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _walk(item, parts, out)
        return
    if not parts:
        if value is None:
            return
        out.append(value if isinstance(value, str) else orjson.dumps(value).decode())
        return
    if isinstance(value, dict):
        # Keys may themselves contain dots (e.g. "aws:SourceIp"); try the longest key first.
        for i in range(len(parts), 0, -1):
            key = ".".join(parts[:i])
            if key in value:
                _walk(value[key], parts[i:], out)
                return


def values_at(record: Any, path: str) -> list[str]:
    """Every scalar (or JSON text of an object) at a dotted path, lists crossed transparently."""
    out: list[str] = []
    _walk(record, path.split("."), out)
    return out


_SCALARS = str | int | float | bool | None


@lru_cache(maxsize=1024)
def _path_decoder(path: str) -> msgspec.json.Decoder[Any]:
    """A decoder that materializes only the subtree at ``path`` (msgspec skips the rest in C).

    Each level is an object with one field, a list of such objects, or a scalar, so lists are
    crossed wherever they occur; anything stranger fails validation and takes the slow path.
    """
    kind: Any = Any
    for depth, key in enumerate(reversed(path.split("."))):
        level = msgspec.defstruct(f"L{depth}", [("v", kind, None)], rename={"v": key}, gc=False)
        kind = level | list[level | _SCALARS] | _SCALARS  # type: ignore[valid-type]
    return msgspec.json.Decoder(kind)


def _typed_values(value: Any, depth: int, out: list[str]) -> None:
    """Collect the leaves of a value decoded by ``_path_decoder``; ``depth`` levels remain above them."""
    if isinstance(value, list):
        for item in value:
            _typed_values(item, depth, out)
    elif isinstance(value, msgspec.Struct):
        _typed_values(value.v, depth - 1, out)  # type: ignore[attr-defined]
    elif depth > 0:
        return  # a scalar where the path goes deeper: the field is absent
    elif isinstance(value, dict):  # the leaf itself is an object
        out.append(orjson.dumps(value).decode())
    elif value is not None:
        out.append(value if isinstance(value, str) else orjson.dumps(value).decode())


def _cs_values(raw: pa.Array, path: pa.Array) -> pa.Array:
    result: list[list[str]] = []
    for text, p in zip(raw.to_pylist(), path.to_pylist(), strict=True):
        out: list[str] = []
        if text is not None:
            try:
                _typed_values(_path_decoder(p).decode(text), p.count(".") + 1, out)
            except (msgspec.ValidationError, msgspec.DecodeError):
                with contextlib.suppress(orjson.JSONDecodeError):
                    _walk(orjson.loads(text), p.split("."), out)
        result.append(out)
    return pa.array(result, pa.list_(pa.string()))


@lru_cache(maxsize=4096)
def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(cidr, strict=False)


def _in_cidr(ip: str | None, cidr: str) -> bool:
    if not ip:
        return False
    try:
        return ipaddress.ip_address(ip) in _network(cidr)
    except ValueError:
        return False  # "AWS Internal", service DNS names, malformed addresses


def _cs_cidr(ips: pa.Array, cidrs: pa.Array) -> pa.Array:
    pairs = zip(ips.to_pylist(), cidrs.to_pylist(), strict=True)
    return pa.array([_in_cidr(ip, c) for ip, c in pairs], pa.bool_())


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Add the functions to a connection (once)."""
    try:  # a call costs far less than a look through the catalog's function list
        con.execute("SELECT cs_values(NULL, NULL)")
        return
    except duckdb.CatalogException:
        pass
    # An IPv4 address as an integer (NULL for anything else), for CIDR tests written as ranges.
    # Octets take no leading zeros, as Python's ipaddress, which the per-event evaluator uses.
    con.execute(
        r"""CREATE OR REPLACE TEMP MACRO cs_ipv4(x) AS CASE
            WHEN regexp_full_match(x, '(?:0|[1-9]\d{0,2})(?:\.(?:0|[1-9]\d{0,2})){3}')
            THEN list_reduce(list_transform(string_split(x, '.'), lambda o: TRY_CAST(o AS UTINYINT)::UBIGINT),
                             lambda a, b: a * 256 + b)
            END"""
    )
    listing = duckdb.list_type(VARCHAR)
    con.create_function(  # type: ignore[call-overload]
        "cs_values", _cs_values, [VARCHAR, VARCHAR], listing, type="arrow", side_effects=False
    )
    con.create_function("cs_cidr", _cs_cidr, [VARCHAR, VARCHAR], BOOLEAN, type="arrow", side_effects=False)  # type: ignore[call-overload]
