"""The LLM, and the only code in Parecer that imports ``openai``.

Public surface for the analyses app::

    from analyses import llm
    result = llm.llm_call(model=..., messages=[...], parameters={...}, output_schema=...)
    # -> llm.LLMResult, or raises llm.LLMError(code, message, retryable, retry_after, result)

Settings: OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORGANIZATION, OPENAI_PROJECT, OPENAI_TIMEOUT,
OPENAI_CONNECT_TIMEOUT, OPENAI_API_STYLE (docs/operations.md).
"""

from analyses.llm.calls import llm_call, llm_configured
from analyses.llm.client import API_STYLES
from analyses.llm.errors import RETRYABLE, LLMError
from analyses.llm.health import llm_status
from analyses.llm.messages import SUPPORTED_PARAMETERS
from analyses.llm.records import IMAGE_MIME_TYPES, ImageInput, LLMResult, Usage
from analyses.llm.structured import output_schema_check

ERROR_CODES = tuple(RETRYABLE)

__all__ = [
    "API_STYLES",
    "ERROR_CODES",
    "IMAGE_MIME_TYPES",
    "RETRYABLE",
    "SUPPORTED_PARAMETERS",
    "ImageInput",
    "LLMError",
    "LLMResult",
    "Usage",
    "llm_call",
    "llm_configured",
    "llm_status",
    "output_schema_check",
]
