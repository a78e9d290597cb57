"""The command line: thin, it calls the layers and prints their results."""
