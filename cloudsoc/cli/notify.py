"""``cloudsoc notify``: Notifications and tickets: channels, routing, the delivery outbox."""

from __future__ import annotations

import typer

notify_app = typer.Typer(
    help="Notifications and tickets: channels, routing, the delivery outbox.", no_args_is_help=True
)
