"""CloudWatch Logs JSON filter patterns, parsed and run on events.

A pattern such as ``{ ($.eventName = CreateTrail) || ($.eventName = "UpdateTrail") }`` is read into
terms (``$.field`` compared with a value, ``IS NULL``, ``NOT EXISTS``...) joined by ``&&`` and ``||``,
so that two patterns spelled differently (spacing, quotes, order, parentheses) mean the same. The
monitoring checks then ask what the pattern matches: it must match every event a CIS condition
describes and none of the events it leaves out. Not a check: a module the checks share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(r"""\s*(?:
    (?P<group>[{}()])
  | (?P<logic>&&|\|\|)
  | (?P<op>!=|<=|>=|=|<|>)
  | (?P<field>\$(?:\.[A-Za-z0-9_@-]+|\[\d+\])+)
  | (?P<quoted>"(?:[^"\\]|\\.)*")
  | (?P<regex>%[^%]*%)
  | (?P<word>[^\s{}()=!<>&|"]+)
)""", re.VERBOSE)  # fmt: skip
_MISSING = object()


class PatternError(ValueError):
    """The text is not a JSON filter pattern (a plain-text or space-delimited one, or broken)."""


@dataclass(frozen=True)
class Term:
    """``$.field <op> value``; ``op`` is also "IS" (value NULL/TRUE/FALSE) or "NOT EXISTS"."""

    field: str
    op: str
    value: str | None = None
    regex: bool = False

    def matches(self, event: dict[str, Any]) -> bool:
        found = _lookup(event, self.field)
        if self.op == "NOT EXISTS":
            return found is _MISSING
        if found is _MISSING:  # a comparison on a field the event lacks does not match
            return False
        if self.op == "IS":
            return {"NULL": found is None, "TRUE": found is True, "FALSE": found is False}[str(self.value)]
        if self.op in ("<", ">", "<=", ">="):
            return _compare_numbers(found, self.op, str(self.value))
        equal = self._equal(found)
        return equal if self.op == "=" else not equal

    def _equal(self, found: Any) -> bool:
        value = str(self.value)
        if self.regex:
            return re.search(value, _text(found)) is not None
        if _number(value) is not None and _number(found) is not None:
            return _number(value) == _number(found)
        return re.fullmatch(".*".join(re.escape(p) for p in value.split("*")), _text(found), re.S) is not None


@dataclass(frozen=True)
class Node:
    """``&&`` or ``||`` over terms and nodes."""

    logic: str
    parts: tuple[Node | Term, ...]

    def matches(self, event: dict[str, Any]) -> bool:
        results = (p.matches(event) for p in self.parts)
        return all(results) if self.logic == "&&" else any(results)


def parse(pattern: str) -> Node | Term:
    """The pattern's expression. Raises PatternError when it is not a JSON filter pattern."""
    tokens = _tokens(pattern)
    if len(tokens) < 2 or tokens[0] != ("group", "{") or tokens[-1] != ("group", "}"):
        raise PatternError(f"not a JSON filter pattern: {pattern!r}")
    parser = _Parser(tokens[1:-1])
    expr = parser.expression()
    if parser.pos != len(parser.tokens):
        raise PatternError(f"unexpected {parser.tokens[parser.pos][1]!r} in {pattern!r}")
    return expr


def _tokens(pattern: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos, text = 0, pattern.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise PatternError(f"cannot read {text[pos : pos + 20]!r} in {pattern!r}")
        kind = str(m.lastgroup)
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    """``||`` binds looser than ``&&``; parentheses group."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.pos = tokens, 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self, kind: str) -> str:
        got = self.peek()
        if got[0] != kind:
            raise PatternError(f"expected {kind}, found {got[1] or 'the end'!r}")
        self.pos += 1
        return got[1]

    def expression(self) -> Node | Term:
        return self._joined("||", self._conjunction)

    def _conjunction(self) -> Node | Term:
        return self._joined("&&", self._primary)

    def _joined(self, logic: str, part: Any) -> Node | Term:
        parts = [part()]
        while self.peek() == ("logic", logic):
            self.pos += 1
            parts.append(part())
        return parts[0] if len(parts) == 1 else Node(logic, tuple(parts))

    def _primary(self) -> Node | Term:
        if self.peek() == ("group", "("):
            self.pos += 1
            inner = self.expression()
            if self.take("group") != ")":
                raise PatternError("unbalanced parentheses")
            return inner
        field = self.take("field")
        kind, word = self.peek()
        if kind == "word" and word.upper() in ("IS", "NOT", "EXISTS"):
            return self._keyword(field)
        op = self.take("op")
        kind, value = self.peek()
        if kind not in ("quoted", "word", "regex"):
            raise PatternError(f"expected a value after {field} {op}")
        self.pos += 1
        if kind == "quoted":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        return Term(field, op, value[1:-1] if kind == "regex" else value, regex=kind == "regex")

    def _keyword(self, field: str) -> Term:
        word = self.take("word").upper()
        if word == "IS":
            value = self.take("word").upper()
            if value not in ("NULL", "TRUE", "FALSE"):
                raise PatternError(f"{field} IS {value}?")
            return Term(field, "IS", value)
        if word == "NOT" and self.take("word").upper() == "EXISTS":
            return Term(field, "NOT EXISTS")
        raise PatternError(f"{field} {word}?")


def _lookup(event: Any, field: str) -> Any:
    node = event
    for part in re.findall(r"\.([^.\[]+)|\[(\d+)\]", field):
        key, index = part
        if key and isinstance(node, dict) and key in node:
            node = node[key]
        elif index and isinstance(node, list) and int(index) < len(node):
            node = node[int(index)]
        else:
            return _MISSING
    return node


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _compare_numbers(found: Any, op: str, value: str) -> bool:
    a, b = _number(found), _number(value)
    if a is None or b is None:
        return False
    return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
