"""Rules about s3."""
