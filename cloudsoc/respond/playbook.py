"""Playbooks: YAML documents in the Amazon States Language vocabulary, plus cloudsoc's ``Trigger``
(which incidents start it) and ``Approval`` (who approves, how long to wait) blocks.

Loading validates every playbook completely and reports every problem at once, with the file, the
state and the YAML line (see ``cloudsoc.respond.validate``)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_pascal

from cloudsoc.core.config import CONTENT_DIR
from cloudsoc.core.errors import CloudSOCError
from cloudsoc.core.severity import Severity

BUNDLED = CONTENT_DIR / "playbooks"
LinePath = tuple[str | int, ...]


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_pascal, populate_by_name=True)


class Trigger(_Block):
    """Which incidents start the playbook: a rule id (glob) or an ATT&CK tag must match when any are
    given; the severity and account tier filters must all hold."""

    rules: list[str] = Field(default_factory=list)  # cloudsoc rule ids, fnmatch globs allowed
    tags: list[str] = Field(default_factory=list)  # attack.* tags
    min_severity: Severity | None = None
    severities: list[Severity] = Field(default_factory=list)
    account_tiers: list[str] = Field(default_factory=list)


class ApprovalPolicy(_Block):
    """Defaults of the playbook's approval states; ``approvers`` empty: anyone may decide."""

    timeout_minutes: int | None = Field(
        default=None, gt=0
    )  # default: settings.respond.approval_timeout_minutes
    default: Literal["approve", "deny"] = "deny"
    approvers: list[str] = Field(default_factory=list)


class Problem(BaseModel):
    file: str
    state: str | None = None
    line: int | None = None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.state + ': ' if self.state else ''}{self.message}"


class PlaybookError(CloudSOCError):
    """A playbook that cannot be loaded; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Playbook(BaseModel):
    name: str
    file: str
    definition: dict[str, Any]  # the ASL part: Comment, StartAt, States (and TimeoutSeconds)
    trigger: Trigger | None = None
    approval: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    content_hash: str

    @property
    def comment(self) -> str:
        return str(self.definition.get("Comment", ""))

    @classmethod
    def from_document(cls, doc: dict[str, Any], name: str, file: str = "<document>",
                      lines: dict[LinePath, int] | None = None) -> Playbook:  # fmt: skip
        """Validate a parsed document; PlaybookError with every problem when it is not valid."""
        from cloudsoc.respond.validate import check_document

        problems = check_document(doc, file, lines or {})
        trigger = approval = None
        try:
            trigger = Trigger.model_validate(doc["Trigger"]) if doc.get("Trigger") is not None else None
        except ValidationError as exc:
            problems += _model_problems(exc, file, "Trigger", lines or {})
        try:
            approval = ApprovalPolicy.model_validate(doc.get("Approval") or {})
        except ValidationError as exc:
            problems += _model_problems(exc, file, "Approval", lines or {})
        if problems:
            raise PlaybookError(sorted(problems, key=lambda p: p.line or 0))
        definition = {k: v for k, v in doc.items() if k not in ("Trigger", "Approval")}
        digest = hashlib.sha256(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest()
        return cls(name=name, file=file, definition=definition, trigger=trigger,
                   approval=approval or ApprovalPolicy(), content_hash=digest)  # fmt: skip


def _model_problems(exc: ValidationError, file: str, block: str, lines: dict[LinePath, int]) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"])
        out.append(Problem(file=file, line=lines.get((block,)), message=f"{block}.{loc}: {err['msg']}"))
    return out


class PlaybookSet(BaseModel):
    playbooks: dict[str, Playbook] = Field(default_factory=dict)
    problems: list[Problem] = Field(default_factory=list)

    def get(self, name: str) -> Playbook:
        try:
            return self.playbooks[name]
        except KeyError:
            raise CloudSOCError(
                f"unknown playbook {name!r}; known: {', '.join(sorted(self.playbooks))}"
            ) from None

    def __iter__(self) -> Iterator[Playbook]:  # type: ignore[override]
        return iter(sorted(self.playbooks.values(), key=lambda p: p.name))


def parse_yaml(text: str) -> tuple[Any, dict[LinePath, int]]:
    """The document and the 1-based line of every mapping key and sequence item, by path."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    lines: dict[LinePath, int] = {}
    if node is not None:
        _lines(node, (), lines)
    return data, lines


def _lines(node: yaml.Node, path: LinePath, out: dict[LinePath, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*path, str(key.value))
            out[sub] = key.start_mark.line + 1
            _lines(value, sub, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[(*path, i)] = item.start_mark.line + 1
            _lines(item, (*path, i), out)


def load_file(path: Path) -> Playbook:
    try:
        doc, lines = parse_yaml(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise PlaybookError([Problem(file=str(path), line=line, message=f"not YAML: {exc}")]) from exc
    if not isinstance(doc, dict):
        raise PlaybookError([Problem(file=str(path), message="a playbook must be a YAML mapping")])
    return Playbook.from_document(doc, path.stem, str(path), lines)


def playbook_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted([*p.glob("*.yml"), *p.glob("*.yaml")])
        elif p.exists():
            files.append(p)
    return files


def load_playbooks(paths: list[Path] | None = None) -> PlaybookSet:
    """Every playbook under ``paths`` (files or folders; default: the bundled ones) and every problem
    of those that do not load. A later file with the same name replaces an earlier one."""
    result = PlaybookSet()
    for f in playbook_files(paths if paths is not None else [BUNDLED]):
        try:
            pb = load_file(f)
        except PlaybookError as exc:
            result.problems += exc.problems
            continue
        result.playbooks[pb.name] = pb
    for p in paths or []:
        if not p.exists():
            result.problems.append(Problem(file=str(p), message="no such file or folder"))
    return result
