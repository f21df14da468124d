"""Rules about IAM roles and policies."""
