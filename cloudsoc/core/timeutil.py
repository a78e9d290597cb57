"""Clock and time parsing shared by every layer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def aware(t: datetime) -> datetime: ...
@overload
def aware(t: None) -> None: ...
def aware(t: datetime | None) -> datetime | None:
    """A time from the database as aware UTC (SQLite hands back naive datetimes)."""
    return None if t is None else (t if t.tzinfo else t.replace(tzinfo=UTC))


def parse_time(text: str) -> datetime:
    """An ISO-8601 time, a date, or a relative ``-15m``/``-2h``/``-7d``, as an aware UTC datetime."""
    from datetime import timedelta

    t = text.strip()
    if t.startswith("-") and t[-1:] in "smhd" and t[1:-1].isdigit():
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[t[-1]]
        return utcnow() - timedelta(**{unit: int(t[1:-1])})
    dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
