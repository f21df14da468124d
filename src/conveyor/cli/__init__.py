"""The `conveyor` command line: one thin module per command over spec/, pipeline and rules/."""
