"""Sessions in the cache (Redis) that never turn an outage into a silent logout.

Django's cache session store reads a failing cache as "no session": every admin page then
redirects to the login form, and a login writes a session nobody can read. Here a cache outage
propagates instead, so the admin answers an HTML 503 (config.errors.handler500) and the session
is still there when Redis is back (unless Redis lost its data).
"""

from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore

from config.errors import CACHE_ERRORS


class SessionStore(CacheSessionStore):
    def load(self) -> dict:
        try:
            session_data = self._cache.get(self.cache_key)
        except CACHE_ERRORS:
            raise
        except Exception:  # an invalid key (Django's own reason for swallowing): a new session
            session_data = None
        if session_data is not None:
            return session_data
        self._session_key = None
        return {}
