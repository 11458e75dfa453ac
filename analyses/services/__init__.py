"""Writes and workflows of the analyses domain, one module per workflow.

``submission`` (admission: validation, budget, idempotency, cache), ``execution`` (a worker runs
one analysis), ``lifecycle`` (cancel, retry, delete, the reaper), ``budget`` (reservations).
"""
