"""IR -> DuckDB SQL. Sigma semantics: strings case-insensitive unless ``|cased``, a missing field
never matches a value, and ``not`` of a non-match is a match (two-valued logic)."""

from __future__ import annotations

import ipaddress
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
        return _cidr(x, str(v))
    raise ValueError(f"no scalar form for {atom.op}")


def _cidr(x: str, cidr: str) -> str:
    """IPv4 networks as an integer range test in SQL (no Python per row); IPv6 networks through
    the ``cs_cidr`` function, called only for values that can be IPv6 addresses."""
    net = ipaddress.ip_network(cidr, strict=False)
    if net.version == 4:
        return f"(cs_ipv4({x}) BETWEEN {int(net.network_address)} AND {int(net.broadcast_address)})"
    return f"(CASE WHEN contains({x}, ':') THEN cs_cidr({x}, {lit(str(net))}) ELSE FALSE END)"


def extracted(name: str) -> str:
    """The column that holds a raw field's values when a rule's fields are extracted up front."""
    return '"' + ("raw:" + name).replace('"', '""') + '"'


class Renderer:
    """Writes a rule's SQL. A field without a hot column is read from ``raw`` in place, or, with
    ``extract``, from the column ``extracted(name)`` that the query computed once per row."""

    def __init__(self, source: str, resolve: Resolver | None = None, extract: bool = False) -> None:
        self.source = source
        self.resolve = resolve
        self.extract = extract

    def field(self, name: str) -> tuple[str, Column | None]:
        col = hot_column(self.source, name)
        if col:
            return col.name, col
        return (extracted(name) if self.extract else raw_values(name)), None

    def render(self, node: Node) -> str:
        if isinstance(node, Const):
            return "TRUE" if node.value else "FALSE"
        if isinstance(node, Not):
            # Atoms are NULL where a field is missing; under NOT that must count as "no match".
            return f"(NOT coalesce({self.render(node.arg)}, FALSE))"
        if isinstance(node, Or):
            return "(" + " OR ".join(self._merged(node.args)) + ")"
        if isinstance(node, And):
            return "(" + " AND ".join(self.render(a) for a in node.args) + ")"
        return self.atom(node)

    def _merged(self, args: tuple[Node, ...]) -> list[str]:
        """Alternatives, with the tests of one low-cardinality column merged into one IN list
        (a Sigma value list becomes one hash lookup instead of a comparison per value)."""
        values: dict[str, set[str]] = {}
        out: list[str] = []
        for a in args:
            col = self._resolvable(a)
            if col is None:
                out.append(self.render(a))
            else:
                assert isinstance(a, Atom) and self.resolve is not None
                values.setdefault(col.name, set()).update(self.resolve(col.name, a))
        for name, found in values.items():
            out.append(f"{name} IN ({', '.join(lit(v) for v in sorted(found))})" if found else "FALSE")
        return out

    def _resolvable(self, node: Node) -> Column | None:
        if (
            not isinstance(node, Atom)
            or self.resolve is None
            or node.op in ("null", "exists", "fieldref", "keyword")
        ):
            return None
        col = hot_column(self.source, node.field)
        return col if col and col.low_cardinality else None

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
        if self._resolvable(atom):
            assert self.resolve is not None
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


def json_path(name: str) -> str | None:
    """A dotted field name as a DuckDB JSON path through objects (None if a key needs escaping)."""
    keys = name.split(".")
    return None if any('"' in k or "\\" in k for k in keys) else "$." + ".".join(f'"{k}"' for k in keys)


def raw_values(name: str, found: str | None = None) -> str:
    """Every value at a dotted path of ``raw``, as text (``cs_values`` semantics).

    DuckDB's JSON reader answers the common case, a path through objects to a scalar or an
    object, natively; ``found`` is that answer when the query already extracted it. Only a path
    through a list (or to a key with a dot in it, or a float) takes the Python function, and an
    absent field whose key does not occur in the record at all takes nothing."""
    slow = f"cs_values(raw, {lit(name)})"
    path = json_path(name)
    if path is None:
        return slow
    j = found or f"json_extract(raw, {lit(path)})"
    key = lit(name.rsplit(".", 1)[-1] + '"')
    return (
        f"(CASE WHEN {j} IS NULL THEN (CASE WHEN contains(raw, {key}) THEN {slow} ELSE []::VARCHAR[] END) "
        f"WHEN json_type({j}) = 'VARCHAR' THEN [{j} ->> '$'] "
        f"WHEN json_type({j}) IN ('BOOLEAN', 'BIGINT', 'UBIGINT', 'OBJECT') THEN [{j}::VARCHAR] "
        f"WHEN json_type({j}) = 'NULL' THEN []::VARCHAR[] ELSE {slow} END)"
    )


def raw_fields(source: str, node: Node) -> set[str]:
    """The fields of ``node`` read from the raw record (keyword atoms read ``raw`` itself)."""
    if isinstance(node, Atom):
        names = (
            [node.field, str(node.value[0])]
            if node.op == "fieldref" and isinstance(node.value, tuple)
            else [node.field]
        )
        return {n for n in names if node.op != "keyword" and hot_column(source, n) is None}
    if isinstance(node, Not):
        return raw_fields(source, node.arg)
    if isinstance(node, And | Or):
        return set().union(*(raw_fields(source, a) for a in node.args))
    return set()


def has_keyword(node: Node) -> bool:
    """Whether ``node`` searches the whole raw record (Sigma keywords)."""
    if isinstance(node, Atom):
        return node.op == "keyword"
    if isinstance(node, Not):
        return has_keyword(node.arg)
    if isinstance(node, And | Or):
        return any(has_keyword(a) for a in node.args)
    return False


def needs_raw(source: str, node: Node) -> bool:
    return has_keyword(node) or bool(raw_fields(source, node))


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
