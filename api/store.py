"""The SQLite store: its schema (mirroring the seed rules as constraints) and the one way rows are written.

The tables are written only by `diplo.ingest.session` (through `replace_rows`), read by `diplo.graphql.queries` and
`diplo.ingest.export`.
"""

import errno
import functools
import hashlib
import json
import operator
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar, overload

from sqlite_utils import Database

from .vocabulary import (
    BIDI_CONTROLS,
    BLANK,
    COUNTRY_NAMES,
    DECISION_KINDS,
    EVIDENCE_KINDS,
    KEY_MAX_LENGTH,
    LABEL_MAX_LENGTH,
    QUOTE_CONTEXT,
    SOURCE_TEXT_MAX_LENGTH,
    STATEMENT_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
    Basis,
    DatePrecision,
    MeetingFormat,
    MeetingStatus,
    StatementKind,
)

# 5: evidence, the sources' retrieval time, archive and text digest; 6: dates as spans (EDTF), day-only
# publication, searching and sorting by name, editorial decisions and disputes; 7: statements reported by many sources
SCHEMA_VERSION = 7
# The build id: a hash of the loaded content, that is of each source's report (what a seed file gives), kept one
# digest per source so that a load rehashes only the digests, never the data (`record_build`); one row for a server
# to tell "same data" by one small read (HTTP ETags). Created by loads into older files too.
BUILD_TABLES = [
    "CREATE TABLE IF NOT EXISTS build (id TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS source_digests (source TEXT PRIMARY KEY, digest TEXT NOT NULL) WITHOUT ROWID",
]

# Key format as a CHECK: kebab-case, no leading/trailing/double hyphen, at most KEY_MAX_LENGTH characters. Text
# functions stop at a NUL byte; equal byte and character lengths rule out NULs (and anything outside ASCII).
_KEY = (
    f"CHECK (length({{c}}) BETWEEN 1 AND {KEY_MAX_LENGTH} AND length(CAST({{c}} AS BLOB)) = length({{c}}) "
    "AND {c} NOT GLOB '*[^a-z0-9-]*' AND {c} NOT GLOB '-*' AND {c} NOT GLOB '*-' AND {c} NOT GLOB '*--*')"
)
_COUNTRY = "CHECK ({c} IS NULL OR (length(CAST({c} AS BLOB)) = 2 AND {c} GLOB '[A-Z][A-Z]'))"
# date() alone keeps '2025-02-30'; the '+0 days' modifier normalises it to '2025-03-02', which then differs.
_DATE = "CHECK ({c} IS NULL OR ({c} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' AND date({c}, '+0 days') = {c}))"
# A source's publication: a date-time with its offset, or a day when the source gives no time.
_PUBLISHED = (
    "CHECK (published_at GLOB '*[+-][0-9][0-9]:[0-9][0-9]' OR (published_at GLOB "
    "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' AND date(published_at, '+0 days') = published_at))"
)
_WIKIDATA = (
    "CHECK ({c} IS NULL OR ({c} GLOB 'Q[1-9]*' AND substr({c}, 2) NOT GLOB '*[^0-9]*' "
    "AND length(CAST({c} AS BLOB)) = length({c})))"
)


def _chars(chars: Iterable[str]) -> str:
    """SQL for a string of `chars` (which may be invisible or control characters), by its UTF-8 bytes: a third of
    what `char(8234, 8235, ...)` costs, a function call on every row a CHECK is evaluated for."""
    return f"CAST(x'{''.join(chars).encode().hex()}' AS TEXT)"


def _none_of(chars: str) -> str:
    """SQL that `{c}` contains none of `chars`, by their UTF-8 bytes: instr() over a BLOB is a byte search, ~2x
    faster than a GLOB character class (which tries each item at each character) or instr() over text. The bytes
    the characters begin with are looked for first: most texts have none of them, and are settled by those
    searches alone (the bidirectional controls: two, not nine)."""
    each = " AND ".join(f"instr(CAST({{c}} AS BLOB), x'{c.encode().hex()}') = 0" for c in chars)
    leads = sorted({c.encode()[:2] for c in chars})
    if len(leads) == len(chars):
        return each
    first = " AND ".join(f"instr(CAST({{c}} AS BLOB), x'{lead.hex()}') = 0" for lead in leads)
    return f"(({first}) OR ({each}))"


def _text(limit: int) -> str:
    """The text rules of `diplo.ingest.models._text_problem` as a CHECK: at most `limit` characters, no NUL (which also
    ends what length() counts) nor bidirectional control, not empty once whitespace and invisible characters are
    trimmed. The other control characters are left to the models: a GLOB class for them costs ~10% of a large load. A
    CHECK that gives NULL passes, so an optional column needs no `IS NULL OR`."""
    return (
        f"CHECK (length({{c}}) <= {limit} AND instr({{c}}, char(0)) = 0 AND {_none_of(BIDI_CONTROLS)} "
        f"AND trim({{c}}, {_chars(BLANK)}) <> '')"
    )


_LABEL = _text(LABEL_MAX_LENGTH)
_SOURCE_TEXT = _text(SOURCE_TEXT_MAX_LENGTH)
_SUMMARY = _text(SUMMARY_MAX_LENGTH)
_STATEMENT_TEXT = _text(STATEMENT_MAX_LENGTH)
# JSON of texts (`via`, `labels`, `aliases`, `translations`): a CHECK cannot look into each value (no subqueries),
# but the JSON is stored unescaped (`to_json`), so a bidirectional control shows in its bytes.
_JSON_TEXTS = f"CHECK (json_valid({{c}}) AND {_none_of(BIDI_CONTROLS)})"


def _c(template: str, column: str) -> str:
    return template.format(c=column)


_SOURCE = "source TEXT NOT NULL REFERENCES sources(key) DEFERRABLE INITIALLY DEFERRED"


def one_of(values: type[StrEnum]) -> str:
    """`IN (...)` of an enum's stored values."""
    return "IN (" + ", ".join(f"'{v.value}'" for v in values) + ")"


_HELD_DATED = f"CHECK (status <> '{MeetingStatus.HELD}' OR date IS NOT NULL)"


def _span(column: str = "date") -> str:
    """The columns of a date (`diplo.dates.Span`): its EDTF text in `column`, its earliest and latest day (NULL: an
    open end), precision and qualifiers, and `{column}_day`, the day when the span is one. The qualifiers and
    whether it is a range are mirrored from the text."""
    c = column
    return f"""{c} TEXT CHECK ({c} IS NULL OR length({c}) BETWEEN 4 AND 23),
        {c}_earliest TEXT {_c(_DATE, f"{c}_earliest")},
        {c}_latest TEXT {_c(_DATE, f"{c}_latest")} CHECK ({c}_latest >= {c}_earliest),
        {c}_precision TEXT CHECK ({c}_precision {one_of(DatePrecision)})
            CHECK (({c} IS NULL) = ({c}_precision IS NULL))
            CHECK (({c}_precision = '{DatePrecision.RANGE}') = (instr({c}, '/') > 0))
            CHECK ({c} IS NULL OR {c}_earliest IS NOT NULL OR {c}_latest IS NOT NULL),
        {c}_approximate INTEGER NOT NULL DEFAULT 0 CHECK ({c}_approximate = ({c} GLOB '*[~%]')),
        {c}_uncertain INTEGER NOT NULL DEFAULT 0 CHECK ({c}_uncertain = ({c} GLOB '*[?%]')),
        {c}_day TEXT GENERATED ALWAYS AS (CASE WHEN {c}_earliest = {c}_latest THEN {c}_earliest END) VIRTUAL"""


def date_order(direction: str, alias: str = "") -> str:
    """The sort key of a listing by date (`ASC` or `DESC`), over the row `alias` (none in an index): by earliest day,
    then latest (an open end last), and records without an earliest day after all others both ways. The store
    indexes it; keyset pages walk that index."""
    a = f"{alias}." if alias else ""
    undated = "'~'" if direction == "ASC" else "''"
    return f"ifnull({a}date_earliest || ifnull({a}date_latest, '~'), {undated})"


# Report order: by publication day in the source's own offset, a day-only source after the timed ones of its day,
# then the instant, then the key; the columns of `sources` (aliased `{s}`) to sort by.
REPORT_ORDER = "substr({s}.published_at, 1, 10), length({s}.published_at) = 10, julianday({s}.published_at), {s}.key"
_STATUS = f"CHECK (status {one_of(MeetingStatus)})"
_FORMAT = f"CHECK (format {one_of(MeetingFormat)})"


# The published name or label folded (`vocabulary.fold`), which listings sort by name on (indexed with the key).
_SORT_NAME = "sort_name TEXT NOT NULL"
NAMED = ("persons", "organizations", "topics")  # the tables that have it


def _ref(table: str) -> str:
    return f"REFERENCES {table}(key) DEFERRABLE INITIALLY DEFERRED"


def _every(value: str, reports: str, column: str) -> str:
    """SQL: `value` (over a report `x`) of every report of the record `r`, a line each."""
    return f"(SELECT ifnull(group_concat({value}, char(10)), '') FROM {reports} x WHERE x.{column} = r.key)"


def _values(column: str) -> str:
    """SQL: the values of the JSON object in `column`, a line each."""
    return f"(SELECT ifnull(group_concat(value, char(10)), '') FROM json_each({column}))"


# The records a listing finds by words (`filter.search`), with the columns of their full-text index, `TABLE_fts`,
# and what each holds: every report's wording, so a record is found by any name a source gave it.
SEARCHED: dict[str, dict[str, str]] = {
    "persons": {"names": _every("x.name", "person_reports", "person")},
    "organizations": {"names": _every("x.name", "organization_reports", "organization")},
    "topics": {"labels": _every(f"x.label || char(10) || {_values('x.labels')}", "topic_reports", "topic")},
    "meetings": {
        "title": _every("x.title", "meeting_reports", "meeting"),
        "summary": _every("x.summary", "meeting_reports", "meeting"),
    },
}
# Words folded for case and accents, in every full-text index.
SEARCH_TOKENIZER = "tokenize = 'unicode61 remove_diacritics 2'"


def search_index(table: str) -> str:
    return f"{table}_fts"


def _search_index(table: str) -> list[str]:
    """The full-text index of `table` (rowid = the record's rowid), with prefixes of 2 and 3 characters indexed (a
    typeahead's last word is one): rows are written by `index_records`, and removed with their record by the trigger."""
    index = search_index(table)
    return [
        f"CREATE VIRTUAL TABLE {index} USING fts5({', '.join(SEARCHED[table])}, prefix = '2 3', {SEARCH_TOKENIZER})",
        f"CREATE TRIGGER {index}_delete AFTER DELETE ON {table} BEGIN DELETE FROM {index} WHERE rowid = old.rowid; END",
    ]


# A statement's columns, in a report and in the merged record alike.
_STATEMENT = f"""text TEXT NOT NULL {_c(_STATEMENT_TEXT, "text")},
        language TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind {one_of(StatementKind)}),
        translations TEXT NOT NULL DEFAULT '{{}}' {_c(_JSON_TEXTS, "translations")},
        {_span()},
        speaker TEXT {_ref("persons")},
        organization TEXT {_ref("organizations")},
        meeting TEXT {_ref("meetings")},
        occasion TEXT {_c(_LABEL, "occasion")}"""

# Two layers. Reports: what each source said, exactly as its seed file says it; a load replaces one source's
# reports and nothing else. Records: the merge of every source's reports (api.merge), rewritten for the keys
# whose reports changed; the GraphQL API reads records, and reports for provenance. References point at records.
DDL = [
    f"""CREATE TABLE sources (
        key TEXT PRIMARY KEY {_c(_KEY, "key")},
        outlet TEXT NOT NULL {_c(_LABEL, "outlet")},
        title TEXT NOT NULL {_c(_LABEL, "title")},
        url TEXT CHECK (url IS NULL OR url GLOB 'http://?*' OR url GLOB 'https://?*'),
        published_at TEXT NOT NULL {_c(_PUBLISHED, "published_at")},
        language TEXT NOT NULL,
        dateline TEXT {_c(_LABEL, "dateline")},
        via TEXT NOT NULL DEFAULT '[]' {_c(_JSON_TEXTS, "via")},
        text TEXT {_c(_SOURCE_TEXT, "text")},
        retrieved_at TEXT CHECK (retrieved_at IS NULL OR retrieved_at GLOB '*[+-][0-9][0-9]:[0-9][0-9]'),
        archive_url TEXT CHECK (archive_url IS NULL OR archive_url GLOB 'http://?*' OR archive_url GLOB 'https://?*'),
        text_sha256 TEXT CHECK (text_sha256 IS NULL OR (length(text_sha256) = 64 AND text_sha256 NOT GLOB '*[^0-9a-f]*')
        ),
        -- The publication day in the source's own offset, as a span of one day; and an instant (a day-only source's
        -- is the start of its day at +00:00), what `Source.publishedAt` gives.
        published TEXT GENERATED ALWAYS AS (substr(published_at, 1, 10)) VIRTUAL,
        published_precision TEXT GENERATED ALWAYS AS ('{DatePrecision.DAY}') VIRTUAL,
        published_qualified INTEGER GENERATED ALWAYS AS (0) VIRTUAL,
        published_instant TEXT GENERATED ALWAYS AS (
            CASE WHEN length(published_at) = 10 THEN published_at || 'T00:00:00+00:00' ELSE published_at END
        ) VIRTUAL
    )""",
    # --- evidence: how each fact of a source's report is known (`ingest/evidence.py`) ---
    f"""CREATE TABLE evidence (
        {_SOURCE},
        kind TEXT NOT NULL CHECK (kind IN ({", ".join(f"'{k}'" for k in EVIDENCE_KINDS)})),
        record TEXT NOT NULL,
        seed_field TEXT NOT NULL,
        field TEXT NOT NULL,
        position INTEGER NOT NULL,
        basis TEXT NOT NULL CHECK (basis {one_of(Basis)}),
        note TEXT {_c(_SUMMARY, "note")},
        -- Derived at load (an undated statement's date, no later than its source), never in a seed file or export.
        derived INTEGER NOT NULL DEFAULT 0 CHECK (derived IN (0, 1)),
        CHECK (basis = '{Basis.STATED}' OR note IS NOT NULL),
        PRIMARY KEY (source, kind, record, seed_field)
    ) WITHOUT ROWID""",
    f"""CREATE TABLE evidence_quotes (
        {_SOURCE},
        kind TEXT NOT NULL,
        record TEXT NOT NULL,
        seed_field TEXT NOT NULL,
        position INTEGER NOT NULL,
        exact TEXT NOT NULL CHECK (length(exact) > 0),
        prefix TEXT NOT NULL CHECK (length(prefix) <= {QUOTE_CONTEXT}),
        suffix TEXT NOT NULL CHECK (length(suffix) <= {QUOTE_CONTEXT}),
        start_offset INTEGER NOT NULL CHECK (start_offset >= 0),
        end_offset INTEGER NOT NULL CHECK (end_offset - start_offset = length(exact)),
        PRIMARY KEY (source, kind, record, seed_field, position),
        FOREIGN KEY (source, kind, record, seed_field) REFERENCES evidence(source, kind, record, seed_field)
            DEFERRABLE INITIALLY DEFERRED
    ) WITHOUT ROWID""",
    # --- reports ---
    *(
        f"""CREATE TABLE {record}_reports (
        {record} TEXT NOT NULL {_c(_KEY, record)},
        {_SOURCE},
        name TEXT NOT NULL {_c(_LABEL, "name")},
        country TEXT {_c(_COUNTRY, "country")},
        wikidata TEXT {_c(_WIKIDATA, "wikidata")},
        distinct_from TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(distinct_from)),
        -- The name's consonant skeleton (diplo.duplicates), indexed: a new key finds the names close to its own.
        skeleton TEXT NOT NULL,
        PRIMARY KEY ({record}, source)
    ) WITHOUT ROWID"""
        for record in ("person", "organization")
    ),
    f"""CREATE TABLE topic_reports (
        topic TEXT NOT NULL {_c(_KEY, "topic")},
        {_SOURCE},
        label TEXT NOT NULL {_c(_LABEL, "label")},
        labels TEXT NOT NULL DEFAULT '{{}}' {_c(_JSON_TEXTS, "labels")},
        PRIMARY KEY (topic, source)
    ) WITHOUT ROWID""",
    f"""CREATE TABLE meeting_reports (
        meeting TEXT NOT NULL {_c(_KEY, "meeting")},
        {_SOURCE},
        title TEXT {_c(_LABEL, "title")},
        status TEXT NOT NULL {_STATUS},
        format TEXT CHECK (format IS NULL OR format {one_of(MeetingFormat)}),
        {_span()},
        city TEXT {_c(_LABEL, "city")},
        host_country TEXT {_c(_COUNTRY, "host_country")},
        round INTEGER CHECK (round IS NULL OR round >= 1),
        follows TEXT {_ref("meetings")} CHECK (follows <> meeting),
        summary TEXT {_c(_SUMMARY, "summary")},
        PRIMARY KEY (meeting, source)
    ) WITHOUT ROWID""",
    f"""CREATE TABLE meeting_report_topics (
        meeting TEXT NOT NULL,
        {_SOURCE},
        position INTEGER NOT NULL,
        topic TEXT NOT NULL {_ref("topics")},
        PRIMARY KEY (meeting, source, position),
        FOREIGN KEY (meeting, source) REFERENCES meeting_reports(meeting, source) DEFERRABLE INITIALLY DEFERRED
    ) WITHOUT ROWID""",
    f"""CREATE TABLE delegation_reports (
        meeting TEXT NOT NULL,
        {_SOURCE},
        country TEXT NOT NULL {_c(_COUNTRY, "country")},
        position INTEGER NOT NULL,
        head TEXT {_ref("persons")},
        head_role TEXT {_c(_LABEL, "head_role")},
        PRIMARY KEY (meeting, source, country),
        FOREIGN KEY (meeting, source) REFERENCES meeting_reports(meeting, source) DEFERRABLE INITIALLY DEFERRED
    ) WITHOUT ROWID""",
    f"""CREATE TABLE delegation_report_members (
        meeting TEXT NOT NULL,
        {_SOURCE},
        country TEXT NOT NULL,
        position INTEGER NOT NULL,
        person TEXT NOT NULL {_ref("persons")},
        PRIMARY KEY (meeting, source, country, position),
        FOREIGN KEY (meeting, source, country) REFERENCES delegation_reports(meeting, source, country)
            DEFERRABLE INITIALLY DEFERRED
    ) WITHOUT ROWID""",
    # A statement as one source reports it; several sources may report one statement (merged into `statements`).
    f"""CREATE TABLE statement_reports (
        statement TEXT NOT NULL {_c(_KEY, "statement")},
        {_SOURCE},
        {_STATEMENT},
        CHECK (speaker IS NOT NULL OR organization IS NOT NULL),
        PRIMARY KEY (statement, source)
    ) WITHOUT ROWID""",
    f"""CREATE TABLE statement_report_topics (
        statement TEXT NOT NULL,
        {_SOURCE},
        position INTEGER NOT NULL,
        topic TEXT NOT NULL {_ref("topics")},
        PRIMARY KEY (statement, source, position),
        FOREIGN KEY (statement, source) REFERENCES statement_reports(statement, source) DEFERRABLE INITIALLY DEFERRED
    ) WITHOUT ROWID""",
    # A statement: the merge of its reports (`ingest/merge.py`). Its text, language and kind are a direct quote's
    # in preference to a paraphrase, then the earliest report's; `source` is the earliest report's source.
    f"""CREATE TABLE statements (
        key TEXT PRIMARY KEY {_c(_KEY, "key")},
        {_STATEMENT},
        {_SOURCE},
        -- When it was said, as `Statement.when` gives it: its date, or, undated, no later than it was reported
        -- (`reported_on`, the publication day of the latest-published source reporting it). Not a reported date:
        -- filters and order ignore it.
        reported_on TEXT NOT NULL {_c(_DATE, "reported_on")},
        when_edtf TEXT GENERATED ALWAYS AS (coalesce(date, '../' || reported_on)) VIRTUAL,
        when_latest TEXT GENERATED ALWAYS AS (CASE WHEN date IS NULL THEN reported_on ELSE date_latest END) VIRTUAL,
        when_precision TEXT GENERATED ALWAYS AS (coalesce(date_precision, '{DatePrecision.RANGE}')) VIRTUAL,
        CHECK (speaker IS NOT NULL OR organization IS NOT NULL)
    )""",
    f"""CREATE TABLE statement_topics (
        statement TEXT NOT NULL {_ref("statements")},
        position INTEGER NOT NULL,
        topic TEXT NOT NULL {_ref("topics")},
        PRIMARY KEY (statement, position)
    ) WITHOUT ROWID""",
    # The sources reporting each statement, in report order.
    f"""CREATE TABLE statement_sources (
        statement TEXT NOT NULL {_ref("statements")},
        position INTEGER NOT NULL,
        {_SOURCE},
        PRIMARY KEY (statement, position),
        FOREIGN KEY (statement, source) REFERENCES statement_reports(statement, source) DEFERRABLE INITIALLY DEFERRED
    ) WITHOUT ROWID""",
    # Full-text index of statement text and translations (rowid = statements.rowid): rows are added by
    # `index_statements` and removed by the trigger below.
    f"CREATE VIRTUAL TABLE statements_fts USING fts5(text, translations, {SEARCH_TOKENIZER})",
    """CREATE TRIGGER statements_fts_delete AFTER DELETE ON statements BEGIN
        DELETE FROM statements_fts WHERE rowid = old.rowid;
    END""",
    # --- records: merged from the reports ---
    *(
        f"""CREATE TABLE {table} (
        key TEXT PRIMARY KEY {_c(_KEY, "key")},
        name TEXT NOT NULL {_c(_LABEL, "name")},
        {_SORT_NAME},
        aliases TEXT NOT NULL DEFAULT '[]' {_c(_JSON_TEXTS, "aliases")},
        country TEXT {_c(_COUNTRY, "country")},
        wikidata TEXT {_c(_WIKIDATA, "wikidata")}
    )"""
        for table in ("persons", "organizations")
    ),
    f"""CREATE TABLE topics (
        key TEXT PRIMARY KEY {_c(_KEY, "key")},
        label TEXT NOT NULL {_c(_LABEL, "label")},
        {_SORT_NAME},
        labels TEXT NOT NULL DEFAULT '{{}}' {_c(_JSON_TEXTS, "labels")}
    )""",
    f"""CREATE TABLE meetings (
        key TEXT PRIMARY KEY {_c(_KEY, "key")},
        title TEXT NOT NULL {_c(_LABEL, "title")},
        status TEXT NOT NULL {_STATUS},
        format TEXT NOT NULL {_FORMAT},
        {_span()},
        city TEXT {_c(_LABEL, "city")},
        host_country TEXT {_c(_COUNTRY, "host_country")},
        round INTEGER CHECK (round IS NULL OR round >= 1),
        follows TEXT {_ref("meetings")} CHECK (follows <> key),
        summary TEXT {_c(_SUMMARY, "summary")},
        {_HELD_DATED}
    )""",
    f"""CREATE TABLE meeting_topics (
        meeting TEXT NOT NULL {_ref("meetings")},
        position INTEGER NOT NULL,
        topic TEXT NOT NULL {_ref("topics")},
        PRIMARY KEY (meeting, position)
    ) WITHOUT ROWID""",
    # The sources reporting a meeting, in report order (publication time, then source key).
    f"""CREATE TABLE meeting_sources (
        meeting TEXT NOT NULL {_ref("meetings")},
        position INTEGER NOT NULL,
        {_SOURCE},
        PRIMARY KEY (meeting, position),
        FOREIGN KEY (meeting, source) REFERENCES meeting_reports(meeting, source) DEFERRABLE INITIALLY DEFERRED
    ) WITHOUT ROWID""",
    f"""CREATE TABLE delegations (
        meeting TEXT NOT NULL {_ref("meetings")},
        country TEXT NOT NULL {_c(_COUNTRY, "country")},
        position INTEGER NOT NULL,
        head TEXT {_ref("persons")},
        head_role TEXT {_c(_LABEL, "head_role")},
        PRIMARY KEY (meeting, country)
    ) WITHOUT ROWID""",
    f"""CREATE TABLE delegation_members (
        meeting TEXT NOT NULL,
        country TEXT NOT NULL,
        position INTEGER NOT NULL,
        person TEXT NOT NULL {_ref("persons")},
        PRIMARY KEY (meeting, country, position),
        FOREIGN KEY (meeting, country) REFERENCES delegations(meeting, country) DEFERRABLE INITIALLY DEFERRED
    ) WITHOUT ROWID""",
    # The sources stating a delegation, in report order.
    """CREATE TABLE delegation_sources (
        meeting TEXT NOT NULL,
        country TEXT NOT NULL,
        position INTEGER NOT NULL,
        source TEXT NOT NULL,
        PRIMARY KEY (meeting, country, position),
        FOREIGN KEY (meeting, country) REFERENCES delegations(meeting, country) DEFERRABLE INITIALLY DEFERRED,
        FOREIGN KEY (meeting, source, country) REFERENCES delegation_reports(meeting, source, country)
            DEFERRABLE INITIALLY DEFERRED
    ) WITHOUT ROWID""",
    *(statement for table in SEARCHED for statement in _search_index(table)),
    # --- the editors' decisions (`editorial:` seed files): not a source's report, loaded per file like one ---
    f"""CREATE TABLE editorials (key TEXT PRIMARY KEY {_c(_KEY, "key")}) WITHOUT ROWID""",
    f"""CREATE TABLE decisions (
        editorial TEXT NOT NULL REFERENCES editorials(key) DEFERRABLE INITIALLY DEFERRED,
        position INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ({", ".join(f"'{k}'" for k in DECISION_KINDS)})),
        record TEXT NOT NULL {_c(_KEY, "record")},
        country TEXT NOT NULL CHECK (country = '' OR country GLOB '[A-Z][A-Z]'),
        seed_field TEXT NOT NULL,
        field TEXT NOT NULL,
        prefer TEXT NOT NULL {_c(_SUMMARY, "prefer")},
        note TEXT NOT NULL {_c(_SUMMARY, "note")},
        PRIMARY KEY (editorial, position)
    ) WITHOUT ROWID""",
    # Facts the reports disagree on and a decision settles, merged with their record (`kind`: its seed list;
    # a delegation's `record` is its meeting's key and `country` its country, '' for other records).
    """CREATE TABLE disputes (
        kind TEXT NOT NULL,
        record TEXT NOT NULL,
        country TEXT NOT NULL,
        seed_field TEXT NOT NULL,
        field TEXT NOT NULL,
        preferred TEXT NOT NULL,
        note TEXT NOT NULL,
        PRIMARY KEY (record, kind, country, seed_field)
    ) WITHOUT ROWID""",
    """CREATE TABLE dispute_values (
        kind TEXT NOT NULL,
        record TEXT NOT NULL,
        country TEXT NOT NULL,
        seed_field TEXT NOT NULL,
        position INTEGER NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (record, kind, country, seed_field, position)
    ) WITHOUT ROWID""",
    """CREATE TABLE dispute_sources (
        kind TEXT NOT NULL,
        record TEXT NOT NULL,
        country TEXT NOT NULL,
        seed_field TEXT NOT NULL,
        value_position INTEGER NOT NULL,
        position INTEGER NOT NULL,
        source TEXT NOT NULL,
        PRIMARY KEY (record, kind, country, seed_field, value_position, position)
    ) WITHOUT ROWID""",
    # Each name a person's or organization's reports give, in report order, and the sources that give it.
    """CREATE TABLE names (
        kind TEXT NOT NULL,
        record TEXT NOT NULL,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        PRIMARY KEY (record, kind, position)
    ) WITHOUT ROWID""",
    """CREATE TABLE name_sources (
        kind TEXT NOT NULL,
        record TEXT NOT NULL,
        name_position INTEGER NOT NULL,
        position INTEGER NOT NULL,
        source TEXT NOT NULL,
        PRIMARY KEY (record, kind, name_position, position)
    ) WITHOUT ROWID""",
    # Written with the schema from `COUNTRY_NAMES`, for the compiled read path's `Country.name`.
    "CREATE TABLE country_names (code TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID",
    *BUILD_TABLES,
    f"PRAGMA user_version = {SCHEMA_VERSION}",
]
INDEXES = [
    # Sort keys that put undated records last in both directions, so keyset pagination can walk an index.
    f"CREATE INDEX meetings_date_asc ON meetings ({date_order('ASC')}, key)",
    f"CREATE INDEX meetings_date_desc ON meetings ({date_order('DESC')}, key)",
    "CREATE INDEX meetings_follows ON meetings (follows)",
    f"CREATE INDEX statements_date_asc ON statements ({date_order('ASC')}, key)",
    f"CREATE INDEX statements_date_desc ON statements ({date_order('DESC')}, key)",
    "CREATE INDEX statements_speaker ON statements (speaker)",
    "CREATE INDEX statements_organization ON statements (organization)",
    "CREATE INDEX statements_meeting ON statements (meeting)",
    "CREATE INDEX statements_source ON statements (source)",
    "CREATE INDEX meeting_topics_topic ON meeting_topics (topic)",
    "CREATE INDEX meeting_sources_source ON meeting_sources (source)",
    "CREATE INDEX statement_topics_topic ON statement_topics (topic)",
    "CREATE INDEX statement_sources_source ON statement_sources (source)",
    "CREATE INDEX delegations_country ON delegations (country)",
    "CREATE INDEX delegations_head ON delegations (head)",
    "CREATE INDEX delegation_members_person ON delegation_members (person)",
    # Listings by name: a page past any cursor is a seek in these.
    *(f"CREATE INDEX {table}_sort_name ON {table} (sort_name, key)" for table in NAMED),
    # A load reads and replaces one source's reports, and finds who still refers to a record it removes.
    "CREATE INDEX person_reports_source ON person_reports (source)",
    "CREATE INDEX organization_reports_source ON organization_reports (source)",
    "CREATE INDEX person_reports_skeleton ON person_reports (skeleton)",
    "CREATE INDEX organization_reports_skeleton ON organization_reports (skeleton)",
    "CREATE INDEX topic_reports_source ON topic_reports (source)",
    "CREATE INDEX meeting_reports_source ON meeting_reports (source)",
    "CREATE INDEX meeting_reports_follows ON meeting_reports (follows)",
    "CREATE INDEX meeting_report_topics_source ON meeting_report_topics (source)",
    "CREATE INDEX statement_reports_source ON statement_reports (source)",
    # A reference to a record not yet merged is a deferred violation: its record's insert finds the reports by these.
    *(
        f"CREATE INDEX statement_reports_{column} ON statement_reports ({column})"
        for column in ("speaker", "organization", "meeting")
    ),
    "CREATE INDEX statement_report_topics_source ON statement_report_topics (source)",
    "CREATE INDEX statement_report_topics_topic ON statement_report_topics (topic)",
    "CREATE INDEX meeting_report_topics_topic ON meeting_report_topics (topic)",
    "CREATE INDEX delegation_reports_source ON delegation_reports (source)",
    "CREATE INDEX delegation_reports_head ON delegation_reports (head)",
    "CREATE INDEX delegation_report_members_source ON delegation_report_members (source)",
    "CREATE INDEX delegation_report_members_person ON delegation_report_members (person)",
    "CREATE INDEX decisions_record ON decisions (record, kind, country)",
]


class StoreError(Exception):
    """The database cannot be used: not a Diplo database of this version, or a fault met while using it."""


DAMAGED = "the database is damaged; rebuild it from its seeds"
# What a SQLite error (by its name's prefix) or an OS error (by errno) means to someone running a command.
_SQLITE_PROBLEMS = {
    "SQLITE_FULL": "the disk is full",
    "SQLITE_READONLY": "the database file or its directory is read-only",
    "SQLITE_PERM": "the database file or its directory is read-only",
    "SQLITE_CORRUPT": DAMAGED,
    "SQLITE_NOTADB": "not a SQLite database",
    "SQLITE_BUSY": "another load is writing to it",
    "SQLITE_LOCKED": "another load is writing to it",
    "SQLITE_CANTOPEN": "it cannot be opened (check the path and the permissions of its directory)",
    "SQLITE_IOERR": "an I/O error",
}
_OS_PROBLEMS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def problem(exc: BaseException, path: Path | None = None) -> StoreError:
    """A fault met while using a database (at `path`, when known), as a message that says what happened."""
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", "") or ""
        text = str(exc)
        what = next((m for prefix, m in _SQLITE_PROBLEMS.items() if name.startswith(prefix)), None)
        # SQLite says "unable to open" or "I/O error" when it cannot create its -wal and -shm beside the file.
        if name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN")) and path is not None:
            if not _writable(path):
                what = _SQLITE_PROBLEMS["SQLITE_READONLY"]
            elif _nearly_full(path):
                what = _SQLITE_PROBLEMS["SQLITE_FULL"]
        if what is None and ("no such table" in text or "no such column" in text or "malformed" in text):
            what = DAMAGED
        if what is None and "readonly" in text:
            what = _SQLITE_PROBLEMS["SQLITE_READONLY"]
        return StoreError(f"{what or text} ({text})")
    if isinstance(exc, OSError):
        what = _OS_PROBLEMS.get(exc.errno or 0, exc.strerror or str(exc))
        return StoreError(f"{what} ({exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''})")
    return StoreError(str(exc))


def open_database(path: Path | str) -> Database:
    """Open a database for writing, with foreign keys enforced."""
    try:
        db = Database(path, execute_plugins=False)
        db.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path}: {exc}") from None
    return db


def schema_version(db: Database) -> int:
    """0 for an empty database, SCHEMA_VERSION for a Diplo one; StoreError for anything else."""
    try:
        version: int = db.execute("PRAGMA user_version").fetchone()[0]
        tables = db.table_names()
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorname", "") in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
            raise StoreError(f"not a SQLite database ({exc})") from None
        raise
    if 0 < version < SCHEMA_VERSION and "meetings" in tables:
        raise StoreError(
            f"a Diplo database of an older schema (version {version}, this is {SCHEMA_VERSION}): "
            "rebuild it from its seeds into a new file with `diplo load SEEDS --db NEW.db`"
        )
    if version not in (0, SCHEMA_VERSION) or (version == 0 and tables):
        raise StoreError(f"not a Diplo database of schema version {SCHEMA_VERSION} (found {version})")
    return version


def _writable(path: Path) -> bool:
    return os.access(path.parent, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def _nearly_full(path: Path) -> bool:
    try:
        return shutil.disk_usage(path.parent).free < 1 << 20
    except OSError:
        return False


def check_database(path: Path) -> list[str]:
    """What is wrong with a database file: SQLite's `quick_check`, then every table, column and index of this
    schema version (empty when it is sound)."""
    try:
        conn = connect_readonly(path)
    except sqlite3.Error as exc:
        return [str(problem(exc))]
    try:
        found = [row[0] for row in conn.execute("PRAGMA quick_check")]
        if found != ["ok"]:
            return found
        schema_version(Database(conn, execute_plugins=False))
        expected = sqlite3.connect(":memory:")
        for statement in DDL + INDEXES:
            expected.execute(statement)
        return [
            f"{kind} {name}: missing or different from schema version {SCHEMA_VERSION}"
            for kind, name, sql in expected.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name")
            if conn.execute("SELECT 1 FROM sqlite_master WHERE type = ? AND name = ? AND sql IS ?",
                            (kind, name, sql)).fetchone() is None
        ]  # fmt: skip
    except (sqlite3.Error, StoreError) as exc:
        return [str(problem(exc) if isinstance(exc, sqlite3.Error) else exc)]
    except UnicodeDecodeError:  # a message quoting damaged bytes
        return ["its schema is unreadable"]
    finally:
        conn.close()


def check_served(path: Path) -> None:
    """Refuse to serve a file that is not a sound, loaded Diplo database (StoreError), before any request comes:
    this schema version, then SQLite's `quick_check` and every table and index (`check_database`)."""
    try:
        with closing(Database(connect_readonly(path), execute_plugins=False)) as db:
            if schema_version(db) != SCHEMA_VERSION:
                raise StoreError("an empty database: load seeds into it first")
    except sqlite3.Error as exc:
        raise problem(exc, path) from None
    except UnicodeDecodeError:  # SQLite's message quotes the damaged bytes of its schema, which are not UTF-8
        raise StoreError(f"{DAMAGED} (its schema is unreadable)") from None
    problems = check_database(path)
    if problems:
        shown = "; ".join(problems[:3]) + (f"; {len(problems) - 3} more" if len(problems) > 3 else "")
        raise StoreError(f"{DAMAGED} ({shown})")


def create_schema(db: Database, indexes: bool = True) -> None:
    """Create the tables and (unless a bulk load makes them once it is filled: `create_indexes`) the indexes; call
    inside the load's transaction so that a failed first load leaves no schema behind."""
    for statement in DDL:
        db.execute(statement)
    if indexes:
        create_indexes(db.conn)
    db.conn.executemany("INSERT INTO country_names VALUES (?, ?)", sorted(COUNTRY_NAMES.items()))


def create_indexes(conn: sqlite3.Connection) -> None:
    for statement in INDEXES:
        conn.execute(statement)


def check_foreign_keys(conn: sqlite3.Connection) -> None:
    """Raise `StoreError` when a row refers to one that does not exist: what a bulk load, written with its
    foreign keys off, checks in one pass before it commits (as a load with them on would, at its commit)."""
    wrong = conn.execute("PRAGMA foreign_key_check").fetchone()
    if wrong is not None:
        table, _, parent, _ = wrong
        raise StoreError(f"FOREIGN KEY constraint failed: a row of {table} refers to a row of {parent} that does "
                         "not exist")  # fmt: skip


_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True)  # what json.dumps builds anew on every call


def to_json(value: Any) -> str:
    """JSON as the store keeps it: one spelling per value, so that equal content is equal text."""
    if not value and isinstance(value, dict | list):  # most lists and mappings a seed gives are empty
        return "{}" if isinstance(value, dict) else "[]"
    return _JSON.encode(value)


# --- rows: every write is a replacement of a set of rows by another ----------------------------------------------

Values = tuple[Any, ...]  # a row as it is written: its values in column order
T = TypeVar("T")
C = TypeVar("C", bound=sqlite3.Connection)


@functools.cache
def columns(table: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A table's columns and its primary key's, in order, read off the DDL itself."""
    conn = sqlite3.connect(":memory:")
    try:
        for statement in DDL:
            if statement.startswith("CREATE TABLE"):
                conn.execute(statement)
        info = conn.execute(f"PRAGMA table_info({table})").fetchall()
    finally:
        conn.close()
    names = tuple(row[1] for row in info)
    key = tuple(row[1] for row in sorted((r for r in info if r[5]), key=lambda r: r[5]))
    return names, key


def as_row(table: str, values: dict[str, Any]) -> Values:
    """`values` (every column of `table`, by name) as a row in the table's column order."""
    return _getter(table)(values)


@functools.cache
def _getter(table: str) -> Callable[[dict[str, Any]], Values]:
    return operator.itemgetter(*columns(table)[0])


def replace_rows(
    conn: sqlite3.Connection, table: str, where: str, params: Sequence[Any], rows: Iterable[Values], new: bool = False
) -> tuple[set[Values], list[Values]]:
    """Make the rows of `table` that match `where` be exactly `rows`, writing only the difference (`new`: the
    caller knows there are none yet, and they are not read).

    Returns the rows removed and the rows added, each once (a changed row is both), so callers see what changed.
    """
    names, key = columns(table)
    sql = f"SELECT {', '.join(names)} FROM {table} WHERE {where}"
    old: set[Values] = set() if new else set(conn.execute(sql, params))
    given = dict.fromkeys(rows)  # a set that keeps the given order, so rows go in as the seed file lists them
    # Each row hashed once more at most: `old - given.keys()` would hash every new row again, and a first load has
    # only new rows.
    removed = {row for row in old if row not in given}
    added = [row for row in given if row not in old] if old else list(given)
    if removed:
        positions = [names.index(k) for k in key]
        condition = " AND ".join(f"{k} = ?" for k in key)
        conn.executemany(f"DELETE FROM {table} WHERE {condition}", ([row[i] for i in positions] for row in removed))
    if added:
        marks = ", ".join("?" * len(names))
        conn.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", added)
    return removed, added


def index_statements(conn: sqlite3.Connection, keys: Sequence[str]) -> None:
    """Add statements to the full-text index (a trigger removes them): one statement per batch, which costs a
    third of what a per-row insert trigger does in a large load."""
    for chunk in chunks(keys):
        conn.execute(
            "INSERT INTO statements_fts (rowid, text, translations) SELECT rowid, text, "
            "(SELECT ifnull(group_concat(value, char(10)), '') FROM json_each(translations)) FROM statements "
            f"WHERE key IN ({marks(chunk)})",
            chunk,
        )


def index_records(conn: sqlite3.Connection, table: str, keys: Sequence[str]) -> None:
    """Write the full-text index rows of these records of `table` anew, from their reports (their merge may keep
    a record's row and change what its reports say); a table without one has nothing to do."""
    if table not in SEARCHED:
        return
    index, texts = search_index(table), SEARCHED[table]
    for chunk in chunks(keys):
        rows = f"SELECT rowid FROM {table} WHERE key IN ({marks(chunk)})"
        conn.execute(f"DELETE FROM {index} WHERE rowid IN ({rows})", chunk)
        conn.execute(
            f"INSERT INTO {index} (rowid, {', '.join(texts)}) SELECT r.rowid, {', '.join(texts.values())} "
            f"FROM {table} r WHERE r.key IN ({marks(chunk)})",
            chunk,
        )


CHUNK = 500  # keys per statement, well below SQLite's bound-parameter limit


def chunks(keys: Sequence[T]) -> Iterator[Sequence[T]]:
    """`keys` in slices of `CHUNK`, one `IN (...)` list each."""
    for start in range(0, len(keys), CHUNK):
        yield keys[start : start + CHUNK]


def marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def record_build(conn: sqlite3.Connection, digests: dict[str, str | None]) -> None:
    """Record the digests of the sources a load wrote (None: removed) and the build id over all of them: the same
    seeds give the same id, whatever the order or the number of loads that brought them."""
    older = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'source_digests'").fetchone() is None
    for statement in BUILD_TABLES:
        conn.execute(statement)
    if older:  # loaded before digests were kept: what its sources hold is unknown, so unique to this file
        conn.execute(
            "INSERT INTO source_digests SELECT key, ? || key FROM sources", [f"unknown-{os.urandom(8).hex()}-"]
        )
    for source, digest in digests.items():
        conn.execute("DELETE FROM source_digests WHERE source = ?", [source])
        if digest is not None:
            conn.execute("INSERT INTO source_digests (source, digest) VALUES (?, ?)", [source, digest])
    content = hashlib.sha256()
    for source, digest in conn.execute("SELECT source, digest FROM source_digests ORDER BY source"):
        content.update(f"{source}\0{digest}\n".encode())
    conn.execute("DELETE FROM build")
    conn.execute("INSERT INTO build (id) VALUES (?)", [content.hexdigest()[:20]])


def stored_digest(conn: sqlite3.Connection, source: str) -> str | None:
    """The digest kept for one source (or editorial file) on a connection inside a load; None when none is."""
    try:
        row = conn.execute("SELECT digest FROM source_digests WHERE source = ?", [source]).fetchone()
    except sqlite3.OperationalError:  # no digests kept yet
        return None
    return str(row[0]) if row else None


def stored_digests(path: Path, sources: Sequence[str], wait: float) -> dict[str, str] | None:
    """The digests `path` keeps for those of `sources` it holds, read in one snapshot through a read-only
    connection (the file is not opened for writing); None when it cannot say: not a Diplo database of this
    version, no digests kept yet, or not readable within `wait` seconds."""
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
        conn.execute("BEGIN")
        if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            return None
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'source_digests'").fetchone() is None:
            return None
        found: dict[str, str] = {}
        for chunk in chunks(sources):
            sql = f"SELECT source, digest FROM source_digests WHERE source IN ({marks(chunk)})"
            found.update(conn.execute(sql, chunk).fetchall())
        return found
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def build_id(conn: sqlite3.Connection) -> str | None:
    """The recorded build id; None for a database no load has recorded one in (older than the build table)."""
    try:
        row = conn.execute("SELECT id FROM build").fetchone()
    except sqlite3.OperationalError:
        return None
    return str(row[0]) if row else None


@overload
def connect_readonly(path: Path | str) -> sqlite3.Connection: ...
@overload
def connect_readonly(path: Path | str, factory: type[C]) -> C: ...
def connect_readonly(path: Path | str, factory: type[sqlite3.Connection] = sqlite3.Connection) -> sqlite3.Connection:
    """A read-only connection for serving: the server can never write, even by mistake.

    A file this process cannot write (a read-only copy, directory or mount: how replicas get their file) is opened
    `immutable`: no locks and no `-shm` or `-wal` to create, which a read-only place would refuse. A file it can
    write may be loaded into while it is served, so it is read with locks, one snapshot per transaction.
    """
    resolved = Path(path).resolve()
    immutable = "&immutable=1" if resolved.exists() and not os.access(resolved, os.W_OK) else ""
    uri = resolved.as_uri() + "?mode=ro" + immutable
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False, factory=factory)
    conn.execute("PRAGMA query_only = ON")
    return conn
