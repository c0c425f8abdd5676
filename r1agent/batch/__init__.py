"""Batch mode: the agent over many issues (SWE-bench's instance format), locally or on Ray."""
