"""The data side of the Amazon States Language: JSONPaths, the input/output pipeline of a state
(InputPath, Parameters, ResultSelector, ResultPath, OutputPath) and Choice rules.

Paths support the subset Step Functions accepts in reference paths plus ``[*]`` projections:
``$``, ``$.a.b``, ``$.a[0]``, ``$['a b']``, ``$.list[*].id``; ``$$.`` reads the context object
(``$$.Execution.Id``, ``$$.Map.Item.Value``, ...)."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cloudsoc.core.errors import CloudSOCError


class PathError(CloudSOCError):
    """A JSONPath that does not parse, or that selects nothing at run time (ASL: States.Runtime)."""


_TOKEN = re.compile(
    r"\.([A-Za-z0-9_\-:@]+)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\[\"((?:[^\"\\]|\\.)*)\"\]|(\[\*\])"
)
Token = str | int | None  # None: the [*] projection


def parse_path(path: str) -> tuple[bool, list[Token]]:
    """(reads the context object, tokens) of a path; raises PathError when it is not one."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise PathError(f"{path!r} is not a JSONPath (must start with $)")
    context = path.startswith("$$")
    rest, pos = path[2 if context else 1 :], 0
    tokens: list[Token] = []
    while pos < len(rest):
        m = _TOKEN.match(rest, pos)
        if not m:
            raise PathError(f"{path!r} is not a JSONPath: cannot read {rest[pos:]!r}")
        name, index, quoted, dquoted, star = m.groups()
        if index is not None:
            tokens.append(int(index))
        elif star:
            tokens.append(None)
        else:
            tokens.append(name if name is not None else (quoted if quoted is not None else dquoted))
        pos = m.end()
    return context, tokens


def is_reference_path(path: str) -> bool:
    """A path that names one place (no projection, no context object): what ResultPath needs."""
    try:
        context, tokens = parse_path(path)
    except PathError:
        return False
    return not context and None not in tokens


def _walk(value: Any, tokens: list[Token], path: str) -> Any:
    for i, tok in enumerate(tokens):
        if tok is None:
            if not isinstance(value, list):
                raise PathError(f"{path}: [*] over a {type(value).__name__}")
            return [_walk(v, tokens[i + 1 :], path) for v in value]
        if isinstance(tok, int):
            if not isinstance(value, list) or tok >= len(value):
                raise PathError(f"{path}: no element {tok}")
        elif not isinstance(value, dict) or tok not in value:
            raise PathError(f"{path}: no field {tok!r}")
        value = value[tok]
    return value


def get(data: Any, path: str, context: dict[str, Any] | None = None) -> Any:
    """The value at ``path``; PathError when the path selects nothing."""
    is_ctx, tokens = parse_path(path)
    return _walk((context or {}) if is_ctx else data, tokens, path)


def present(data: Any, path: str, context: dict[str, Any] | None = None) -> bool:
    try:
        get(data, path, context)
    except PathError:
        return False
    return True


def put(data: Any, path: str | None, value: Any) -> Any:
    """ResultPath semantics: ``$`` replaces the input, ``None`` (null) discards the result, any
    other reference path sets the value there in a copy of the input (creating objects as needed)."""
    if path is None:
        return data
    _, tokens = parse_path(path)
    if not tokens:
        return value
    out = copy.deepcopy(data) if isinstance(data, dict | list) else {}
    node: Any = out
    for i, tok in enumerate(tokens):
        last = i == len(tokens) - 1
        if isinstance(tok, int):
            if not isinstance(node, list) or tok >= len(node):
                raise PathError(f"ResultPath {path}: no element {tok}")
            if last:
                node[tok] = value
            node = node[tok]
            continue
        if not isinstance(node, dict):
            raise PathError(f"ResultPath {path}: {tok!r} is not under an object")
        if last:
            node[tok] = value
        else:
            if not isinstance(node.get(tok), dict | list):
                node[tok] = {}
            node = node[tok]
    return out


def render(template: Any, data: Any, context: dict[str, Any] | None = None) -> Any:
    """Parameters / ResultSelector / ItemSelector: ``"key.$": "$.path"`` takes the value at the path."""
    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                out[key[:-2]] = get(data, value, context)
            else:
                out[key] = render(value, data, context)
        return out
    if isinstance(template, list):
        return [render(v, data, context) for v in template]
    return template


def template_paths(template: Any) -> list[tuple[str, Any]]:
    """Every ``key.$`` of a template with its value (for validation)."""
    found: list[tuple[str, Any]] = []
    if isinstance(template, dict):
        for key, value in template.items():
            if key.endswith(".$"):
                found.append((key, value))
            else:
                found.extend(template_paths(value))
    elif isinstance(template, list):
        for v in template:
            found.extend(template_paths(v))
    return found


def effective_input(state: dict[str, Any], raw: Any, context: dict[str, Any]) -> Any:
    """InputPath then Parameters (ItemSelector in a Map is applied per item, not here)."""
    value = select(raw, state.get("InputPath", "$"))
    if "Parameters" in state and state.get("Type") != "Map":
        value = render(state["Parameters"], value, context)
    return value


def state_output(state: dict[str, Any], raw: Any, result: Any, context: dict[str, Any]) -> Any:
    """ResultSelector, ResultPath, OutputPath."""
    if "ResultSelector" in state:
        result = render(state["ResultSelector"], result, context)
    combined = put(raw, state.get("ResultPath", "$"), result)
    return select(combined, state.get("OutputPath", "$"))


def select(value: Any, path: str | None) -> Any:
    """InputPath / OutputPath: the value at ``path``; a null path passes an empty object."""
    return {} if path is None else get(value, path)


# ---- Choice rules -------------------------------------------------------------------------------

_TYPES: dict[str, Callable[[Any], bool]] = {
    "String": lambda v: isinstance(v, str),
    "Numeric": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "Boolean": lambda v: isinstance(v, bool),
    "Timestamp": lambda v: _timestamp(v) is not None,
}
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda a, b: bool(a == b),
    "LessThan": lambda a, b: bool(a < b),
    "GreaterThan": lambda a, b: bool(a > b),
    "LessThanEquals": lambda a, b: bool(a <= b),
    "GreaterThanEquals": lambda a, b: bool(a >= b),
}
COMPARISONS = {
    f"{kind}{op}{suffix}"
    for kind in ("String", "Numeric", "Timestamp")
    for op in _ORDER
    for suffix in ("", "Path")
} | {"StringMatches", "BooleanEquals", "BooleanEqualsPath"}
TESTS = {"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"}
OPERATORS = COMPARISONS | TESTS


def _timestamp(v: Any) -> datetime | None:
    if not isinstance(v, str):
        return None
    try:
        return datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None


def matches_wildcard(value: str, pattern: str) -> bool:
    """StringMatches: ``*`` is any run of characters, ``\\*`` a literal asterisk."""
    parts = re.split(r"(\\\\|\\\*|\*)", pattern)
    rx = "".join(".*" if p == "*" else re.escape(p[1:] if p in ("\\*", "\\\\") else p) for p in parts)
    return re.fullmatch(rx, value, re.DOTALL) is not None


def evaluate(rule: dict[str, Any], data: Any) -> bool:
    """Whether a Choice rule (And/Or/Not or a Variable comparison) holds for ``data``."""
    if "And" in rule:
        return all(evaluate(r, data) for r in rule["And"])
    if "Or" in rule:
        return any(evaluate(r, data) for r in rule["Or"])
    if "Not" in rule:
        return not evaluate(rule["Not"], data)
    op = next(k for k in rule if k in OPERATORS)
    expected = rule[op]
    if op == "IsPresent":
        return present(data, rule["Variable"]) is bool(expected)
    if not present(data, rule["Variable"]):
        return False  # ASL: a comparison on a missing Variable is a runtime error; playbooks see false
    value = get(data, rule["Variable"])
    if op in TESTS:
        kind = op[2:]
        holds = value is None if kind == "Null" else _TYPES[kind](value)
        return holds is bool(expected)
    if op.endswith("Path"):
        op, expected = op[:-4], get(data, expected)
    if op == "StringMatches":
        return isinstance(value, str) and matches_wildcard(value, expected)
    kind = next(k for k in _TYPES if op.startswith(k))
    if not (_TYPES[kind](value) and _TYPES[kind](expected)):
        return False
    if kind == "Timestamp":
        value, expected = _timestamp(value), _timestamp(expected)
    return _ORDER[op[len(kind) :]](value, expected)


def rule_problems(rule: Any, top: bool = True) -> list[str]:
    """What is wrong with a Choice rule (empty when it is well formed)."""
    if not isinstance(rule, dict):
        return ["a choice rule must be a mapping"]
    problems: list[str] = []
    if top and "Next" not in rule:
        problems.append("a choice rule needs Next")
    if not top and "Next" in rule:
        problems.append("Next is only allowed on a top-level choice rule")
    combinators = [k for k in ("And", "Or", "Not") if k in rule]
    ops = [k for k in rule if k in OPERATORS]
    unknown = [
        k for k in rule if k not in OPERATORS and k not in ("And", "Or", "Not", "Variable", "Next", "Comment")
    ]
    problems += [f"unknown choice operator {k!r}" for k in unknown]
    if len(combinators) + len(ops) != 1:
        return [*problems, f"a choice rule needs exactly one operator, found {combinators + ops or 'none'}"]
    if combinators:
        inner = rule[combinators[0]]
        if combinators[0] == "Not":
            return problems + rule_problems(inner, top=False)
        if not isinstance(inner, list) or not inner:
            return [*problems, f"{combinators[0]} needs a non-empty list of rules"]
        return problems + [p for r in inner for p in rule_problems(r, top=False)]
    return problems + _comparison_problems(rule, ops[0])


def _comparison_problems(rule: dict[str, Any], op: str) -> list[str]:
    problems = []
    if "Variable" not in rule:
        problems.append(f"{op} needs a Variable")
    elif not _is_path(rule["Variable"]):
        problems.append(f"Variable {rule['Variable']!r} is not a JSONPath")
    value = rule[op]
    if op.endswith("Path"):
        if not _is_path(value):
            problems.append(f"{op} {value!r} is not a JSONPath")
    elif op in TESTS or op.startswith("Boolean"):
        if not isinstance(value, bool):
            problems.append(f"{op} takes true or false, not {value!r}")
    elif op.startswith("Numeric"):
        if not _TYPES["Numeric"](value):
            problems.append(f"{op} takes a number, not {value!r}")
    elif op.startswith("Timestamp"):
        if _timestamp(value) is None:
            problems.append(f"{op} takes an ISO-8601 timestamp, not {value!r}")
    elif not isinstance(value, str):
        problems.append(f"{op} takes a string, not {value!r}")
    return problems


def _is_path(value: Any) -> bool:
    try:
        parse_path(value)
    except PathError:
        return False
    return True
