"""`conveyor cost`: a monthly estimate from the plan, usage assumptions and dated list prices."""
