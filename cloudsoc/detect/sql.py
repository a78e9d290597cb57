"""IR -> DuckDB SQL. Sigma semantics: strings case-insensitive unless ``|cased``, a missing field
never matches a value, and ``not`` of a non-match is a match (two-valued logic)."""

from __future__ import annotations

import re
from collections.abc import Callable

from cloudsoc.detect.fields import Column, hot_column
from cloudsoc.detect.ir import And, Atom, Const, Node, Not, Or

# (column, atom) -> the column's present values that satisfy the atom
Resolver = Callable[[str, Atom], list[str]]


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def scalar(atom: Atom, x: str) -> str:
    """The predicate of one atom on one text value ``x``."""
    v = atom.value
    if atom.op == "eq":
        return f"{x} = {lit(str(v))}" if atom.cased else f"lower({x}) = {lit(str(v))}"
    if atom.op == "like":
        op = "LIKE" if atom.cased else "ILIKE"
        return f"{x} {op} {lit(str(v))} ESCAPE '\\'"
    if atom.op == "re":
        return f"regexp_matches({x}, {lit(str(v))})"
    if atom.op == "num":
        assert isinstance(v, tuple)
        cmp, num = v
        return f"TRY_CAST({x} AS DOUBLE) {cmp} {num!r}"
    if atom.op == "cidr":
        return f"cs_cidr({x}, {lit(str(v))})"
    raise ValueError(f"no scalar form for {atom.op}")


class Renderer:
    def __init__(self, source: str, resolve: Resolver | None = None) -> None:
        self.source = source
        self.resolve = resolve

    def field(self, name: str) -> tuple[str, Column | None]:
        col = hot_column(self.source, name)
        return (col.name, col) if col else (f"cs_values(raw, {lit(name)})", None)

    def render(self, node: Node) -> str:
        if isinstance(node, Const):
            return "TRUE" if node.value else "FALSE"
        if isinstance(node, Not):
            # Atoms are NULL where a field is missing; under NOT that must count as "no match".
            return f"(NOT coalesce({self.render(node.arg)}, FALSE))"
        if isinstance(node, And | Or):
            joiner = " AND " if isinstance(node, And) else " OR "
            return "(" + joiner.join(self.render(a) for a in node.args) + ")"
        return self.atom(node)

    def atom(self, atom: Atom) -> str:
        if atom.op == "keyword":
            op = "LIKE" if atom.cased else "ILIKE"
            return f"coalesce(raw {op} {lit('%' + str(atom.value) + '%')} ESCAPE '\\', FALSE)"
        expr, col = self.field(atom.field)
        if atom.op in ("null", "exists"):
            present = f"{expr} IS NOT NULL" if col else f"len({expr}) > 0"
            return present if atom.op == "exists" else f"(NOT {present})"
        if atom.op == "fieldref":
            return self._fieldref(atom)
        if col is None:
            return f"len(list_filter({expr}, lambda x: {scalar(atom, 'x')})) > 0"
        if col.low_cardinality and self.resolve is not None:
            values = self.resolve(col.name, atom)
            return f"{col.name} IN ({', '.join(lit(v) for v in values)})" if values else "FALSE"
        return scalar(atom, expr)

    def _fieldref(self, atom: Atom) -> str:
        assert isinstance(atom.value, tuple)
        other, mode = str(atom.value[0]), str(atom.value[1])
        sides: list[str] = []
        for name in (atom.field, other):
            expr, col = self.field(name)
            as_list = f"list_filter([{expr}], lambda y: y IS NOT NULL)" if col else expr
            sides.append(f"list_transform({as_list}, lambda x: lower(x))")
        if mode == "eq":
            return f"len(list_intersect({sides[0]}, {sides[1]})) > 0"
        test = {
            "startswith": "starts_with(a, b)",
            "endswith": "ends_with(a, b)",
            "contains": "contains(a, b)",
        }[mode]
        pairs = f"list_filter({sides[1]}, lambda b: len(list_filter({sides[0]}, lambda a: {test})) > 0)"
        return f"len({pairs}) > 0"


def needs_raw(source: str, node: Node) -> bool:
    if isinstance(node, Atom):
        if node.op == "keyword":
            return True
        names = (
            [node.field, str(node.value[0])]
            if isinstance(node.value, tuple) and node.op == "fieldref"
            else [node.field]
        )
        return any(hot_column(source, n) is None for n in names)
    if isinstance(node, Not):
        return needs_raw(source, node.arg)
    if isinstance(node, And | Or):
        return any(needs_raw(source, a) for a in node.args)
    return False


def hot_part(source: str, node: Node, negate: bool = False) -> Node:
    """A necessary condition of ``node`` that reads hot columns only (raw atoms become TRUE)."""
    if isinstance(node, Not):
        return hot_part(source, node.arg, not negate)
    if isinstance(node, And | Or):
        parts = tuple(hot_part(source, a, negate) for a in node.args)
        conj = isinstance(node, And) != negate  # De Morgan under negation
        return _simplify(And(parts) if conj else Or(parts))
    if isinstance(node, Const):
        return Const(node.value != negate)
    if needs_raw(source, node):
        return Const(True)
    return Not(node) if negate else node


def _simplify(node: And | Or) -> Node:
    absorbing = isinstance(node, Or)  # TRUE absorbs OR, FALSE absorbs AND
    kept = []
    for a in node.args:
        if isinstance(a, Const):
            if a.value == absorbing:
                return Const(absorbing)
            continue
        kept.append(a)
    if not kept:
        return Const(not absorbing)
    if len(kept) == 1:
        return kept[0]
    return And(tuple(kept)) if isinstance(node, And) else Or(tuple(kept))


def python_test(atom: Atom) -> Callable[[str], bool] | None:
    """The same test as the SQL of an ``eq`` or ``like`` atom, for resolving distinct values."""
    value = str(atom.value)
    fold: Callable[[str], str] = (lambda v: v) if atom.cased else str.lower
    if atom.op == "eq":
        return lambda v: fold(v) == value
    if atom.op == "like":
        regex = re.compile(_like_regex(value), re.DOTALL)
        return lambda v: regex.fullmatch(fold(v)) is not None
    return None


def _like_regex(pattern: str) -> str:
    """A LIKE pattern (escape ``\\``) as a regular expression."""
    out = []
    chars = iter(pattern)
    for c in chars:
        if c == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif c == "%":
            out.append(".*")
        elif c == "_":
            out.append(".")
        else:
            out.append(re.escape(c))
    return "".join(out)
