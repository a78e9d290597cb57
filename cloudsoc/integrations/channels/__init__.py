"""One module per channel type, each registering a ``Channel`` subclass with ``@channel``."""
