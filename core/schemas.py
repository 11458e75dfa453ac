"""Base input types every app's request bodies build on."""

from datetime import UTC, datetime
from typing import Annotated

from ninja import Schema
from pydantic import AfterValidator, ConfigDict


class StrictIn(Schema):
    """A request body: unknown fields are refused (422), so mass assignment never slips through."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


def _assume_utc(value: datetime) -> datetime:
    """ISO 8601 without an offset is read as UTC, the API's only time zone; the result is in UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the years 1 to 9999 once converted to UTC") from None


UtcDatetime = Annotated[datetime, AfterValidator(_assume_utc)]
