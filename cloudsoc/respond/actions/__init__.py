"""One module per response action; each registers itself with ``@action``."""
