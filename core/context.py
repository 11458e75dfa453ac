"""Who is acting, and on behalf of which request: bound once, read by audit recording and logs.

The request middleware binds it for HTTP requests; ``enqueue`` carries it into background tasks,
and management commands bind ``source="command"``. It lives on the ground floor (audits) so that
every app can read it without importing ``config``.
"""

import contextvars
import functools
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from typing import Any

import structlog


@dataclass(frozen=True, slots=True)
class RequestContext:
    request_id: str = ""
    source: str = "system"  # api | admin | task | command | external | system
    actor_user_id: str | None = None
    actor_api_key_id: str | None = None
    actor_label: str = "system"
    ip: str | None = None
    user_agent: str = ""


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "parecer_request_context",
    default=RequestContext(),  # noqa: B039 - a frozen dataclass, never mutated
)


# Values read once per request, task or command (``memoised``); bound with the context.
_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "parecer_request_memo", default=None
)


def current() -> RequestContext:
    """The context of whatever is running now (a request, a task, a command)."""
    return _current.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def bound(context: RequestContext) -> Iterator[RequestContext]:
    """Make ``context`` current for the block, and bind its ids into every log line."""
    token, memo_token = _current.set(context), _memo.set({})
    structlog.contextvars.bind_contextvars(
        request_id=context.request_id, source=context.source, user_id=context.actor_user_id
    )
    try:
        yield context
    finally:
        _current.reset(token)
        _memo.reset(memo_token)
        structlog.contextvars.unbind_contextvars("request_id", "source", "user_id")


def memoised(name: str, load: Callable[[], Any]) -> Any:
    """``load()`` once per bound request, task or command, then the same value for the rest of
    it (outside any bound context: every time). For shared state that a request reads several
    times, such as the configuration: one cache round trip instead of one per read."""
    memo = _memo.get()
    if memo is None:
        return load()
    if name not in memo:
        memo[name] = load()
    return memo[name]


def memo_forget(name: str) -> None:
    """Drop a memoised value, e.g. after this request changed what it holds."""
    memo = _memo.get()
    if memo is not None:
        memo.pop(name, None)


def set_actor(*, user_id: str | None, api_key_id: str | None = None, label: str) -> None:
    """Record who was authenticated for the rest of the current request."""
    _current.set(
        replace(current(), actor_user_id=user_id, actor_api_key_id=api_key_id, actor_label=label)
    )
    structlog.contextvars.bind_contextvars(user_id=user_id)


def enqueue(task: Any, /, *args: Any, **kwargs: Any) -> Any:
    """Enqueue a ``django.tasks`` task carrying the current actor and request id."""
    return task.enqueue(*args, request_context=asdict(current()), **kwargs)


def runs_in_request_context(func: Callable) -> Callable:
    """Decorate a task function so it runs bound to the context of whoever enqueued it."""

    @functools.wraps(func)
    def wrapper(*args: Any, request_context: dict | None = None, **kwargs: Any) -> Any:
        context = RequestContext(**(request_context or {}))
        context = replace(context, source="task", request_id=context.request_id or new_request_id())
        with bound(context):
            return func(*args, **kwargs)

    return wrapper


def for_command(name: str) -> RequestContext:
    """The context a management command runs in: its own request id, source ``command``."""
    import getpass

    try:
        who = getpass.getuser()
    except Exception:  # no login name in some containers
        who = "unknown"
    return RequestContext(
        request_id=new_request_id(), source="command", actor_label=f"command:{name} ({who})"
    )
