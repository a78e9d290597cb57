"""Suppressions: YAML entries that silence known-benign matches (counted, never dropped)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fnmatch import fnmatchcase
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cloudsoc.core.errors import ConfigError


class Suppression(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    rule: str = Field(description="rule id, or a glob over rule ids")
    match: dict[str, str | list[str]] = Field(default_factory=dict, description="alert field -> glob(s)")
    owner: str
    reason: str
    expires: date

    def active(self, now: datetime) -> bool:
        return now.date() <= self.expires

    def covers(self, rule_id: str, fields: dict[str, str | None]) -> bool:
        if not fnmatchcase(rule_id, self.rule):
            return False
        for key, want in self.match.items():
            value = fields.get(key) or ""
            patterns = [want] if isinstance(want, str) else want
            if not any(fnmatchcase(value.lower(), p.lower()) for p in patterns):
                return False
        return True


MATCH_FIELDS = ("account_id", "region", "principal", "group")


@dataclass
class Suppressions:
    entries: list[Suppression]

    def find(self, rule_id: str, fields: dict[str, str | None], now: datetime) -> Suppression | None:
        return next((s for s in self.entries if s.active(now) and s.covers(rule_id, fields)), None)


def load(paths: list[Path]) -> Suppressions:
    entries: list[Suppression] = []
    files = [f for p in paths if p.is_dir() for f in sorted(p.glob("*.y*ml"))] + [
        p for p in paths if p.is_file()
    ]
    for f in files:
        try:
            data = yaml.safe_load(f.read_text()) or []
            items = data if isinstance(data, list) else [data]
            entries.extend(Suppression.model_validate(i) for i in items)
        except (yaml.YAMLError, ValidationError) as exc:
            raise ConfigError(f"{f}: invalid suppression: {exc}") from exc
    for s in entries:
        unknown = set(s.match) - set(MATCH_FIELDS)
        if unknown:
            raise ConfigError(
                f"suppression {s.id}: unknown match fields {sorted(unknown)}; use {MATCH_FIELDS}"
            )
    return Suppressions(entries)
