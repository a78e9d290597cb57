"""``cloudsoc actions``: Response actions: plan (dry run), apply, revert."""

from __future__ import annotations

import typer

actions_app = typer.Typer(help="Response actions: plan (dry run), apply, revert.", no_args_is_help=True)
