"""The `Date` and `DateTime` scalars: RFC 3339 forms, documented in the schema, strict on input.

Python's `fromisoformat` alone takes ISO 8601 forms RFC 3339 excludes (`20250201`, `2025-W05-6`); a client that
sends one would be told nothing, and its next library would refuse it. So the form is matched first, and a
date-time where a date is wanted gets a message that says what to send.
"""

import datetime as dt
import re

from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.types.scalar import ScalarDefinition

RFC_3339 = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
FULL_DATE_FORM = re.compile(r"\d{4}-\d{2}-\d{2}")
DATE_TIME_FORM = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def parse_date(value: object) -> dt.date:
    if isinstance(value, str) and FULL_DATE_FORM.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(value, str) and DATE_TIME_FORM.fullmatch(value):
        raise StrawberryInputCoercionError(
            f"Date takes an RFC 3339 full-date such as 2025-02-01, not a date-time: send {value[:10]!r}"
        )
    raise StrawberryInputCoercionError(f"Date takes an RFC 3339 full-date such as 2025-02-01; got {value!r}")


def parse_date_time(value: object) -> dt.datetime:
    if isinstance(value, str) and DATE_TIME_FORM.fullmatch(value):
        try:
            return dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError:
            pass
    raise StrawberryInputCoercionError(
        f"DateTime takes an RFC 3339 date-time with its offset, such as 2025-03-01T01:20:00+07:00; got {value!r}"
    )


def serialize(value: dt.date) -> str:
    return value.isoformat()


DATE = ScalarDefinition(
    name="Date",
    description="A calendar date, an RFC 3339 full-date: `2025-02-27`. Inputs take exactly this form.",
    specified_by_url=RFC_3339,
    serialize=serialize,
    parse_value=parse_date,
    parse_literal=None,
    origin=dt.date,
)
DATE_TIME = ScalarDefinition(
    name="DateTime",
    description="An instant, an RFC 3339 date-time with the offset its source gave: `2025-03-01T01:20:00+07:00`. "
    "The offset is kept, not converted to UTC, because it is the source's local time: a dateline's day and "
    "hour, which dates without times are reckoned from.",
    specified_by_url=RFC_3339,
    serialize=serialize,
    parse_value=parse_date_time,
    parse_literal=None,
    origin=dt.datetime,
)
SCALARS: dict[object, ScalarDefinition] = {dt.date: DATE, dt.datetime: DATE_TIME}
