"""In/out types of /files."""

import uuid
from datetime import datetime

from ninja import Field, Schema

from files.models import FileStatus


class FileOut(Schema):
    id: uuid.UUID
    name: str = Field(description="The uploaded name, sanitised; for display only")
    size: int
    content_type: str = Field(description="Decided from the bytes, not the client's claim")
    sha256: str
    purpose: str
    status: FileStatus
    error_code: str = Field(description="Set when status is failed")
    error_message: str
    page_count: int | None
    text_chars: int | None
    truncated: bool = Field(description="The extracted text was cut at the text cap or page cap")
    width: int | None
    height: int | None
    owner_id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class FileFilters(Schema):
    status: FileStatus | None = None
    content_type: str | None = Field(None, max_length=100)
    purpose: str | None = Field(None, max_length=64)
    q: str | None = Field(None, max_length=100, description="Part of the name (case-insensitive)")


class TextSliceQuery(Schema):
    offset: int = Field(0, ge=0, le=100_000_000)
    limit: int = Field(100_000, ge=1, le=1_000_000)


class TextSliceOut(Schema):
    file_id: uuid.UUID
    offset: int
    limit: int
    total_chars: int
    truncated: bool
    text: str
    next_offset: int | None = Field(description="Offset of the next slice; null at the end")
