"""One module per AWS service; each registers its collector."""
