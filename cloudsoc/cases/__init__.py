"""Alerts, incidents and their workflow, kept in the state database."""
