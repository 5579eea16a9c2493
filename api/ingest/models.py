"""The seed models: one pydantic model per record type, carrying every record rule.

Each rule raises `PydanticCustomError` with its code from `diplo.ingest.rules`, so a validation error's `type` is the
rule code; anything else pydantic reports (missing field, wrong type, unknown field) is `seed.schema`.
"""

import contextlib
import datetime as dt
import functools
import re
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .. import dates
from ..vocabulary import (
    BIDI_CONTROLS,
    BLANK,
    CONTROL_CHARACTERS,
    DISTINCT_FROM_MAX,
    INT_MAX,
    INVISIBLE,
    KEY_MAX_LENGTH,
    KEY_PATTERN,
    LABEL_MAX_LENGTH,
    QUOTES_MAX,
    SOURCE_TEXT_MAX_LENGTH,
    STATEMENT_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
    Basis,
    MeetingFormat,
    MeetingStatus,
    StatementKind,
)
from .suggest import countries, did_you_mean, languages

# The largest seed file read (callers may pass another limit), a bound on what one file can make a load hold: ~20
# times the largest file `diplo synth` writes (its registry of persons, 3.3 MB at 100,000 meetings).
SEED_FILE_MAX_BYTES = 64 * 2**20
# RFC 5646 language tag, without the grandfathered irregular tags nobody writes any more.
BCP47_PATTERN = re.compile(
    r"^(?P<language>[a-zA-Z]{2,3})(-[a-zA-Z]{3}){0,3}(-[a-zA-Z]{4})?(-([a-zA-Z]{2}|[0-9]{3}))?"
    r"(-([a-zA-Z0-9]{5,8}|[0-9][a-zA-Z0-9]{3}))*(-[0-9a-wyzA-WYZ](-[a-zA-Z0-9]{2,8})+)*(-x(-[a-zA-Z0-9]{1,8})+)?$"
)
WIKIDATA_PATTERN = re.compile(r"^Q[1-9][0-9]*$")


# The characters refused anywhere in text (control characters, bidirectional controls and lone surrogates, which
# UTF-8 and so SQLite cannot store), as regexes, one per set of allowed control characters: a regex scans text ~50x
# faster than a per-character check.
_BAD = {
    allowed: re.compile(
        "[" + re.escape("".join(c for c in CONTROL_CHARACTERS + BIDI_CONTROLS if c not in allowed)) + "\ud800-\udfff]"
    )
    for allowed in ("", "\n\t", "\n\r\t")
}
_EMPTY = re.compile(f"[{re.escape(BLANK)}]*")
# Shown escaped when a message quotes a value: what the reader could not see (or the terminal could not print).
_UNSEEN = re.compile(f"[{re.escape(CONTROL_CHARACTERS + BIDI_CONTROLS + INVISIBLE)}\ud800-\udfff]")


def escape_unseen(text: str) -> str:
    """`text` with what a reader cannot see, or a terminal cannot print (lone surrogates), as `\\uXXXX`."""
    return _UNSEEN.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def shown(value: str, width: int = 60) -> str:
    """`value` quoted for a message: cut to `width` characters, its unseen characters escaped. Messages are built
    whole rather than by pydantic from a context, which cannot render a lone surrogate and would replace a `{...}`
    in the value."""
    return "'" + escape_unseen(value[:width]) + ("…" if len(value) > width else "") + "'"


def _text_problem(value: str, allowed: str, limit: int) -> tuple[str, str] | None:
    """What is wrong with `value` as text, or None: the kind ("length", "control", "bidi" or "empty") and what
    to change. `allowed` are the control characters the field takes (line breaks in long text)."""
    if len(value) > limit:
        return "length", f"has {len(value):,} characters: shorten it to at most {limit:,}"
    if (found := _BAD[allowed].search(value)) is not None:
        kind = "bidi" if found[0] in BIDI_CONTROLS else "control"
        what = "a bidirectional control" if kind == "bidi" else "a control character or lone surrogate"
        return kind, f"has {what} (U+{ord(found[0]):04X}) at character {found.start() + 1}: remove it"
    if _EMPTY.fullmatch(value):
        return "empty", "is empty, or only spaces and invisible characters: give the text"
    return None


def _check_text(value: str, allowed: str, limit: int, code: str = "text.invalid") -> str:
    """`value`, or the text rule it breaks under `code` (bidirectional controls are always `text.invalid`)."""
    problem = _text_problem(value, allowed, limit)
    if problem is not None:
        kind, what = problem
        raise PydanticCustomError("text.invalid" if kind == "bidi" else code, f"{shown(value)} {what}")
    return value


def check_key(value: str) -> str:
    if len(value) > KEY_MAX_LENGTH or not KEY_PATTERN.match(value):
        raise PydanticCustomError(
            "key.format", f"key {shown(value, 100)} is not a kebab-case slug of at most {KEY_MAX_LENGTH} characters"
        )
    return value


@functools.lru_cache(maxsize=1024)
def check_country(value: str) -> str:
    if len(value) != 2 or not value.isupper() or pycountry.countries.get(alpha_2=value) is None:
        raise PydanticCustomError(
            "country.invalid",
            f"{shown(value)} is not an ISO 3166-1 alpha-2 country code{did_you_mean(countries(value))}",
        )
    return value


@functools.lru_cache(maxsize=4096)
def check_language(value: str) -> str:
    match = BCP47_PATTERN.match(value)
    primary = match.group("language").lower() if match else ""
    known = pycountry.languages.get(alpha_2=primary) if len(primary) == 2 else None
    if known is None and len(primary) == 3:
        known = pycountry.languages.get(alpha_3=primary)
    if known is None:
        raise PydanticCustomError(
            "language.invalid",
            f"{shown(value)} is not a BCP 47 language tag with an ISO 639 primary subtag"
            + did_you_mean(languages(value)),
        )
    return value


def check_label(value: str) -> str:
    """Single-line text: names, titles, labels, roles."""
    return _check_text(value, "", LABEL_MAX_LENGTH)


def check_source_text(value: str) -> str:
    return _check_text(value, "\n\r\t", SOURCE_TEXT_MAX_LENGTH)


def check_summary(value: str) -> str:
    return _check_text(value, "\n\r\t", SUMMARY_MAX_LENGTH)


def check_statement_text(value: str) -> str:
    """A statement's text or a translation: emptiness, control characters and length are `statement.text`."""
    return _check_text(value, "\n\t", STATEMENT_MAX_LENGTH, "statement.text")


def check_wikidata(value: str) -> str:
    if not WIKIDATA_PATTERN.match(value):
        raise PydanticCustomError("wikidata.invalid", f"{shown(value)} is not a Wikidata id like Q7747")
    return value


def check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or _BAD[""].search(value) or " " in value:
        raise PydanticCustomError("source.url", f"{shown(value, 200)} is not an absolute http(s) URL")
    return value


def _escaped(characters: str) -> str:
    """Characters for a regex class that JSON Schema's (ECMA-262) and Python's dialects read alike."""
    return "".join(c if c.isalnum() and c.isascii() else f"\\u{ord(c):04x}" for c in characters)


def _text_schema(allowed: str, limit: int) -> dict[str, Any]:
    """The text rule as JSON Schema: no refused character, not blank, at most `limit` characters. (Lone
    surrogates are left out: a regex without the `u` flag sees every character beyond U+FFFF as two of them.)"""
    refused = _escaped("".join(c for c in CONTROL_CHARACTERS + BIDI_CONTROLS if c not in allowed))
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": limit,
        # A lookahead for "not only blanks": linear, where a pattern with a required class in the middle of two
        # starred ones backtracks quadratically on a long text.
        "pattern": f"^(?![{_escaped(BLANK)}]*$)[^{refused}]*$",
    }


def _two_letter_languages() -> str:
    """The ISO 639-1 codes as a regex alternation in either case (JSON Schema's regexes have no flags); the ~8,000
    three-letter codes of ISO 639-3 would make the schema ten times larger, so they are checked by form only."""
    codes = sorted(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))
    return "|".join("".join(f"[{c}{c.upper()}]" for c in code) for code in codes)


# WithJsonSchema: editors see the same constraints in schema/seed.schema.json that the validators enforce.
Key = Annotated[
    str,
    AfterValidator(check_key),
    WithJsonSchema({"type": "string", "pattern": KEY_PATTERN.pattern, "maxLength": KEY_MAX_LENGTH}),
]
Country = Annotated[
    str,
    AfterValidator(check_country),
    WithJsonSchema(
        {
            "type": "string",
            "enum": sorted(c.alpha_2 for c in pycountry.countries),
            "description": "ISO 3166-1 alpha-2",
        }
    ),
]
Language = Annotated[
    str,
    AfterValidator(check_language),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": BCP47_PATTERN.pattern.replace(
                "?P<language>[a-zA-Z]{2,3}", _two_letter_languages() + "|[a-zA-Z]{3}"
            ),
            "description": "BCP 47 (the primary subtag must also be an ISO 639 code)",
        }
    ),
]
Label = Annotated[str, AfterValidator(check_label), WithJsonSchema(_text_schema("", LABEL_MAX_LENGTH))]
SourceText = Annotated[
    str, AfterValidator(check_source_text), WithJsonSchema(_text_schema("\n\r\t", SOURCE_TEXT_MAX_LENGTH))
]
Summary = Annotated[str, AfterValidator(check_summary), WithJsonSchema(_text_schema("\n\r\t", SUMMARY_MAX_LENGTH))]
StatementText = Annotated[
    str, AfterValidator(check_statement_text), WithJsonSchema(_text_schema("\n\t", STATEMENT_MAX_LENGTH))
]
WikidataId = Annotated[
    str, AfterValidator(check_wikidata), WithJsonSchema({"type": "string", "pattern": WIKIDATA_PATTERN.pattern})
]


def check_date(value: Any) -> str:
    """A date of the EDTF subset (`diplo.dates`), as its text; YAML's integer `2025` is the year."""
    try:
        return dates.parse(value).edtf
    except dates.DateError as error:
        raise PydanticCustomError("date.invalid", escape_unseen(str(error))) from None


T = TypeVar("T")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
PUBLISHED_FORMS = (
    "a date-time with its offset, 2025-02-28T10:00:00+07:00, or a day, 2025-02-28, when the source gives no time"
)


def check_published(value: Any) -> dt.datetime | dt.date:
    """A publication: a date-time with its offset, or a day."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # then not a date: refused below
            value = dt.date.fromisoformat(value) if _DAY.match(value) else dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.date):
        raise PydanticCustomError(
            "date.invalid", f"{shown(str(value))} is not a publication time; accepted: {PUBLISHED_FORMS}"
        )
    return _aware(value, "published_at")


def _aware(value: T, name: str) -> T:
    if isinstance(value, dt.datetime) and (value.tzinfo is None or value.utcoffset() is None):
        raise PydanticCustomError("source.naive_datetime", f"{name} must carry a timezone offset")
    return value


def published_day(value: dt.datetime | dt.date) -> dt.date:
    """The day of a publication, in its own offset."""
    return value.date() if isinstance(value, dt.datetime) else value


DateText = Annotated[
    str,
    BeforeValidator(check_date),
    WithJsonSchema({
        "anyOf": [
            {"type": "string", "pattern": dates.PATTERN.pattern},
            {"type": "integer", "minimum": 1, "maximum": 9999},
        ],
        "description": "EDTF: " + dates.ACCEPTED_FORMS,
    }),
]  # fmt: skip
Published = Annotated[
    dt.datetime | dt.date,
    BeforeValidator(check_published),
    WithJsonSchema({
        "type": "string",
        "anyOf": [{"format": "date-time"}, {"format": "date"}],
        "description": "When it was published: " + PUBLISHED_FORMS,
    }),
]  # fmt: skip
Url = Annotated[
    str,
    AfterValidator(check_url),
    WithJsonSchema({"type": "string", "format": "uri", "pattern": "^https?://[^\\s/?#]"}),
]


class Support(BaseModel):
    """How one fact of a record is known: quotes of the source's text, and the basis (a note says why, unless the
    quotes say it all). Written as a quote, a list of quotes, or this mapping."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    quote: list[StatementText] = Field(
        default_factory=list, max_length=QUOTES_MAX, description="The source's words that support the fact, verbatim."
    )
    prefix: Label | None = Field(default=None, description="Words just before the quote: picks one occurrence.")
    suffix: Label | None = Field(default=None, description="Words just after the quote: picks one occurrence.")
    basis: Basis = Field(default=Basis.STATED, description="stated, inferred, assumed or external.")
    note: Summary | None = Field(default=None, description="Why, for a basis other than stated.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        """A quote, or a list of quotes, for `{quote: ...}`; a mapping's single quote for a list of one."""
        if isinstance(value, str | list):
            return {"quote": value if isinstance(value, list) else [value]}
        if isinstance(value, dict) and isinstance(value.get("quote"), str):
            return {**value, "quote": [value["quote"]]}
        return value

    @model_validator(mode="after")
    def _basis(self) -> "Support":
        if self.basis is not Basis.STATED and self.note is None:
            raise PydanticCustomError("evidence.note", f"basis {self.basis.value} needs a `note` saying why")
        if self.basis is Basis.STATED and not self.quote:
            raise PydanticCustomError("evidence.note", "basis stated needs a `quote` of the source's words")
        return self


def _evidence_fields(value: dict[str, Support], info: ValidationInfo, model: type[BaseModel]) -> dict[str, Support]:
    unknown = [name for name in value if name not in model.model_fields or name == "evidence"]
    if unknown:
        raise PydanticCustomError(
            "seed.schema", f"evidence for {shown(unknown[0])}, which this record does not have: name one of its fields"
        )
    return value


# Editors see the shorthands too: a quote, a list of quotes, or the mapping.
_QUOTES_SCHEMA: dict[str, Any] = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
SupportSchema = Annotated[
    Support,
    WithJsonSchema(
        {
            "anyOf": [
                *_QUOTES_SCHEMA["anyOf"],
                {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "quote": _QUOTES_SCHEMA,
                        "prefix": {"type": "string"},
                        "suffix": {"type": "string"},
                        "basis": {"enum": [b.value for b in Basis]},
                        "note": {"type": "string"},
                    },
                },
            ]
        }
    ),
]
EVIDENCE_DESCRIPTION = (
    "How each fact is known, by the field's name: a quote of the source's text, a list of quotes, or "
    "{quote, prefix, suffix, basis, note}."
)


class Evidenced(BaseModel):
    """A record that may say how its facts are known."""

    evidence: dict[str, SupportSchema] = Field(default_factory=dict, description=EVIDENCE_DESCRIPTION)

    @field_validator("evidence")
    @classmethod
    def _known_fields(cls, value: dict[str, Support], info: ValidationInfo) -> dict[str, Support]:
        return _evidence_fields(value, info, cls)


class Record(Evidenced):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, use_enum_values=False)

    key: Key


class Source(Record):
    """A published document that reports meetings and statements."""

    outlet: Label
    title: Label
    url: Url | None = None
    published_at: Published
    language: Language
    dateline: Label | None = None
    via: list[Label] = Field(
        default_factory=list,
        description="Attribution chain, nearest first: the outlet quotes via[0], which quotes via[1], ...",
    )
    text: SourceText | None = Field(default=None, description="Full text; direct quotes are checked against it.")
    retrieved_at: dt.datetime | None = Field(default=None, description="When the text was read, with its offset.")
    archive_url: Url | None = Field(default=None, description="A lasting copy of the article.")

    @property
    def published_on(self) -> dt.date:
        """The publication day, in the source's own offset."""
        return published_day(self.published_at)

    @field_validator("retrieved_at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        return _aware(value, "retrieved_at")


class Named(Record):
    """A person or an organization: a named record that may be typed twice under two keys
    (`diplo.ingest.duplicates`)."""

    name: Label
    country: Country | None = None
    wikidata: WikidataId | None = None
    distinct_from: list[Key] = Field(
        default_factory=list,
        max_length=DISTINCT_FROM_MAX,
        description="Keys of other records of this type (in the seeds or the database) whose close name or same "
        "Wikidata id does not make them this one.",
    )

    @field_validator("distinct_from")
    @classmethod
    def _others(cls, value: list[str], info: ValidationInfo) -> list[str]:
        # An invalid key is absent from info.data and already reported.
        if info.data.get("key") in value:
            raise PydanticCustomError(
                "seed.schema",
                f"names the record's own key {shown(info.data['key'])}: `distinct_from` names other records",
            )
        return value


class Person(Named):
    pass


class Organization(Named):
    pass


class Topic(Record):
    label: Label = Field(description="English label.")
    labels: dict[Language, Label] = Field(default_factory=dict, description="Labels in other languages.")


class Delegation(Evidenced):
    model_config = ConfigDict(extra="forbid", frozen=True)

    country: Country
    head: Key | None = None
    head_role: Label | None = None
    members: list[Key] = Field(default_factory=list)


class Meeting(Record):
    """One source's report of a meeting; the record is the merge of every source's report (`diplo.ingest.merge`)."""

    title: Label | None = Field(default=None, description="Required of the merged record: some report gives it.")
    status: MeetingStatus
    format: MeetingFormat | None = Field(default=None, description="Required of the merged record.")
    date: DateText | None = Field(default=None, description="Required of the merged record when it is held.")
    city: Label | None = None
    host_country: Country | None = None
    round: int | None = Field(default=None, ge=1, le=INT_MAX)
    follows: Key | None = Field(default=None, description="Key of the meeting this one follows up.")
    summary: Summary | None = None
    topics: list[Key] = Field(default_factory=list)
    sources: list[Key] = Field(
        default_factory=list, description="Optional: the file's own source, the one that reports this meeting."
    )
    # minItems for editors; the model reports too few delegations as `meeting.delegations`, not a schema error.
    delegations: list[Delegation] = Field(json_schema_extra={"minItems": 2})

    @field_validator("delegations")
    @classmethod
    def _two_countries(cls, value: list[Delegation]) -> list[Delegation]:
        countries = [d.country for d in value]
        if len(countries) < 2 or len(set(countries)) != len(countries):
            raise PydanticCustomError(
                "meeting.delegations",
                "a meeting report needs at least two delegations, of distinct countries (found {countries})",
                {"countries": ", ".join(countries) or "none"},
            )
        return value


class Statement(Record):
    model_config = ConfigDict(json_schema_extra={"anyOf": [{"required": ["speaker"]}, {"required": ["organization"]}]})

    text: StatementText
    language: Language
    kind: StatementKind
    translations: dict[Language, StatementText] = Field(default_factory=dict)
    date: DateText | None = None
    speaker: Key | None = None
    organization: Key | None = Field(default=None, validate_default=True)
    meeting: Key | None = Field(default=None, description="Key of the meeting the statement is about.")
    occasion: Label | None = None
    topics: list[Key] = Field(default_factory=list)
    source: Key | None = Field(default=None, description="Optional: the file's own source, which reports it.")

    @field_validator("organization")
    @classmethod
    def _attributed(cls, value: str | None, info: ValidationInfo) -> str | None:
        # An invalid speaker is absent from info.data and already reported; only a missing one counts here.
        if value is None and "speaker" in info.data and info.data["speaker"] is None:
            raise PydanticCustomError("statement.attribution", "a statement needs a speaker or an organization")
        return value


class SeedFile(BaseModel):
    """One seed file: the source document and every record it reports."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Source
    persons: list[Person] = Field(default_factory=list)
    organizations: list[Organization] = Field(default_factory=list)
    topics: list[Topic] = Field(default_factory=list)
    meetings: list[Meeting] = Field(default_factory=list)
    statements: list[Statement] = Field(default_factory=list)


# What an editorial decision may be about: by record type (the seed file's list), the fields it may decide, each a
# fact (whose preferred value must be one a report gives) or a label (any wording). A delegation is addressed by its
# meeting and country.
LABELS: dict[str, tuple[str, ...]] = {
    "persons": ("name",),
    "organizations": ("name",),
    "topics": ("label",),
    "meetings": ("title", "summary"),
    "delegations": ("head_role",),
    "statements": ("occasion",),
}
FACTS: dict[str, tuple[str, ...]] = {
    "persons": ("country", "wikidata"),
    "organizations": ("country", "wikidata"),
    "topics": (),
    "meetings": ("status", "format", "date", "city", "host_country", "round", "follows"),
    "delegations": ("head",),
    "statements": ("speaker", "organization", "meeting", "date"),
}
# The field of a decision that addresses each record type.
ADDRESSES: dict[str, str] = {
    "person": "persons",
    "organization": "organizations",
    "topic": "topics",
    "meeting": "meetings",
    "delegation": "delegations",
    "statement": "statements",
}


class DelegationAddress(BaseModel):
    """A delegation: its meeting and its country."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    meeting: Key
    country: Country


class Decision(BaseModel):
    """One decision of the editors: for one field of one record, the value to publish, and why."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"oneOf": [{"required": [name]} for name in ADDRESSES]},
    )

    person: Key | None = None
    organization: Key | None = None
    topic: Key | None = None
    meeting: Key | None = None
    statement: Key | None = None
    delegation: DelegationAddress | None = None
    field: str = Field(description="The field decided, by its seed name (`head_role`).")
    prefer: Annotated[str | int, WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "integer"}]})] = Field(
        description="The value to publish: a label's wording, or one of the values reports give a fact."
    )
    note: Summary = Field(description="Why the editors prefer it.")

    @model_validator(mode="after")
    def _one_record(self) -> "Decision":
        named = [name for name in ADDRESSES if getattr(self, name) is not None]
        if len(named) != 1:
            raise PydanticCustomError(
                "seed.schema",
                f"a decision names one record, by one of {', '.join(ADDRESSES)} (found {', '.join(named) or 'none'})",
            )
        kind = ADDRESSES[named[0]]
        if self.field not in LABELS[kind] + FACTS[kind]:
            raise PydanticCustomError(
                "seed.schema",
                f"{shown(self.field)} is not a field an editor decides for a {named[0]}: name one of "
                + ", ".join(LABELS[kind] + FACTS[kind]),
            )
        text = self.prefer if isinstance(self.prefer, str) else str(self.prefer)
        _check_text(text, "\n\r\t", SUMMARY_MAX_LENGTH)
        return self

    @property
    def kind(self) -> str:
        """The record type decided about (`meetings`, `delegations`, ...)."""
        return next(kind for name, kind in ADDRESSES.items() if getattr(self, name) is not None)

    @property
    def record(self) -> str:
        """The record's key (a delegation's meeting's)."""
        if self.delegation is not None:
            return self.delegation.meeting
        return str(next(getattr(self, name) for name in ADDRESSES if getattr(self, name) is not None))

    @property
    def country(self) -> str:
        """A delegation's country; empty for other records."""
        return self.delegation.country if self.delegation is not None else ""

    @property
    def is_fact(self) -> bool:
        return self.field in FACTS[self.kind]


class Editorial(BaseModel):
    """The editors' file: decisions of the team that publishes the database, not any source's report."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: Key = Field(description="Unique across sources and editorial files.")
    decisions: list[Decision] = Field(default_factory=list)


class EditorialFile(BaseModel):
    """A seed file of the editors' decisions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    editorial: Editorial


RECORD_TYPES: dict[str, type[Record]] = {
    "sources": Source,
    "persons": Person,
    "organizations": Organization,
    "topics": Topic,
    "meetings": Meeting,
    "statements": Statement,
}


def seed_json_schema() -> dict[str, Any]:
    """The JSON Schema of a seed file (a source's report or the editors' decisions), for editors; committed as
    `schema/seed.schema.json`."""
    schema = TypeAdapter(SeedFile | EditorialFile).json_schema()
    schema["oneOf"] = schema.pop("anyOf")  # a file is one or the other: `source` and `editorial` exclude each other
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Diplo seed file"
    return schema
