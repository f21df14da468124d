"""Rules about pipeline sources and secrets."""
