"""Loading rules: Sigma YAML (plain and correlation) parsed by pySigma, and Python rule files.

Every problem is collected as a RuleError with file and line, so one bad rule never hides the
others and is never silently skipped.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from sigma.correlations import SigmaCorrelationCondition, SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from cloudsoc.core.errors import RuleError
from cloudsoc.detect.fields import LOGSOURCES
from cloudsoc.detect.ir import Node, Or, Placeholders, Unsupported, lower

SEVERITIES = ("info", "low", "medium", "high", "critical")
# Placeholders every installation has; an empty list matches nothing until it is configured.
BUILTIN_PLACEHOLDERS: dict[str, list[str]] = {"org_accounts": []}
_LEVEL = {"informational": "info", "low": "low", "medium": "medium", "high": "high", "critical": "critical"}


@dataclass
class RuleTest:
    name: str
    match: bool
    events: list[dict[str, Any]]


@dataclass
class Correlation:
    type: str  # event_count | value_count | temporal | temporal_ordered
    rules: list[Rule]
    group_by: list[str]
    seconds: int
    op: str = ">="
    count: int = 1
    field: str | None = None  # value_count


@dataclass
class Rule:
    id: str
    title: str
    severity: str
    tags: list[str]
    version: str
    path: str
    line: int
    source: str = "cloudtrail"
    kind: str = "sigma"  # sigma | correlation | python
    condition: Node | None = None
    correlation: Correlation | None = None
    python: ModuleType | None = None
    event_names: list[str] | None = None  # prefilter of a Python rule
    alert: bool = True
    tests: list[RuleTest] = field(default_factory=list)
    sigma_name: str | None = None
    sigma_id: str | None = None

    @property
    def attack(self) -> list[str]:
        return [t for t in self.tags if t.startswith("attack.")]


@dataclass
class RuleSet:
    rules: list[Rule] = field(default_factory=list)
    errors: list[RuleError] = field(default_factory=list)

    def by_id(self, rule_id: str) -> Rule:
        for r in self.rules:
            if rule_id in (r.id, r.sigma_id, r.sigma_name):
                return r
        raise KeyError(f"no rule {rule_id!r}")

    def alerting(self) -> list[Rule]:
        return [r for r in self.rules if r.alert]


def load(paths: list[Path], placeholders: Placeholders | None = None) -> RuleSet:
    """Every rule under ``paths``; ``placeholders`` gives the values of ``%name%`` in ``|expand``."""
    out = RuleSet()
    files = _rule_files(paths)
    values = {**BUILTIN_PLACEHOLDERS, **(placeholders or {})}
    for path in files:
        if path.suffix in (".yml", ".yaml"):
            _load_yaml(path, out, values)
    for path in files:
        if path.suffix == ".py":
            _load_python(path, out)
    _resolve_correlations(out)
    return out


def _rule_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.suffix in (".yml", ".yaml", ".py")))
        elif p.exists():
            files.append(p)
    return [f for f in files if not f.name.startswith(("_", "."))]


def _doc_lines(text: str) -> list[int]:
    """First line (1-based) of each YAML document in a multi-document file."""
    starts = [1]
    starts += [i + 2 for i, line in enumerate(text.splitlines()) if re.match(r"^---\s*$", line) and i > 0]
    return starts


def _load_yaml(path: Path, out: RuleSet, placeholders: Placeholders) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        out.errors.append(RuleError(str(path), f"invalid YAML: {exc}", mark.line + 1 if mark else None))
        return
    lines = _doc_lines(text)
    multi = len(docs) > 1
    for i, doc in enumerate(docs):
        line = lines[i] if i < len(lines) else 1
        try:
            rule = _from_doc(path, doc, line, multi, placeholders)
        except (SigmaError, Unsupported, ValueError, KeyError, TypeError) as exc:
            out.errors.append(RuleError(str(path), _reason(exc), line))
            continue
        if rule is not None:
            out.rules.append(rule)


def _reason(exc: Exception) -> str:
    if "pipe syntax" in str(exc):
        return "unsupported: the old aggregation syntax (condition with '|'); write it as a Sigma correlation rule"
    kind = "unsupported" if isinstance(exc, Unsupported) else "invalid rule"
    return f"{kind}: {exc}"


def _from_doc(
    path: Path, doc: dict[str, Any], line: int, multi: bool, placeholders: Placeholders
) -> Rule | None:
    if not isinstance(doc, dict):
        raise ValueError("a rule document must be a mapping")
    version = hashlib.sha256(yaml.safe_dump(doc, sort_keys=True).encode()).hexdigest()[:12]
    # correlation references are resolved by cloudsoc across all loaded files
    sigma = SigmaCorrelationRule.from_dict(doc) if "correlation" in doc else SigmaRule.from_dict(doc)
    rule_id = (sigma.name if multi else None) or path.stem
    ext = doc.get("cloudsoc") or {}
    base = Rule(
        id=rule_id,
        title=str(sigma.title),
        severity=_LEVEL.get(str(getattr(sigma.level, "name", "medium")).lower(), "medium"),
        tags=[f"{t.namespace}.{t.name}" for t in sigma.tags],
        version=version,
        path=str(path),
        line=line,
        alert=bool(ext.get("alert", True)),
        tests=_tests(doc.get("tests")),
        sigma_name=sigma.name,
        sigma_id=str(sigma.id) if sigma.id else None,
    )
    if isinstance(sigma, SigmaCorrelationRule):
        base.kind = "correlation"
        base.correlation = Correlation(str(sigma.type), [], [], 0)  # resolved after all files load
        base._sigma = sigma  # type: ignore[attr-defined]
        return base
    assert isinstance(sigma, SigmaRule)
    key = (str(sigma.logsource.product), str(sigma.logsource.service))
    if key not in LOGSOURCES:
        raise Unsupported(f"log source {key[0]}/{key[1]} is not collected by cloudsoc")
    base.source = LOGSOURCES[key]
    conds = [lower(c.parsed, placeholders) for c in sigma.detection.parsed_condition]
    base.condition = conds[0] if len(conds) == 1 else Or(tuple(conds))
    return base


def _tests(raw: Any) -> list[RuleTest]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError("tests must be a list")
    out = []
    for i, t in enumerate(raw):
        if not isinstance(t, dict) or "match" not in t or not isinstance(t.get("events"), list):
            raise ValueError(f"test {i} needs 'match' (true/false) and an 'events' list")
        out.append(RuleTest(str(t.get("name", f"test {i}")), bool(t["match"]), t["events"]))
    return out


def _resolve_correlations(out: RuleSet) -> None:
    index = {k: r for r in out.rules for k in (r.sigma_name, r.sigma_id, r.id) if k}
    for rule in [r for r in out.rules if r.kind == "correlation"]:
        sigma = rule._sigma  # type: ignore[attr-defined]
        try:
            rule.correlation = _correlation(sigma, index)
        except (Unsupported, KeyError, ValueError) as exc:
            out.errors.append(RuleError(rule.path, _reason(exc), rule.line))
            out.rules.remove(rule)


def _correlation(sigma: SigmaCorrelationRule, index: dict[str, Rule]) -> Correlation:
    refs = []
    for ref in sigma.rules or []:
        name = str(ref.reference)
        if name not in index:
            raise KeyError(f"correlation refers to unknown rule {name!r}")
        refs.append(index[name])
    sources = {r.source for r in refs}
    if len(sources) != 1 or any(r.kind != "sigma" for r in refs):
        raise Unsupported("correlation over rules of different sources or over other correlations")
    if any(r.python is not None for r in refs):
        # a Python rule's matches are decided per event at alert time, never among the rows
        # correlations count
        raise Unsupported("correlation over a rule refined by a Python rule file")
    if sigma.aliases and len(sigma.aliases):
        raise Unsupported("correlation field aliases")
    corr = Correlation(str(sigma.type), refs, list(sigma.group_by or []), int(sigma.timespan.seconds))
    cond = sigma.condition
    if corr.type in ("event_count", "value_count"):
        ops = {"LT": "<", "LTE": "<=", "GT": ">", "GTE": ">=", "EQ": "=", "NEQ": "<>"}
        if not isinstance(cond, SigmaCorrelationCondition):
            raise Unsupported("extended conditions on a counting correlation")
        corr.op = ops[cond.op.name]
        corr.count = int(cond.count)
        corr.field = getattr(cond, "fieldref", None)
        if corr.type == "value_count" and not corr.field:
            raise ValueError("value_count needs condition.field")
    elif not (isinstance(cond, SigmaCorrelationCondition) and cond.op.name == "GTE" and cond.count in (1, len(refs))
              and (cond.count == len(refs) or "condition" not in sigma.custom_attributes.get("correlation", {}))):  # fmt: skip
        # cloudsoc's temporal kinds mean "every referenced rule in the window"; refuse other conditions
        raise Unsupported("temporal correlation with a condition other than all referenced rules")
    return corr


def _load_python(path: Path, out: RuleSet) -> None:
    spec = importlib.util.spec_from_file_location(f"cloudsoc_rule_{path.stem}", path)
    if spec is None or spec.loader is None:
        out.errors.append(RuleError(str(path), "cannot import"))
        return
    mod = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(mod)
    except Exception as exc:  # a rule file's import error is a rule error, whatever it is
        out.errors.append(RuleError(str(path), f"import failed: {exc!r}", _tb_line(exc, path)))
        return
    if not callable(getattr(mod, "rule", None)):
        out.errors.append(RuleError(str(path), "a Python rule needs a function rule(event) -> bool"))
        return
    sibling = next((r for r in out.rules if Path(r.path).with_suffix("") == path.with_suffix("")), None)
    if sibling is not None:  # logic Sigma cannot say, refining the Sigma rule of the same stem
        sibling.python = mod
        return
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    level = str(getattr(mod, "SEVERITY", getattr(mod, "severity", "medium")))
    out.rules.append(Rule(
        id=path.stem, title=str(getattr(mod, "TITLE", getattr(mod, "title", path.stem))),
        severity=level if level in SEVERITIES else "medium", tags=list(getattr(mod, "TAGS", [])),
        version=digest, path=str(path), line=1, source=str(getattr(mod, "SOURCE", "cloudtrail")),
        kind="python", python=mod, event_names=getattr(mod, "EVENT_NAMES", None),
        tests=_tests(getattr(mod, "TESTS", None)),
    ))  # fmt: skip


def _tb_line(exc: Exception, path: Path) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == str(path):
            line = tb.tb_lineno
        tb = tb.tb_next
    return getattr(exc, "lineno", None) or line
