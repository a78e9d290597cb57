"""``cloudsoc playbooks``: Playbooks: durable response workflows in the Amazon States Language vocabulary."""

from __future__ import annotations

import typer

playbooks_app = typer.Typer(
    help="Playbooks: durable response workflows in the Amazon States Language vocabulary.",
    no_args_is_help=True,
)
