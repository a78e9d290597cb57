"""Per-source data models: hot columns beside the untouched raw record."""
