"""Output formats: text, json, sarif."""
