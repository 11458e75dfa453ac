"""The one ``OpenAI`` client per configuration: SDK retries off, a connect timeout, and a real
deadline for the whole call."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2
import openai
from django.conf import settings

API_STYLES = ("chat", "responses")
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"


@dataclass(frozen=True)
class LLMSettings:
    """The settings that shape a client; a change (override_settings) means a new client."""

    api_key: str
    base_url: str
    organization: str
    project: str
    timeout: float
    connect_timeout: float
    api_style: str

    @classmethod
    def current(cls) -> LLMSettings:
        return cls(
            api_key=settings.OPENAI_API_KEY,
            base_url=settings.OPENAI_BASE_URL,
            organization=settings.OPENAI_ORGANIZATION,
            project=settings.OPENAI_PROJECT,
            timeout=settings.OPENAI_TIMEOUT,
            connect_timeout=settings.OPENAI_CONNECT_TIMEOUT,
            api_style=settings.OPENAI_API_STYLE,
        )

    @property
    def configured(self) -> bool:
        return bool(self.api_key)

    def __repr__(self) -> str:  # the key must never reach a log line or a traceback
        return f"LLMSettings(base_url={self.base_url!r}, api_style={self.api_style!r})"


class _DeadlineStream(httpx2.SyncByteStream):
    """Fails the read once the call's deadline has passed.

    httpx's read timeout bounds each silence, not the whole body: a server that drips a byte
    every few seconds would hold a worker forever. OPENAI_TIMEOUT is meant as the whole call.
    """

    def __init__(self, inner: httpx2.SyncByteStream, request: httpx2.Request, deadline: float):
        self._inner = inner
        self._request = request
        self._deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            if time.monotonic() > self._deadline:
                raise httpx2.ReadTimeout("the call's deadline passed", request=self._request)
            yield chunk

    def close(self) -> None:
        self._inner.close()


class _DeadlineTransport(httpx2.HTTPTransport):
    def __init__(self, *, total: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self._total = total

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        deadline = time.monotonic() + self._total
        response = super().handle_request(request)
        response.stream = _DeadlineStream(response.stream, request, deadline)
        return response


@functools.lru_cache(maxsize=8)
def openai_client(config: LLMSettings) -> openai.OpenAI:
    """The shared client for ``config`` (thread-safe; it pools connections)."""
    timeout = openai.Timeout(config.timeout, connect=config.connect_timeout)
    transport = _DeadlineTransport(total=config.timeout, limits=openai.DEFAULT_CONNECTION_LIMITS)
    http_client = openai.DefaultHttpxClient(timeout=timeout, transport=transport)
    return openai.OpenAI(
        api_key=config.api_key,
        # Explicit, so the SDK never falls back to an OPENAI_BASE_URL the settings did not read.
        base_url=config.base_url or OPENAI_DEFAULT_BASE_URL,
        organization=config.organization or None,
        project=config.project or None,
        timeout=timeout,
        max_retries=0,  # analyses decide retries, once, from LLMError.retryable
        http_client=http_client,
    )
