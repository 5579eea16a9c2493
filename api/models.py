"""The seed models: one pydantic model per record type, carrying every record rule.

Each rule raises `PydanticCustomError` with its code from `api.rules`, so a validation error's `type` is the
rule code; anything else pydantic reports (missing field, wrong type, unknown field) is `seed.schema`.
"""

import datetime as dt
import functools
import re
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

KEY_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
KEY_MAX_LENGTH = 80
STATEMENT_MAX_LENGTH = 5000
# RFC 5646 language tag, without the grandfathered irregular tags nobody writes any more.
BCP47_PATTERN = re.compile(
    r"^(?P<language>[a-zA-Z]{2,3})(-[a-zA-Z]{3}){0,3}(-[a-zA-Z]{4})?(-([a-zA-Z]{2}|[0-9]{3}))?"
    r"(-([a-zA-Z0-9]{5,8}|[0-9][a-zA-Z0-9]{3}))*(-[0-9a-wyzA-WYZ](-[a-zA-Z0-9]{2,8})+)*(-x(-[a-zA-Z0-9]{1,8})+)?$"
)
WIKIDATA_PATTERN = re.compile(r"^Q[1-9][0-9]*$")


# Unicode's control characters (category Cc) and lone surrogates (Cs, which UTF-8 and so SQLite cannot store),
# as regexes, one per set of allowed exceptions: a regex scans text ~50x faster than a per-character check.
_BAD = {
    allowed: re.compile("[" + "".join(
        re.escape(chr(n)) for n in [*range(0x20), *range(0x7F, 0xA0)] if chr(n) not in allowed
    ) + "\ud800-\udfff]")
    for allowed in ("", "\n\t", "\n\r\t")
}  # fmt: skip


def _bad_characters(value: str, allowed: str) -> bool:
    """Whether `value` has a control character (other than `allowed`) or a lone surrogate."""
    return _BAD[allowed].search(value) is not None


def check_key(value: str) -> str:
    if len(value) > KEY_MAX_LENGTH or not KEY_PATTERN.match(value):
        raise PydanticCustomError(
            "key.format",
            "key '{key}' is not a kebab-case slug of at most 80 characters",
            {"key": value[:100]},
        )
    return value


@functools.lru_cache(maxsize=1024)
def check_country(value: str) -> str:
    if len(value) != 2 or not value.isupper() or pycountry.countries.get(alpha_2=value) is None:
        raise PydanticCustomError(
            "country.invalid", "'{value}' is not an ISO 3166-1 alpha-2 country code", {"value": value[:100]}
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
            "'{value}' is not a BCP 47 language tag with an ISO 639 primary subtag",
            {"value": value[:100]},
        )
    return value


def check_label(value: str) -> str:
    if not value.strip() or _bad_characters(value, ""):
        raise PydanticCustomError("text.invalid", "must be non-empty single-line text without control characters")
    return value


def check_long_text(value: str) -> str:
    if _bad_characters(value, "\n\r\t"):
        raise PydanticCustomError("text.invalid", "must not contain control characters or lone surrogates")
    return value


def check_statement_text(value: str) -> str:
    if not value.strip() or _bad_characters(value, "\n\t") or len(value) > STATEMENT_MAX_LENGTH:
        raise PydanticCustomError(
            "statement.text",
            "must be non-empty after trimming, without control characters, at most 5,000 characters",
        )
    return value


def check_wikidata(value: str) -> str:
    if not WIKIDATA_PATTERN.match(value):
        raise PydanticCustomError(
            "wikidata.invalid", "'{value}' is not a Wikidata id like Q7747", {"value": value[:100]}
        )
    return value


def check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or _bad_characters(value, "") or " " in value:
        raise PydanticCustomError("source.url", "'{value}' is not an absolute http(s) URL", {"value": value[:200]})
    return value


# WithJsonSchema: editors see the same constraints in schema/seed.schema.json that the validators enforce.
Key = Annotated[
    str,
    AfterValidator(check_key),
    WithJsonSchema({"type": "string", "pattern": KEY_PATTERN.pattern, "maxLength": KEY_MAX_LENGTH}),
]
Country = Annotated[
    str,
    AfterValidator(check_country),
    WithJsonSchema({"type": "string", "pattern": "^[A-Z]{2}$", "description": "ISO 3166-1 alpha-2"}),
]
Language = Annotated[str, AfterValidator(check_language)]
Label = Annotated[str, AfterValidator(check_label)]
LongText = Annotated[str, AfterValidator(check_long_text)]
StatementText = Annotated[str, AfterValidator(check_statement_text)]
WikidataId = Annotated[
    str, AfterValidator(check_wikidata), WithJsonSchema({"type": "string", "pattern": WIKIDATA_PATTERN.pattern})
]
Url = Annotated[str, AfterValidator(check_url), WithJsonSchema({"type": "string", "format": "uri"})]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, use_enum_values=False)

    key: Key


class Source(Record):
    """A published document that reports meetings and statements."""

    outlet: Label
    title: Label
    url: Url | None = None
    published_at: dt.datetime = Field(description="Publication time, with its timezone offset.")
    language: Language
    dateline: Label | None = None
    via: list[Label] = Field(
        default_factory=list,
        description="Attribution chain, nearest first: the outlet quotes via[0], which quotes via[1], ...",
    )
    text: LongText | None = Field(default=None, description="Full text; direct quotes are checked against it.")

    @field_validator("published_at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise PydanticCustomError("source.naive_datetime", "published_at must carry a timezone offset")
        return value


class Person(Record):
    name: Label
    country: Country | None = None
    wikidata: WikidataId | None = None


class Organization(Record):
    name: Label
    country: Country | None = None
    wikidata: WikidataId | None = None


class Topic(Record):
    label: Label = Field(description="English label.")
    labels: dict[Language, Label] = Field(default_factory=dict, description="Labels in other languages.")


class MeetingStatus(StrEnum):
    held = "held"
    planned = "planned"


class MeetingFormat(StrEnum):
    in_person = "in_person"
    phone_call = "phone_call"
    video_call = "video_call"


class StatementKind(StrEnum):
    direct_quote = "direct_quote"
    paraphrase = "paraphrase"


class Delegation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    country: Country
    head: Key | None = None
    head_role: Label | None = None
    members: list[Key] = Field(default_factory=list)


class Meeting(Record):
    """One source's report of a meeting; the record is the merge of every source's report (`api.merge`)."""

    title: Label | None = Field(default=None, description="Required of the merged record: some report gives it.")
    status: MeetingStatus
    format: MeetingFormat | None = Field(default=None, description="Required of the merged record.")
    date: dt.date | None = Field(default=None, description="Required of the merged record when it is held.")
    city: Label | None = None
    host_country: Country | None = None
    round: int | None = Field(default=None, ge=1)
    follows: Key | None = Field(default=None, description="Key of the meeting this one follows up.")
    summary: LongText | None = None
    topics: list[Key] = Field(default_factory=list)
    sources: list[Key] = Field(
        default_factory=list, description="Optional: the file's own source, the one that reports this meeting."
    )
    delegations: list[Delegation]

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
    text: StatementText
    language: Language
    kind: StatementKind
    translations: dict[Language, StatementText] = Field(default_factory=dict)
    date: dt.date | None = None
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


RECORD_TYPES: dict[str, type[Record]] = {
    "sources": Source,
    "persons": Person,
    "organizations": Organization,
    "topics": Topic,
    "meetings": Meeting,
    "statements": Statement,
}


def seed_json_schema() -> dict[str, Any]:
    """The JSON Schema of a seed file, for editors; committed as `schema/seed.schema.json`."""
    schema = SeedFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Diplo seed file"
    return schema
