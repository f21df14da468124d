"""Rules about governance."""
