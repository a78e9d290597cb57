"""cloudsoc: security operations for multi-account AWS organizations."""

__version__ = "0.1.0"
