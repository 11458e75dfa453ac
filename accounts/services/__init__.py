"""Writes and workflows of the accounts domain, one module per workflow."""
