"""Where cloudsoc keeps its data, and the optional ``cloudsoc.yaml`` settings beside it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cloudsoc.core.errors import ConfigError

DEFAULT_HOME = ".cloudsoc"
CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"


class DetectSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule_paths: list[str] = Field(default_factory=list, description="extra rule files or folders")
    dedup_minutes: int = 60
    follow_interval_seconds: float = 2.0
    # values of Sigma %placeholders% (|expand); org_accounts: the organization's own account ids
    placeholders: dict[str, list[str]] = Field(default_factory=dict)


class IngestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chunk_kb: int = 4096  # input parsed and staged together by one worker
    workers: int = 0  # 0: one per core


class SlaSettings(BaseModel):
    """Minutes from the first alert within which an incident must reach each stage."""

    model_config = ConfigDict(extra="forbid")
    acknowledge: int
    contain: int
    resolve: int


def _default_sla() -> dict[str, SlaSettings]:
    minutes = {"critical": (15, 60, 1440), "high": (60, 240, 4320), "medium": (240, 1440, 10080),
               "low": (1440, 4320, 20160), "informational": (10080, 20160, 43200)}  # fmt: skip
    return {sev: SlaSettings(acknowledge=a, contain=c, resolve=r) for sev, (a, c, r) in minutes.items()}


class IncidentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group_minutes: int = (
        120  # alerts on the same principal/resource/account within this window join one incident
    )
    sla: dict[str, SlaSettings] = Field(default_factory=_default_sla)


class AutoApply(BaseModel):
    """An account (id, tier or "*") where an action (name or "*") may change AWS without approval."""

    model_config = ConfigDict(extra="forbid")
    account: str
    action: str = "*"


class RespondSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    responder_role: str = "CloudSOCResponder"
    # Against real AWS every action only plans unless an auto_apply entry allows it; the sandbox applies.
    auto_apply: list[AutoApply] = Field(default_factory=list)
    account_tiers: dict[str, str] = Field(default_factory=dict)  # account id -> tier (prod, dev, ...)
    approval_timeout_minutes: int = 60


class EvidenceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    backend: str = "local"  # local | s3
    bucket: str | None = None  # s3: a bucket with Object Lock in COMPLIANCE mode
    prefix: str = "evidence/"
    retention_days: int = 365


class AutoFix(BaseModel):
    """An account (id, tier or "*") where a failing check (id or "*") is fixed without asking."""

    model_config = ConfigDict(extra="forbid")
    account: str
    check: str = "*"


class PostureSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    read_only_role: str = "CloudSOCReadOnly"
    accounts: list[str] = Field(default_factory=list)  # real AWS: empty = every account of the organization
    regions: list[str] = Field(default_factory=lambda: ["us-east-1"])
    workers: int = 16  # concurrent API calls while collecting
    # `posture fix --apply` per account tier ("*": any other): allow | approval (needs --approved-by) | deny
    fix_approval: dict[str, str] = Field(default_factory=lambda: {"prod": "approval", "*": "allow"})
    # The continuous evaluation only raises alerts, and fixes a new failure only where an entry allows it.
    auto_fix: list[AutoFix] = Field(default_factory=list)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    database_url: str | None = None  # default: SQLite in the home
    detect: DetectSettings = Field(default_factory=DetectSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    incidents: IncidentSettings = Field(default_factory=IncidentSettings)
    respond: RespondSettings = Field(default_factory=RespondSettings)
    evidence: EvidenceSettings = Field(default_factory=EvidenceSettings)
    posture: PostureSettings = Field(default_factory=PostureSettings)
    # channels and routes, validated by cloudsoc.integrations (core does not know the channel types)
    notify: dict[str, Any] = Field(default_factory=dict)


class Home:
    """The data directory: lake, state database, quarantine, settings."""

    def __init__(self, root: Path, settings: Settings) -> None:
        self.root = root
        self.settings = settings

    @classmethod
    def open(cls, root: str | Path | None = None) -> Home:
        path = Path(root or os.environ.get("CLOUDSOC_HOME") or DEFAULT_HOME).resolve()
        path.mkdir(parents=True, exist_ok=True)
        return cls(path, load_settings(path / "cloudsoc.yaml"))

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def database_url(self) -> str:
        return self.settings.database_url or f"sqlite:///{self.root / 'state.db'}"

    @property
    def evidence(self) -> Path:
        return self.root / "evidence"

    @property
    def posture(self) -> Path:
        return self.root / "posture"

    def rule_paths(self) -> list[Path]:
        """The bundled rule pack first, then the configured extra paths."""
        extra = [Path(p) if Path(p).is_absolute() else self.root / p for p in self.settings.detect.rule_paths]
        return [CONTENT_DIR / "detections", *extra]

    def suppression_paths(self) -> list[Path]:
        return [CONTENT_DIR / "suppressions", self.root / "suppressions"]


def load_settings(path: Path) -> Settings:
    if not path.exists():
        return Settings()
    try:
        data = yaml.safe_load(path.read_text()) or {}
        return Settings.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
