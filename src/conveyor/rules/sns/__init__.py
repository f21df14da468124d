"""Rules about sns."""
