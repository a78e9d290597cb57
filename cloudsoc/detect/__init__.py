"""Detection: Sigma and Python rules compiled to columnar queries over the lake."""
