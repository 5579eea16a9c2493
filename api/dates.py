"""Dates as news gives them: a strict subset of EDTF (ISO 8601-2) read into spans of days.

A date is a day `2025-02-27`, a month `2025-02` or a year `2025`, optionally qualified as a whole (`?` uncertain,
`~` approximate, `%` both), or an interval of two of those with either end open (`2025-03-01/..`). Its span is
its earliest and latest day (None for an open end); qualifiers do not widen it. Reports of one fact agree when their
spans intersect, and the fact is the intersection (`intersect`). Nothing here imports pydantic or the store.
"""

import calendar
import datetime as dt
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .vocabulary import DatePrecision

# One date of the subset, unqualified: a year, a month or a day (four-digit years, as ISO 8601 without extensions).
_ONE = r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?"
_QUALIFIERS = {"": (False, False), "~": (True, False), "?": (False, True), "%": (True, True)}
PATTERN = re.compile(rf"^(?:(?P<one>{_ONE})(?P<q>[~?%]?)|(?P<start>{_ONE}|\.\.)/(?P<end>{_ONE}|\.\.))$")
ACCEPTED_FORMS = (
    "a day 2025-02-27, a month 2025-02 or a year 2025, with ~ (approximate), ? (uncertain) or % (both) after it, "
    "or an interval 2025-02-25/2025-02-28 of two of those, either end open: 2025-03-01/.. or ../2025-03-01"
)
_BY_LENGTH = {4: DatePrecision.YEAR, 7: DatePrecision.MONTH, 10: DatePrecision.DAY}
_WORDS = {(True, False): "approximately ", (False, True): "possibly ", (True, True): "possibly, approximately "}


class DateError(ValueError):
    """Not a date of the subset; the message says why and which forms are accepted."""


@dataclass(frozen=True)
class Span:
    """A date as reported: its EDTF text, its earliest and latest day (None: open), its precision and qualifiers."""

    edtf: str
    earliest: dt.date | None
    latest: dt.date | None
    precision: DatePrecision
    approximate: bool = False
    uncertain: bool = False

    @property
    def day(self) -> dt.date | None:
        """The day, when the span is one day."""
        return self.earliest if self.earliest is not None and self.earliest == self.latest else None

    def overlaps(self, other: "Span") -> bool:
        return _before_or_on(self.earliest, other.latest) and _before_or_on(other.earliest, self.latest)

    def certainly_after(self, other: "Span") -> bool:
        """Whether every day of this span is after every day of `other`."""
        return self.earliest is not None and other.latest is not None and self.earliest > other.latest

    def describe(self) -> str:
        """The span in words, as `diplo validate` says what it understood: "approximately February 2025"."""
        if self.precision is DatePrecision.RANGE:
            start = "" if self.earliest is None else f"from {_spelled(self.edtf.partition('/')[0])}"
            end = "" if self.latest is None else f"until {_spelled(self.edtf.partition('/')[2])}"
            return " ".join(part for part in (start, end) if part)
        year = "the year " if self.precision is DatePrecision.YEAR else ""
        return _WORDS.get((self.approximate, self.uncertain), "") + year + _spelled(self.edtf.rstrip("~?%"))


def _before_or_on(earlier: dt.date | None, later: dt.date | None) -> bool:
    return earlier is None or later is None or earlier <= later


def _spelled(one: str) -> str:
    """`2025-02` as "February 2025"; a day and a year as they are written."""
    if len(one) == 7:
        return f"{calendar.month_name[int(one[5:])]} {one[:4]}"
    return one


def _bounds(one: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a year, a month or a day; DateError for one that does not exist."""
    try:
        year = int(one[:4])
        if len(one) == 4:
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        month = int(one[5:7])
        if len(one) == 7:
            return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
        day = dt.date.fromisoformat(one)
        return day, day
    except (ValueError, calendar.IllegalMonthError):
        raise DateError(f"{one!r} is not a calendar date") from None


def parse(value: object) -> Span:
    """The span of a date of the subset: a string, an int for a year (YAML 1.2 reads an unquoted `2025` as one), or a
    `datetime.date` for its day."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 9999:
        value = f"{value:04d}"
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = value.isoformat()
    if not isinstance(value, str):
        raise DateError(f"a date is text, not {type(value).__name__}; accepted: {ACCEPTED_FORMS}")
    match = PATTERN.match(value)
    if match is None:
        raise DateError(f"{value!r} is not a date Diplo reads; accepted: {ACCEPTED_FORMS}")
    if match["one"] is not None:
        first, last = _bounds(match["one"])
        approximate, uncertain = _QUALIFIERS[match["q"]]
        return Span(value, first, last, _BY_LENGTH[len(match["one"])], approximate, uncertain)
    start, end = match["start"], match["end"]
    if start == end == "..":
        raise DateError(f"{value!r} is open at both ends: give at least one; accepted: {ACCEPTED_FORMS}")
    earliest = None if start == ".." else _bounds(start)[0]
    latest = None if end == ".." else _bounds(end)[1]
    if earliest is not None and latest is not None and earliest > latest:
        raise DateError(f"{value!r} ends before it starts: write the earlier date first")
    return Span(value, earliest, latest, DatePrecision.RANGE)


@functools.lru_cache(maxsize=4096)
def span_of(edtf: str) -> Span:
    """The span of a date already checked (a seed model's or a stored one): parsed once per distinct text."""
    return parse(edtf)


def _canonical(earliest: dt.date | None, latest: dt.date | None) -> Span:
    """The shortest text of a span: a day, a whole month or year as such, anything else as an interval of days."""
    if earliest is not None and latest is not None:
        for one in (earliest.isoformat(), earliest.isoformat()[:7], earliest.isoformat()[:4]):
            if _bounds(one) == (earliest, latest):
                return Span(one, earliest, latest, _BY_LENGTH[len(one)])
    start = ".." if earliest is None else earliest.isoformat()
    end = ".." if latest is None else latest.isoformat()
    return Span(f"{start}/{end}", earliest, latest, DatePrecision.RANGE)


_QUALIFIER_OF = {flags: mark for mark, flags in _QUALIFIERS.items()}


def intersect(spans: Iterable[Span]) -> Span | None:
    """The span every one of `spans` allows, or None when two are disjoint (or there are none).

    Its text is a report's own when one gives exactly that span (a single date before an interval, then the
    shortest text), else the shortest text of the span; it is approximate or uncertain only if every span that
    bounds it is. Commutative and associative: the result does not depend on the order of `spans`.
    """
    given = list(spans)
    if not given:
        return None
    starts = [s.earliest for s in given if s.earliest is not None]
    ends = [s.latest for s in given if s.latest is not None]
    earliest, latest = (max(starts) if starts else None), (min(ends) if ends else None)
    if earliest is not None and latest is not None and earliest > latest:
        return None
    bounding = [s for s in given if (s.earliest == earliest and earliest is not None)
                or (s.latest == latest and latest is not None)]  # fmt: skip
    approximate = all(s.approximate for s in bounding)
    uncertain = all(s.uncertain for s in bounding)
    exact = sorted(
        (s.edtf.rstrip("~?%") for s in given if (s.earliest, s.latest) == (earliest, latest)),
        key=lambda text: ("/" in text, len(text), text),
    )
    base = parse(exact[0]) if exact else _canonical(earliest, latest)
    if base.precision is DatePrecision.RANGE:
        # Only single dates carry qualifiers, and a qualified intersection is one of them (single dates nest).
        return Span(base.edtf, earliest, latest, base.precision)
    edtf = base.edtf + _QUALIFIER_OF[approximate, uncertain]
    return Span(edtf, earliest, latest, base.precision, approximate, uncertain)
