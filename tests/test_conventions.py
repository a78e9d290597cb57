"""Meta-tests that keep the house conventions true."""

from __future__ import annotations

import ast
from pathlib import Path

from cloudsoc.core.config import CONTENT_DIR
from cloudsoc.detect.rules import load

PACKAGE = Path(__file__).resolve().parents[1] / "cloudsoc"


def test_core_imports_no_aws_sdk() -> None:
    for path in (PACKAGE / "core").rglob("*.py"):
        tree = ast.parse(path.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [n for n in names if n.split(".")[0] in ("boto3", "botocore")], path


def test_every_bundled_detection_is_complete() -> None:
    rules = load([CONTENT_DIR / "detections"])
    assert not rules.errors
    for rule in rules.alerting():
        assert rule.attack and any(t.startswith("attack.t") for t in rule.tags), (
            f"{rule.id}: no ATT&CK technique"
        )
        assert {t.match for t in rule.tests} == {True, False}, f"{rule.id}: needs both test polarities"
    # id = file name: every file holds an alerting rule whose id is the file's stem
    by_file: dict[str, set[str]] = {}
    for rule in rules.alerting():
        by_file.setdefault(rule.path, set()).add(rule.id)
    for path, ids in by_file.items():
        assert Path(path).stem in ids, f"{path}: no alerting rule named after the file ({sorted(ids)})"
