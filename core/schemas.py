"""Base input types every app's request bodies build on."""

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, StrictBool, StrictFloat, StrictInt


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


ISO_8601_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _iso_8601_only(value: Any) -> Any:
    """Only an ISO 8601 string (or a datetime): pydantic would read a number, or a numeric
    string such as ``"1700000000"``, as a Unix timestamp, which no client means."""
    if isinstance(value, datetime) or (isinstance(value, str) and ISO_8601_DATE.match(value)):
        return value
    raise ValueError("must be an ISO 8601 date-time string, such as 2026-01-31T12:00:00Z")


UtcDatetime = Annotated[datetime, BeforeValidator(_iso_8601_only), AfterValidator(_assume_utc)]

# A body's boolean is a JSON true/false: 0, 1 or "yes" are a 422, not read as one. (Query
# strings stay lax: ``?is_active=true`` arrives as text.)
JsonBool = StrictBool

# A body's integer or number is a JSON number: ``true`` or ``"1"`` is a 422, not read as 1 (the
# schema, and so every generated client, says it is invalid). An integer is written without a
# fraction: 1.0 is a 422 too.
JsonInt = StrictInt
JsonNumber = StrictFloat
