"""Django's PostgreSQL backend with a circuit breaker around pool checkouts.

``ENGINE = "config.postgres"`` (set by ``config.settings.base`` for any PostgreSQL URL). Only
checkouts count as failures: a query that fails on a connection already obtained (a restart
mid-request) is the request's own 503, not evidence that the database is down.
"""

import threading
import time
import weakref

from django.db import DEFAULT_DB_ALIAS
from django.db.backends.postgresql import base as postgresql
from django.utils.module_loading import import_string

from config.postgres.breaker import breaker_for

# A pooled connection idle longer than this is checked (one empty round trip) before it is lent:
# after a database restart, stale connections are discarded instead of failing a request each,
# while a busy server (connections lent every few ms) pays nothing. docs/performance.md measured
# an unconditional check doubling the round trips of small requests.
STALE_AFTER_SECONDS = 2.0
_last_lent: "weakref.WeakKeyDictionary[object, float]" = weakref.WeakKeyDictionary()


def check_if_idle(conn) -> None:
    """psycopg_pool ``check`` callback: raise for a dead connection that sat idle a while."""
    from psycopg_pool import ConnectionPool

    now = time.monotonic()
    if now - _last_lent.get(conn, 0.0) > STALE_AFTER_SECONDS:
        ConnectionPool.check_connection(conn)
    _last_lent[conn] = now


class DatabaseWrapper(postgresql.DatabaseWrapper):
    def __init__(self, settings_dict, alias=DEFAULT_DB_ALIAS):
        pool = settings_dict.get("OPTIONS", {}).get("pool")
        if isinstance(pool, dict) and isinstance(pool.get("check"), str):
            # Settings name the callback by its path (settings cannot import the backend).
            settings_dict["OPTIONS"]["pool"] = {**pool, "check": import_string(pool["check"])}
        super().__init__(settings_dict, alias)

    def get_new_connection(self, conn_params):
        if self.pool is None:
            return super().get_new_connection(conn_params)
        breaker = breaker_for(self.alias)
        if breaker.admit():
            self._probe(conn_params, breaker)
        try:
            connection = super().get_new_connection(conn_params)
        except self.Database.OperationalError:
            breaker.record_failure()
            raise
        if not breaker.is_closed:
            breaker.record_success()
        return connection

    def _probe(self, conn_params, breaker) -> None:
        """One direct connection, outside the pool: the pool's own attempts back off for seconds."""
        try:
            self.Database.connect(**conn_params).close()
        except self.Database.OperationalError:
            breaker.record_failure()
            raise
        # The database is back but the pool may be waiting out a reconnect backoff, holding dead
        # connections: start a fresh pool (it connects at once) and close the old one aside.
        stale = self._connection_pools.pop(self.alias, None)
        if stale is not None:
            threading.Thread(target=stale.close, name="stale-pool-close", daemon=True).start()
        breaker.record_success()
