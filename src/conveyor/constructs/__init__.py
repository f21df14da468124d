"""CDK constructs, each with one job. Secure defaults live in `defaults.py`."""
