"""What the RDS instance checks share: the instances of the region, judged one by one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result


def instances(ctx: CheckContext) -> list[dict[str, Any]]:
    return list((ctx.get("rds", "DescribeDBInstances") or {}).get("DBInstances", []))


def arn(instance: dict[str, Any]) -> str:
    return str(instance["DBInstanceArn"])


def each_instance(ctx: CheckContext, judge: Callable[[dict[str, Any]], Result]) -> Iterator[Result]:
    yield from ctx.each(instances(ctx), arn, judge)


def instance_id(result: Result) -> str:
    """The DB instance an ARN (``arn:aws:rds:<region>:<account>:db:<id>``) names."""
    return result.resource.rsplit(":", 1)[-1]
