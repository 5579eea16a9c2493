"""The facts both sides of Diplo share, stated once: the enums' values, the key format, the text limits and the
characters text may not hold, and the country names. The seed models (write side), the store's constraints and the
GraphQL types (read side) import them from here; nothing here imports pydantic or strawberry."""

import re
import unicodedata
from enum import StrEnum

import pycountry


class MeetingStatus(StrEnum):
    HELD = "held"
    PLANNED = "planned"


class MeetingFormat(StrEnum):
    IN_PERSON = "in_person"
    PHONE_CALL = "phone_call"
    VIDEO_CALL = "video_call"


class StatementKind(StrEnum):
    DIRECT_QUOTE = "direct_quote"
    PARAPHRASE = "paraphrase"


class DatePrecision(StrEnum):
    """How precisely a date is known: one day, one month, one year, or a range between two days (either open)."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    RANGE = "range"


class Basis(StrEnum):
    """How a fact is known from its source."""

    STATED = "stated"  # the source's words say it (quoted)
    INFERRED = "inferred"  # derived from the words by reasoning (a weekday resolved to a date)
    ASSUMED = "assumed"  # not in the source at all (the planned meeting's format)
    EXTERNAL = "external"  # from a reference outside the source (a Wikidata id)


# Evidence names a field as the seed file does; the API names it as GraphQL does: camel case, and these.
GRAPHQL_FIELD_NAMES = {
    "follows": "previous",
    "wikidata": "wikidataId",
    "translations": "translation",
    "labels": "label",
}


def graphql_field_name(seed_field: str) -> str:
    """The GraphQL name of a record's field, from its seed name (`host_country` is `hostCountry`)."""
    head, *rest = seed_field.split("_")
    return GRAPHQL_FIELD_NAMES.get(seed_field, head + "".join(part.capitalize() for part in rest))


# Keys: kebab-case slugs, stable across loads, the last part of every global id.
KEY_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
KEY_MAX_LENGTH = 80

# The largest integer a seed file gives (a meeting's round): GraphQL's Int, which serves it, is 32-bit, and well
# inside SQLite's 64-bit INTEGER, which stores it (a larger Python int cannot even be bound to a statement).
INT_MAX = 2**31 - 1
# The most keys one record's `distinct_from` names: a person is not mistaken for more than a handful of others.
DISTINCT_FROM_MAX = 100

# Evidence quotes: the characters of the source's text kept before and after each (W3C Web Annotation's TextQuote
# selector), and the most quotes one fact cites.
QUOTE_CONTEXT = 32
QUOTES_MAX = 20
# The records evidence is kept for, as the store names them (a delegation's record is `meeting/country`).
# The record types an editorial decision addresses, by their seed list (a delegation by meeting and country).
DECISION_KINDS = ("persons", "organizations", "topics", "meetings", "delegations", "statements")
EVIDENCE_KINDS = ("source", "person", "organization", "topic", "meeting", "delegation", "statement")

# Text limits, in characters (code points, as Python's len() and SQLite's length() count): generous for any real
# name or article, small enough that one hostile value cannot fill memory or a page of API output.
LABEL_MAX_LENGTH = 500  # names, titles, labels, roles, outlets, cities, occasions, datelines, `via` entries
STATEMENT_MAX_LENGTH = 5000  # a statement's text and each of its translations
SUMMARY_MAX_LENGTH = 10_000  # a meeting's summary
SOURCE_TEXT_MAX_LENGTH = 1_000_000  # a source's full text: a long article is ~100,000

# Unicode's control characters (category Cc).
CONTROL_CHARACTERS = "".join(chr(n) for n in [*range(0x20), *range(0x7F, 0xA0)])
# Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) reorder how the text around them
# displays, so a name can read as something other than what it is ("Trojan Source"). The marks U+200E, U+200F and
# U+061C, which mixed-direction text does need, are not among them.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Characters that show nothing: soft hyphen, combining grapheme joiner, Arabic letter mark, Hangul fillers,
# Mongolian vowel separator, zero-width space, ZWNJ, ZWJ, direction marks, word joiner, invisible operators, BOM.
# Persian, Indic and mixed-direction text needs some of them inside words, so they are refused only as all there is.
INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\u3164\ufeff\uffa0"
)
# What text must not be only of: whitespace (as str.isspace() and regex `\s` mean it) and the invisible characters.
BLANK = "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + INVISIBLE

# The English short name of each ISO 3166-1 country: the store writes it to a table the compiled read path reads,
# and the resolver path reads it here, so both answer the same name.
COUNTRY_NAMES: dict[str, str] = {c.alpha_2: c.name for c in pycountry.countries}


def fold(text: str) -> str:
    """Text as names are sorted by: case and accents folded (`Žukov` as `zukov`), as the full-text index's tokenizer
    (`unicode61 remove_diacritics 2`) folds the words it searches."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()
