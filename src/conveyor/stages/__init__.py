"""One module per kind of pipeline stage."""
