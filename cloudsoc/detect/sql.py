"""IR -> DuckDB SQL. Sigma semantics: strings case-insensitive unless ``|cased``, a missing field
never matches a value, and ``not`` of a non-match is a match (two-valued logic)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Collection
from typing import Protocol

from cloudsoc.detect.fields import Column, hot_column
from cloudsoc.detect.ir import And, Atom, Const, Node, Not, Or


class Distinct(Protocol):
    """The values a scope holds in its low-cardinality columns."""

    def present(self, column: str) -> list[str]:
        """The column's distinct values, sorted."""
        ...

    def resolve(self, column: str, atom: Atom) -> list[str]:
        """The column's distinct values that satisfy ``atom``."""
        ...


# more runs than this are tested as one IN list (a hash lookup) rather than as ranges
MAX_RUNS = 8


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
        # the literals every match contains are found far faster than the expression is run
        needed = [f"contains({x}, {lit(t)}) AND " for t in required_literals(str(v))]
        return f"({''.join(needed)}regexp_matches({x}, {lit(str(v))}))"
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


def one_of(column: str, wanted: Collection[str], present: list[str], max_runs: int | None = MAX_RUNS) -> str:
    """``column`` holds one of ``wanted``, written as a range per run of wanted values among the
    sorted ``present`` ones. DuckDB evaluates ranges inside the Parquet scan, which then decodes
    the other columns (the raw record above all) only for the rows that pass; an IN list on text
    only prunes row groups, and is tested after the scan has decoded every column of them."""
    runs: list[list[str]] = []
    inside = False
    for value in present:
        if value in wanted:
            if inside:
                runs[-1][1] = value
            else:
                runs.append([value, value])
        inside = value in wanted
    if not runs:
        return "FALSE"
    if max_runs is not None and len(runs) > max_runs:
        return f"{column} IN ({', '.join(lit(a) for a in sorted(set(wanted) & set(present)))})"
    ranges = [
        f"{column} = {lit(a)}" if a == b else f"{column} BETWEEN {lit(a)} AND {lit(b)}" for a, b in runs
    ]
    return ranges[0] if len(ranges) == 1 else "(" + " OR ".join(f"({r})" for r in ranges) + ")"


def earliest(columns: list[str], time: str, tiebreak: str) -> str:
    """An aggregate: the values of ``columns`` on the group's earliest row, ties broken by
    ``tiebreak`` (so reruns agree), as a struct (one comparison per row for all of them)."""
    fields = ", ".join(f"{lit(c)}: {c}" for c in columns)
    return f"arg_min({{{fields}}}, ({time}, {tiebreak}))"


def extracted(name: str) -> str:
    """The column that holds a raw field's values when a rule's fields are extracted up front."""
    return '"' + ("raw:" + name).replace('"', '""') + '"'


class Renderer:
    """Writes a rule's SQL. A field without a hot column is read from ``raw`` in place, or, with
    ``extract``, from the column ``extracted(name)`` that the query computed once per row."""

    def __init__(self, source: str, distinct: Distinct | None = None, extract: bool = False) -> None:
        self.source = source
        self.distinct = distinct
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
                assert isinstance(a, Atom) and self.distinct is not None
                values.setdefault(col.name, set()).update(self.distinct.resolve(col.name, a))
        for name, found in values.items():
            out.append(self._one_of(name, found))
        return out

    def _one_of(self, column: str, values: Collection[str]) -> str:
        assert self.distinct is not None
        return one_of(column, values, self.distinct.present(column))

    def _resolvable(self, node: Node) -> Column | None:
        if (
            not isinstance(node, Atom)
            or self.distinct is None
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
            assert self.distinct is not None
            return self._one_of(col.name, self.distinct.resolve(col.name, atom))
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


def field_names(node: Node) -> set[str]:
    """Every field ``node`` reads (a field reference reads two; keywords read ``raw`` itself)."""
    if isinstance(node, Atom):
        if node.op == "keyword":
            return set()
        if node.op == "fieldref" and isinstance(node.value, tuple):
            return {node.field, str(node.value[0])}
        return {node.field}
    if isinstance(node, Not):
        return field_names(node.arg)
    if isinstance(node, And | Or):
        return set().union(*(field_names(a) for a in node.args))
    return set()


def raw_fields(source: str, node: Node) -> set[str]:
    """The fields of ``node`` read from the raw record."""
    return {n for n in field_names(node) if hot_column(source, n) is None}


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


def required_literals(pattern: str) -> list[str]:
    """Texts (three characters or more) that every match of a regular expression contains,
    read from its top level only (nothing for a pattern this reading cannot be sure of)."""
    if "|" in pattern or "(?" in pattern or re.search(r"\\[xupPNkQ0-9]", pattern):
        return []  # alternatives, flags, and escapes that continue into the next characters
    out: list[str] = []
    run: list[str] = []
    for char, quantifier in _atoms(pattern):
        if char is not None and quantifier in ("", "+"):
            run.append(char)
        if char is None or quantifier:  # the run ends here (an optional character is not in it)
            if len(run) >= 3:
                out.append("".join(run))
            run = []
    if len(run) >= 3:
        out.append("".join(run))
    return out


def _atoms(pattern: str) -> list[tuple[str | None, str]]:
    """The top-level atoms of a pattern: the literal character (None for a class, a group, an
    escape class or an anchor) and its quantifier."""
    atoms: list[tuple[str | None, str]] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        char: str | None = None
        if c == "\\" and i + 1 < len(pattern):
            char = None if pattern[i + 1].isalnum() else pattern[i + 1]  # \d, \b, \x41 ... are not literal
            i += 2
        elif c in "[(":
            i = _close(pattern, i)
        elif c in ".^$":
            i += 1
        else:
            char = c
            i += 1
        start = i
        if i < len(pattern) and pattern[i] == "{" and "}" in pattern[i:]:
            i = pattern.index("}", i) + 1
        elif i < len(pattern) and pattern[i] in "?*+":
            i += 1
        if i > start and i < len(pattern) and pattern[i] in "?+":  # lazy or possessive
            i += 1
        atoms.append((char, pattern[start:i]))
    return atoms


def _close(pattern: str, i: int) -> int:
    """The index after the class or group opening at ``i``."""
    j, depth = i, 0
    if pattern[i] == "[":
        j = i + 1
        if j < len(pattern) and pattern[j] == "^":
            j += 1
        j += 1  # a first "]" is a member of the class
        while j < len(pattern) and pattern[j] != "]":
            j += 2 if pattern[j] == "\\" else 1
        return j + 1
    while j < len(pattern):
        if pattern[j] == "\\":
            j += 2
            continue
        depth += {"(": 1, ")": -1}.get(pattern[j], 0)
        j += 1
        if depth == 0:
            break
    return j
