"""Rules about logs."""
