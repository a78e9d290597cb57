"""``cloudsoc evidence``: The evidence locker: content-addressed, hash-chained, signed."""

from __future__ import annotations

import typer

evidence_app = typer.Typer(
    help="The evidence locker: content-addressed, hash-chained, signed.", no_args_is_help=True
)
