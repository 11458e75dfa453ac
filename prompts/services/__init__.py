"""Writes of the prompts domain, one module per workflow: prompts, versions, labels, transfer."""
