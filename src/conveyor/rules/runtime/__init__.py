"""Runtime contracts: mistakes that pass every static judge and fail when AWS runs the pipeline
(FM100-FM109)."""
