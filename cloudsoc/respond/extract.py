"""Event extracts for the evidence locker: the raw CloudTrail records around an incident, from the lake."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from cloudsoc.core.errors import CloudSOCError
from cloudsoc.lake.store import Lake

if TYPE_CHECKING:
    from cloudsoc.core.config import Home


class ExtractError(CloudSOCError):
    """An extract that cannot be made as asked."""


def event_extract(
    home: Home,
    *,
    principals: list[str],
    access_keys: list[str],
    resources: list[str],
    account_id: str | None,
    start: datetime,
    end: datetime,
    limit: int = 10000,
) -> bytes:
    """JSON Lines of the raw CloudTrail records in [start, end] that involve any of the principals
    (ARN of the caller, of the role behind its session, or user name), access keys, or resources
    (ids, names or ARNs anywhere in the record), in time order. Records are as ingested: the raw
    record is what a court or a customer will want to see, not cloudsoc's normalized columns.
    Nothing to look for gives an empty extract, never the whole window."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ExtractError("event_extract needs timezone-aware start and end times")
    where, params = _involving(principals, access_keys, resources)
    if not where:
        return b""
    sql = f"SELECT raw FROM cloudtrail WHERE event_time BETWEEN ? AND ? AND ({' OR '.join(where)})"
    args: list[Any] = [start, end, *params]
    if account_id:
        sql += " AND (account_id = ? OR recipient_account_id = ?)"
        args += [account_id, account_id]
    sql += " ORDER BY event_time, event_id LIMIT ?"
    lake = Lake(home.lake)
    con = lake.connect({"cloudtrail": lake.files("cloudtrail", start, end)})
    try:
        rows = con.execute(sql, [*args, int(limit)]).fetchall()
    finally:
        con.close()
    return b"".join(str(raw).encode() + b"\n" for (raw,) in rows)


def _involving(
    principals: list[str], access_keys: list[str], resources: list[str]
) -> tuple[list[str], list[Any]]:
    """OR-ed conditions, with their parameters, for whatever the incident names."""
    where: list[str] = []
    params: list[Any] = []
    names = sorted({p for p in principals if p})
    if names:
        where.append(
            "list_contains(?, principal_arn) OR list_contains(?, session_issuer_arn) OR list_contains(?, user_name)"
        )
        params += [names, names, names]
    keys = sorted({k for k in access_keys if k})
    if keys:
        # a key also appears in requests about it (CreateAccessKey, UpdateAccessKey) made by others
        where.append("list_contains(?, access_key_id)")
        params.append(keys)
        resources = [*resources, *keys]
    for res in sorted({r for r in resources if r}):
        where.append("contains(raw, ?)")
        params.append(res)
    return where, params
