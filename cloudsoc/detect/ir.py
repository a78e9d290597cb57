"""A small predicate tree that Sigma conditions are lowered into before SQL is written.

Keeping our own tree lets the engine derive, per rule, the part that only needs hot columns
(to pick candidate events in one cheap scan) and resolve low-cardinality predicates against the
values actually present in the scope.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    Placeholder,
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


Placeholders = Mapping[str, Sequence[str]]


def lower(cond: object, placeholders: Placeholders | None = None) -> Node:
    """The IR of a parsed pySigma condition tree; ``%name%`` placeholders expand to configured lists."""
    ph = placeholders or {}
    if isinstance(cond, ConditionAND):
        return And(tuple(lower(a, ph) for a in cond.args))
    if isinstance(cond, ConditionOR):
        return Or(tuple(lower(a, ph) for a in cond.args))
    if isinstance(cond, ConditionNOT):
        return Not(lower(cond.args[0], ph))
    if isinstance(cond, ConditionFieldEqualsValueExpression):
        return _value(cond.field, cond.value, ph)
    if isinstance(cond, ConditionValueExpression):
        return _value(None, cond.value, ph)
    raise Unsupported(f"condition element {type(cond).__name__}")


def _value(field: str | None, value: object, ph: Placeholders) -> Node:
    if isinstance(value, SigmaExpansion):
        return Or(tuple(_value(field, v, ph) for v in value.values))
    if field is None:
        if isinstance(value, SigmaString):
            cased = isinstance(value, SigmaCasedString)
            return Atom("", "keyword", _like(tuple(value.s), cased), cased)
        if isinstance(value, SigmaNumber):
            return Atom("", "keyword", f"%{value}%")
        raise Unsupported(f"keyword search with {type(value).__name__}")
    if isinstance(value, SigmaString):
        return _string(field, value, ph)
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


def _string(field: str, value: SigmaString, ph: Placeholders) -> Node:
    cased = isinstance(value, SigmaCasedString)
    atoms = [_atom(field, parts, cased) for parts in _expand(tuple(value.s), ph, field)]
    if len(atoms) == 1:
        return atoms[0]
    return Or(tuple(atoms)) if atoms else Const(False)  # an empty list matches nothing


def _expand(parts: tuple[object, ...], ph: Placeholders, field: str) -> list[tuple[object, ...]]:
    """Every variant of a value with its placeholders replaced by the configured values."""
    out: list[tuple[object, ...]] = [()]
    for part in parts:
        if isinstance(part, Placeholder):
            if part.name not in ph:
                raise Unsupported(
                    f"placeholder %{part.name}% on field {field} has no values (detect.placeholders)"
                )
            out = [(*o, v) for o in out for v in ph[part.name]]
        else:
            out = [(*o, part) for o in out]
    return out


def _atom(field: str, parts: tuple[object, ...], cased: bool) -> Atom:
    if any(isinstance(p, SpecialChars) for p in parts):
        return Atom(field, "like", _like(parts, cased), cased)
    text = "".join(str(p) for p in parts)  # escapes resolved: "\\*" is a literal star here
    return Atom(field, "eq", text if cased else text.lower(), cased)


def _like(parts: tuple[object, ...], cased: bool) -> str:
    """A LIKE pattern (escape character ``\\``) for a Sigma string with wildcards."""
    out = []
    for part in parts:
        if part == SpecialChars.WILDCARD_MULTI:
            out.append("%")
        elif part == SpecialChars.WILDCARD_SINGLE:
            out.append("_")
        else:
            text = str(part).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            out.append(text if cased else text.lower())
    return "".join(out)
