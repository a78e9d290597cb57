"""One module per check; the file name is the check id."""
