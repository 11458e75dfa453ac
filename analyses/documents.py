"""The read of one analysis (``GET /analyses/{id}``, a client's poll) from the shared cache.

What is kept is the rendered response: the owner (to check who may read it), the status code and
the JSON bytes, so a hit costs one cache GET and no query or serialisation. Every change of an
analysis row marks its entry changed on commit (``core.document_cache``): ``Analysis.save``, the
two conditional updates of a claim, and any deletion (``analyses.receivers``), so a poll never
sees a state older than the last committed change. Documents over ``MAX_BYTES`` (messages can
carry whole files' text) are not kept.
"""

import uuid
from typing import NamedTuple

from django.http import HttpRequest

from core import document_cache

PREFIX = "analyses:document:v1:"
# Backstop only (every change marks the key): bounds what a cache outage during a write leaves.
SECONDS_ACTIVE = 60  # queued or running: changes soon anyway
SECONDS_FINAL = 600  # final: only a retry or a deletion changes it
MAX_BYTES = 64 * 1024


class AnalysisDocument(NamedTuple):
    owner_id: int
    status_code: int
    body: bytes
    final: bool


def _key(analysis_id) -> str:
    return f"{PREFIX}{analysis_id}"


def analysis_document_key(request: HttpRequest) -> str | None:
    """The key ``GET /analyses/{id}`` reads, for its authentication to prefetch (``api_auth``)."""
    try:
        return _key(uuid.UUID(request.resolver_match.kwargs["analysis_id"]))
    except (AttributeError, KeyError, TypeError, ValueError):
        return None  # not a valid id: the route answers 422 without a read


def analysis_document_cached(
    analysis_id, *, request: HttpRequest | None = None
) -> AnalysisDocument | None:
    return document_cache.document_for(request, _key(analysis_id))


def analysis_document_fill(analysis_id, document: AnalysisDocument, *, started: float) -> None:
    if len(document.body) > MAX_BYTES:
        return
    seconds = SECONDS_FINAL if document.final else SECONDS_ACTIVE
    document_cache.document_fill(_key(analysis_id), document, started=started, seconds=seconds)


def analysis_changed(analysis_id) -> None:
    """Call from any write of the analysis row: its cached read is dropped on commit."""
    document_cache.document_changed_on_commit(_key(analysis_id))
