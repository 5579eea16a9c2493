"""The validation rules: one stable code each, one place that names them.

Record rules are enforced by the pydantic models (`diplo.ingest.models`); the rules within one source's report by
`diplo.ingest.reports`, the rules between reports of one record by `diplo.ingest.merge` and the rules between records by
`diplo.ingest.crosscheck`. All of them report these codes, the CLI prints them, the README's rule table is generated
from this dict and the tests refer to the codes.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..vocabulary import (
    DISTINCT_FROM_MAX,
    INT_MAX,
    LABEL_MAX_LENGTH,
    SOURCE_TEXT_MAX_LENGTH,
    STATEMENT_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
)
from .models import SEED_FILE_MAX_BYTES

RULES: dict[str, str] = {
    "seed.path": "Every path given is a seed file or a directory that holds at least one (`.yaml`, `.yml`, `.json`).",
    "seed.syntax": f"A seed file is UTF-8 text of at most {SEED_FILE_MAX_BYTES // 2**20} MiB (unless the caller "
    "sets another limit): well-formed JSON, or YAML read by YAML 1.2's core schema (`NO`, `on` and `yes` are "
    "strings; dates are strings that the fields parse), without anchors, aliases or tags outside that schema, and "
    "without a key given twice in one mapping (both places are named); JSON has no `NaN` or `Infinity`.",
    "seed.schema": "A seed file has the documented shape: known fields, required fields present, right types; an "
    f"integer (a meeting's `round`) is at most {INT_MAX:,} (GraphQL's Int, inside SQLite's 64-bit range), no number "
    f"is NaN or infinite, and `distinct_from` names at most {DISTINCT_FROM_MAX} keys, not the record's own.",
    "key.format": "A key is a kebab-case slug (`^[a-z0-9]+(-[a-z0-9]+)*$`) of at most 80 characters.",
    "key.duplicate": "A new person or organization key is not another key's record typed twice: a name or alias "
    "close to one of the other's once case, accents, script, transliteration, doubled letters and word order are "
    "folded, or the same Wikidata id, is a warning (an error with `--strict`) unless either record declares the "
    "other in `distinct_from`.",
    "key.conflict": "A source key belongs to one file; a key is unique across sources and editorial files; within "
    "a file a key is reported once per record type (identical repeats are allowed).",
    "ref.unknown": "Every referenced key exists in the seeds or in the database (a `distinct_from` key: of the "
    "record's own type).",
    "report.source": "A seed file is one source's report: its statements (and meetings' `sources`, when given) "
    "name that file's source.",
    "report.disagree": "Reports of one record agree on its facts: a person's or organization's country and Wikidata "
    "id, a delegation's head, a meeting's format, date, city, host country, round and follows, a statement's speaker, "
    "organization, meeting and date (a held report supersedes what planned ones gave for a meeting's status, date, "
    "place and format), unless an editorial decision settles the dispute. Dates agree when their spans share a day; "
    "the record's date is their intersection. The error is placed "
    "on the file being loaded, or the later report in report order when both are loaded together.",
    "editorial.unknown_value": "An editorial decision about a fact prefers a value one of the record's reports "
    "gives (editors do not invent facts); a label's decision may prefer any wording.",
    "editorial.stale": "An editorial decision is about a record and field some report gives, and, for a fact, one "
    "the reports dispute (a warning, an error with `--strict`).",
    "editorial.conflict": "One field of one record has at most one editorial decision, across every editorial file.",
    "report.incomplete": "A merged meeting has a title and a format from at least one of its reports.",
    "text.invalid": "Text has no control characters (names and labels are one line; long text may have line "
    "breaks and tabs) nor bidirectional embedding, override or isolate controls (U+202A–U+202E, U+2066–U+2069; "
    "statements too), is not empty once whitespace and invisible characters (zero-width space and joiners, "
    f"direction marks, soft hyphen, BOM) are removed, and has at most {LABEL_MAX_LENGTH:,} characters in a name, "
    f"title, label, role, outlet, city, occasion, dateline or `via` entry, {SUMMARY_MAX_LENGTH:,} in a summary and "
    f"{SOURCE_TEXT_MAX_LENGTH:,} in a source's text.",
    "country.invalid": "A country is an ISO 3166-1 alpha-2 code.",
    "language.invalid": "A language is a BCP 47 tag whose primary subtag is an ISO 639 code.",
    "wikidata.invalid": "A Wikidata id is `Q` followed by digits.",
    "source.url": "A source URL is an absolute http or https URL.",
    "source.naive_datetime": "A source's publication time carries a timezone.",
    "date.invalid": "A date is a day `2025-02-27`, a month `2025-02` or a year `2025` (EDTF), qualified as a whole "
    "by `~` (approximate), `?` (uncertain) or `%` (both), or an interval of two of those, either end open "
    "(`2025-03-01/..`), that starts before it ends; a source's publication is a date-time with its offset, or a day.",
    "meeting.held_requires_date": "A held meeting has a date, of any precision.",
    "meeting.date_after_source": "A held report of a meeting is not dated after the publication day of its source: "
    "its date's earliest day is not after it.",
    "meeting.delegations": "A meeting has at least two delegations, of distinct countries.",
    "meeting.follows_order": "A follow-up is dated after its predecessor when both are dated (for spans: some "
    "day of the follow-up's is after some day of its predecessor's); no cycles.",
    "meeting.round_sequence": "A follow-up's round is its predecessor's round + 1 when both are set.",
    "delegation.head_country": "A delegation's head with a known country belongs to the delegation's country.",
    "statement.text": "A statement's text and each translation are not empty once whitespace and invisible "
    "characters are removed, have no control characters but line feeds and tabs, and have at most "
    f"{STATEMENT_MAX_LENGTH:,} characters.",
    "statement.attribution": "A statement has a speaker or an organization.",
    "statement.quote_not_in_source": "A direct quote occurs verbatim in its source's text, when present.",
    "statement.date_order": "A statement is not dated after its source's publication day, nor before the meeting "
    "it is about when its own source reports that meeting as held (for spans: an error only when no day of the "
    "statement's span is possible).",
    "evidence.note": "Evidence whose basis is `inferred`, `assumed` or `external` has a `note` saying why; `stated` "
    "evidence quotes the source.",
    "evidence.no_text": "Evidence quotes need the source's `text` to be checked against.",
    "evidence.not_in_source": "Each evidence quote occurs in its source's text, compared as direct quotes are "
    "(whitespace folded, typographic quote marks plain); the message shows the closest passage and where it "
    "differs.",
    "evidence.ambiguous": "An evidence quote that occurs more than once in the source's text has a `prefix` or "
    "`suffix` that picks one.",
    "evidence.missing": "With `--require-evidence`, every fact (a meeting's status, format, date, city, host "
    "country, round, follows, delegations and topics; a delegation's head and members; a statement's speaker, "
    "organization, meeting, date, occasion, kind and topics; a person's or organization's country and Wikidata id; "
    "a source's publication time) has evidence or a basis.",
}


# Rules whose violations are warnings: what may be a mistake, which `--strict` (CI) makes errors.
WARNINGS = frozenset({"key.duplicate", "editorial.stale"})
# Not rules: what a check says it understood, where that could surprise (a date's span), never an error.
NOTICES = frozenset({"date.read"})

MAX_ERRORS = 1000  # errors a validation keeps; past them it only counts, so that memory stays bounded

T = TypeVar("T")


class Bounded(Generic[T]):
    """A list that keeps its first `limit` items and only counts the rest, so that a file of a million
    mistakes costs what a thousand do."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.items: list[T] = []
        self.more = 0

    def append(self, item: T) -> None:
        if len(self.items) < self.limit:
            self.items.append(item)
        else:
            self.more += 1

    def extend(self, items: Iterable[T]) -> None:
        for item in items:
            self.append(item)


@dataclass(frozen=True, order=True)
class SeedError:
    """One violation of one rule, located by file and record path (`meetings[0].delegations[1].head`) and, in a
    YAML file, by the line and column (from 1; 0 when unknown) of the offending value."""

    file: str
    path: str
    code: str
    message: str
    line: int = 0
    column: int = 0

    @property
    def is_warning(self) -> bool:
        return self.code in WARNINGS

    @property
    def severity(self) -> str:
        """`error`, `warning` or `notice` (what GitHub Actions annotations call them too)."""
        return "notice" if self.code in NOTICES else "warning" if self.is_warning else "error"

    @property
    def where(self) -> str:
        """`file:line:col`, the form editors and CI annotations understand, or the file alone."""
        return f"{self.file}:{self.line}:{self.column}" if self.line else self.file

    def __str__(self) -> str:
        return f"{self.where}: {self.code}: " + (f"{self.path}: " if self.path else "") + self.message

    def as_dict(self) -> dict[str, str | int | None]:
        return {
            "file": self.file,
            "line": self.line or None,
            "column": self.column or None,
            "path": self.path,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
        }


@dataclass(frozen=True)
class Place:
    """A record as the database knows it: which source reported it, of what type, and where in the record."""

    source: str
    kind: str  # "persons", "meetings", ...
    key: str
    suffix: str = ""  # within the record: ".delegations[1].head"


@dataclass(frozen=True)
class Finding:
    """A violation found in the database during a load, located by `Place` until the loader turns it into a
    `SeedError` with the file and record path (`message` may name `{other}`, a second place)."""

    place: Place
    code: str
    message: str
    other: Place | None = None
    flipped: str | None = None  # the message when it is placed on `other` instead (a disagreement seen from there)


def _in_file_order(error: SeedError) -> tuple[str, int, int, SeedError]:
    return error.file, error.line, error.column, error


class SeedErrors(Exception):
    """Raised when seeds do not validate; carries every error found (up to a limit), not just the first."""

    def __init__(self, errors: list[SeedError], more: int = 0, warnings: list[SeedError] | None = None) -> None:
        self.errors = sorted(errors, key=_in_file_order)
        self.more = more  # errors found past the limit, counted but not kept
        self.warnings = sorted(warnings or [], key=_in_file_order)
        super().__init__(f"{len(errors) + more} seed error(s)")
