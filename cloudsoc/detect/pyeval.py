"""The same rules evaluated one event at a time in plain Python, as per-event rule engines do.

Only the benchmark uses it, as the baseline the columnar engine is measured against.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from cloudsoc.detect.ir import And, Atom, Const, Node, Not, Or
from cloudsoc.detect.sql import python_test
from cloudsoc.detect.udf import values_at


def _atom(a: Atom, event: dict[str, Any]) -> bool:
    if a.op == "keyword":
        return False
    vals = values_at(event, a.field)
    if a.op == "null":
        return not vals
    if a.op == "exists":
        return bool(vals)
    if a.op == "fieldref":
        assert isinstance(a.value, tuple)
        others = [o.lower() for o in values_at(event, str(a.value[0]))]
        return any(_fieldref(str(a.value[1]), v.lower(), o) for v in vals for o in others)
    return any(_scalar(a, v) for v in vals)


def _scalar(a: Atom, v: str) -> bool:
    test = python_test(a)
    if test is not None:  # eq and like: the same code that resolves low-cardinality columns
        return test(v)
    if a.op == "re":
        return re.search(str(a.value), v) is not None
    if a.op == "num":
        assert isinstance(a.value, tuple)
        cmp, num = str(a.value[0]), float(a.value[1])
        try:
            x = float(v)
        except ValueError:
            return False
        return {"<": x < num, "<=": x <= num, ">": x > num, ">=": x >= num, "=": x == num}[cmp]
    if a.op == "cidr":
        try:
            return ipaddress.ip_address(v) in ipaddress.ip_network(str(a.value), strict=False)
        except ValueError:
            return False
    return False


def _fieldref(mode: str, value: str, other: str) -> bool:
    if mode == "startswith":
        return value.startswith(other)
    if mode == "endswith":
        return value.endswith(other)
    return other in value if mode == "contains" else value == other


def evaluate(node: Node, event: dict[str, Any]) -> bool:
    if isinstance(node, Atom):
        return _atom(node, event)
    if isinstance(node, Not):
        return not evaluate(node.arg, event)
    if isinstance(node, And):
        return all(evaluate(a, event) for a in node.args)
    if isinstance(node, Or):
        return any(evaluate(a, event) for a in node.args)
    assert isinstance(node, Const)
    return node.value
