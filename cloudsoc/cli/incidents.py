"""``cloudsoc incidents``: Incidents: alerts grouped, worked through a status workflow, measured against SLAs."""

from __future__ import annotations

import typer

incidents_app = typer.Typer(
    help="Incidents: alerts grouped, worked through a status workflow, measured against SLAs.",
    no_args_is_help=True,
)
