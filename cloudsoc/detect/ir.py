"""A small predicate tree that Sigma conditions are lowered into before SQL is written.

Keeping our own tree lets the engine derive, per rule, the part that only needs hot columns
(to pick candidate events in one cheap scan) and resolve low-cardinality predicates against the
values actually present in the scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    CompareOperators,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SpecialChars,
)

from cloudsoc.core.errors import CloudSOCError


class Unsupported(CloudSOCError):
    """A Sigma feature the engine cannot honour."""


@dataclass(frozen=True)
class Atom:
    """``field <op> value``. ops: eq, like, re, num (cmp in value[0]), null, exists, cidr, fieldref, keyword."""

    field: str
    op: str
    value: str | float | tuple[str, float] | tuple[str, str] = ""
    cased: bool = False


@dataclass(frozen=True)
class And:
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    arg: Node


@dataclass(frozen=True)
class Const:
    value: bool


Node = Union[Atom, And, Or, Not, Const]  # noqa: UP007 (recursive alias)

_CMP = {
    CompareOperators.LT: "<",
    CompareOperators.LTE: "<=",
    CompareOperators.GT: ">",
    CompareOperators.GTE: ">=",
}


def lower(cond: object) -> Node:
    """The IR of a parsed pySigma condition tree."""
    if isinstance(cond, ConditionAND):
        return And(tuple(lower(a) for a in cond.args))
    if isinstance(cond, ConditionOR):
        return Or(tuple(lower(a) for a in cond.args))
    if isinstance(cond, ConditionNOT):
        return Not(lower(cond.args[0]))
    if isinstance(cond, ConditionFieldEqualsValueExpression):
        return _value(cond.field, cond.value)
    if isinstance(cond, ConditionValueExpression):
        return _value(None, cond.value)
    raise Unsupported(f"condition element {type(cond).__name__}")


def _value(field: str | None, value: object) -> Node:
    if isinstance(value, SigmaExpansion):
        return Or(tuple(_value(field, v) for v in value.values))
    if field is None:
        if isinstance(value, SigmaString | SigmaNumber):
            cased = isinstance(value, SigmaCasedString)
            return Atom(
                "", "keyword", _like(value) if isinstance(value, SigmaString) else f"%{value}%", cased
            )
        raise Unsupported(f"keyword search with {type(value).__name__}")
    if isinstance(value, SigmaString):
        return _string(field, value)
    return _typed(field, value)


def _typed(field: str, value: object) -> Node:
    if isinstance(value, SigmaNull):
        return Atom(field, "null")
    if isinstance(value, SigmaExists):
        exists = Atom(field, "exists")
        return exists if value.exists else Not(exists)
    if isinstance(value, SigmaBool):
        return Atom(field, "eq", "true" if value.boolean else "false")
    if isinstance(value, SigmaTimestampPart):
        raise Unsupported(f"time-part modifiers (|hour, |day, ...) on field {field}")
    if isinstance(value, SigmaNumber):
        return Atom(field, "num", ("=", float(value.number)))
    if isinstance(value, SigmaCompareExpression):
        return Atom(field, "num", (_CMP[value.op], float(value.number.number)))
    if isinstance(value, SigmaRegularExpression):
        flags = "".join(
            f for f, flag in (("i", SigmaRegularExpressionFlag.IGNORECASE), ("s", SigmaRegularExpressionFlag.DOTALL),
                              ("m", SigmaRegularExpressionFlag.MULTILINE)) if flag in value.flags
        )  # fmt: skip
        pattern = str(value.regexp) if not flags else f"(?{flags}){value.regexp}"
        return Atom(field, "re", pattern, cased=True)
    if isinstance(value, SigmaCIDRExpression):
        return Atom(field, "cidr", str(value.network))
    if isinstance(value, SigmaFieldReference):
        mode = ("contains" if value.starts_with and value.ends_with else "startswith" if value.starts_with
                else "endswith" if value.ends_with else "eq")  # fmt: skip
        return Atom(field, "fieldref", (value.field, mode))
    raise Unsupported(f"value type {type(value).__name__} on field {field}")


def _string(field: str, value: SigmaString) -> Atom:
    if value.contains_placeholder():
        raise Unsupported(f"placeholder on field {field} needs a value list (|expand is not configured)")
    cased = isinstance(value, SigmaCasedString)
    if value.contains_special():
        return Atom(field, "like", _like(value), cased)
    text = "".join(str(p) for p in value.s)  # escapes resolved: "\\*" is a literal star here
    return Atom(field, "eq", text if cased else text.lower(), cased)


def _like(value: SigmaString) -> str:
    """A LIKE pattern (escape character ``\\``) for a Sigma string with wildcards."""
    out = []
    for part in value.s:
        if part == SpecialChars.WILDCARD_MULTI:
            out.append("%")
        elif part == SpecialChars.WILDCARD_SINGLE:
            out.append("_")
        else:
            text = str(part).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            out.append(text if isinstance(value, SigmaCasedString) else text.lower())
    return "".join(out)


def fields(node: Node) -> set[str]:
    if isinstance(node, Atom):
        extra = {str(node.value[0])} if node.op == "fieldref" and isinstance(node.value, tuple) else set()
        return {node.field, *extra}
    if isinstance(node, Not):
        return fields(node.arg)
    if isinstance(node, And | Or):
        return set().union(*(fields(a) for a in node.args))
    return set()
