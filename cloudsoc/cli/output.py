"""Printing results as a Rich table or as stable JSON."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

console = Console(stderr=True)


class Output(StrEnum):
    table = "table"
    json = "json"


HomeOpt = Annotated[Path | None, typer.Option("--home", envvar="CLOUDSOC_HOME", help="data directory")]
OutOpt = Annotated[Output, typer.Option("--output", "-o", help="table or json")]


def _default(obj: Any) -> Any:
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    raise TypeError


def emit_json(data: Any) -> None:
    sys.stdout.write(
        orjson.dumps(data, default=_default, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
    )
    sys.stdout.write("\n")


def emit_json_line(data: Any) -> None:
    """One compact object per line: the streaming form (``detect --follow``)."""
    sys.stdout.write(orjson.dumps(data, default=_default).decode() + "\n")
    sys.stdout.flush()


def emit_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, show_lines=False)
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*("" if v is None else str(v) for v in r))
    Console().print(table)


def emit(
    output: Output, data: Any, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """``data`` as JSON, or ``rows`` as a table: the two faces of one command's answer."""
    if output is Output.json:
        emit_json(data)
    else:
        emit_table(title, columns, rows)
