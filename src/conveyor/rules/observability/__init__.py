"""Rules about observability."""
