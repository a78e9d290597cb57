"""Severity levels, lowest first, as incidents, playbooks and notification routes use them.

Alerts keep the short ``info`` of the detection engine; it means ``informational`` everywhere else.
A value outside the scale ranks as ``medium``: neither silenced nor paged."""

from __future__ import annotations

from typing import Literal

LEVELS = ("informational", "low", "medium", "high", "critical")
Severity = Literal["informational", "low", "medium", "high", "critical"]
_ALIASES = {"info": "informational"}


def normalize(severity: str | None) -> str:
    s = str(severity or "").lower()
    s = _ALIASES.get(s, s)
    return s if s in LEVELS else "medium"


def rank(severity: str | None) -> int:
    return LEVELS.index(normalize(severity))
