"""Posture: inventory, checks, frameworks, remediation, reports."""
