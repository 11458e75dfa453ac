"""``llm_status``: a cheap probe of the LLM server for /health and operators."""

from __future__ import annotations

import structlog

from analyses.llm import errors
from analyses.llm.client import LLMSettings, openai_client

logger = structlog.get_logger("parecer.llm")

PROBE_TIMEOUT = 2.0


def llm_status(*, timeout: float = PROBE_TIMEOUT) -> str:
    """``not_configured`` (no key), ``ok`` (GET /models answered) or ``down`` (anything else)."""
    config = LLMSettings.current()
    if not config.configured:
        return "not_configured"
    try:
        openai_client(config).with_options(timeout=timeout).models.list()
    except Exception as exc:
        try:
            error = errors.classify(exc, secrets=(config.api_key,))
        except Exception:
            error = errors.LLMError(errors.UNAVAILABLE, type(exc).__name__)
        logger.warning("llm_probe_failed", code=error.code, message=error.message)
        return "down"
    return "ok"
