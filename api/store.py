"""The SQLite store: its schema (mirroring the seed rules as constraints) and the rows of each record type.

The tables are written only by `api.loader`, read by `api.queries` and by `read_dataset` (used by the loader to
check new seeds against what is stored, and by export).
"""

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from .dataset import Dataset, Origin
from .models import Meeting, Organization, Person, Record, Source, Statement, Topic

SCHEMA_VERSION = 1

# Key format as a CHECK: kebab-case, no leading/trailing/double hyphen, at most 80 characters. Text functions
# stop at a NUL byte; equal byte and character lengths rule out NULs (and anything outside ASCII).
_KEY = (
    "CHECK (length({c}) BETWEEN 1 AND 80 AND length(CAST({c} AS BLOB)) = length({c}) AND {c} NOT GLOB '*[^a-z0-9-]*' "
    "AND {c} NOT GLOB '-*' AND {c} NOT GLOB '*-' AND {c} NOT GLOB '*--*')"
)
_COUNTRY = "CHECK ({c} IS NULL OR (length(CAST({c} AS BLOB)) = 2 AND {c} GLOB '[A-Z][A-Z]'))"
# date() alone keeps '2025-02-30'; the '+0 days' modifier normalises it to '2025-03-02', which then differs.
_DATE = "CHECK ({c} IS NULL OR ({c} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' AND date({c}, '+0 days') = {c}))"
_WIKIDATA = (
    "CHECK ({c} IS NULL OR ({c} GLOB 'Q[1-9]*' AND substr({c}, 2) NOT GLOB '*[^0-9]*' "
    "AND length(CAST({c} AS BLOB)) = length({c})))"
)
_JSON = "CHECK (json_valid({c}))"
# The characters Python's str.strip() removes, so `trim(x, _BLANK)` in a CHECK means what `.strip()` does.
_BLANK = "char(" + ", ".join(str(n) for n in range(0x3001) if chr(n).isspace()) + ")"
_NOT_BLANK = "CHECK (trim({c}, " + _BLANK + ") <> '')"


def _c(template: str, column: str) -> str:
    return template.format(c=column)


DDL = [
    f"""CREATE TABLE sources (
        key TEXT PRIMARY KEY {_c(_KEY, "key")},
        outlet TEXT NOT NULL,
        title TEXT NOT NULL,
        url TEXT CHECK (url IS NULL OR url GLOB 'http://?*' OR url GLOB 'https://?*'),
        published_at TEXT NOT NULL CHECK (published_at GLOB '*[+-][0-9][0-9]:[0-9][0-9]'),
        language TEXT NOT NULL,
        dateline TEXT,
        via TEXT NOT NULL DEFAULT '[]' {_c(_JSON, "via")},
        text TEXT
    )""",
    f"""CREATE TABLE persons (
        key TEXT PRIMARY KEY {_c(_KEY, "key")},
        name TEXT NOT NULL {_c(_NOT_BLANK, "name")},
        country TEXT {_c(_COUNTRY, "country")},
        wikidata TEXT {_c(_WIKIDATA, "wikidata")}
    )""",
    f"""CREATE TABLE organizations (
        key TEXT PRIMARY KEY {_c(_KEY, "key")},
        name TEXT NOT NULL {_c(_NOT_BLANK, "name")},
        country TEXT {_c(_COUNTRY, "country")},
        wikidata TEXT {_c(_WIKIDATA, "wikidata")}
    )""",
    f"""CREATE TABLE topics (
        key TEXT PRIMARY KEY {_c(_KEY, "key")},
        label TEXT NOT NULL {_c(_NOT_BLANK, "label")},
        labels TEXT NOT NULL DEFAULT '{{}}' {_c(_JSON, "labels")}
    )""",
    f"""CREATE TABLE meetings (
        key TEXT PRIMARY KEY {_c(_KEY, "key")},
        title TEXT NOT NULL {_c(_NOT_BLANK, "title")},
        status TEXT NOT NULL CHECK (status IN ('held', 'planned')),
        format TEXT NOT NULL CHECK (format IN ('in_person', 'phone_call', 'video_call')),
        date TEXT {_c(_DATE, "date")},
        city TEXT,
        host_country TEXT {_c(_COUNTRY, "host_country")},
        round INTEGER CHECK (round IS NULL OR round >= 1),
        follows TEXT REFERENCES meetings(key) DEFERRABLE INITIALLY DEFERRED CHECK (follows <> key),
        summary TEXT,
        CHECK (status <> 'held' OR date IS NOT NULL)
    )""",
    """CREATE TABLE meeting_topics (
        meeting TEXT NOT NULL REFERENCES meetings(key) DEFERRABLE INITIALLY DEFERRED,
        position INTEGER NOT NULL,
        topic TEXT NOT NULL REFERENCES topics(key) DEFERRABLE INITIALLY DEFERRED,
        PRIMARY KEY (meeting, position)
    ) WITHOUT ROWID""",
    """CREATE TABLE meeting_sources (
        meeting TEXT NOT NULL REFERENCES meetings(key) DEFERRABLE INITIALLY DEFERRED,
        position INTEGER NOT NULL,
        source TEXT NOT NULL REFERENCES sources(key) DEFERRABLE INITIALLY DEFERRED,
        PRIMARY KEY (meeting, position)
    ) WITHOUT ROWID""",
    f"""CREATE TABLE delegations (
        meeting TEXT NOT NULL REFERENCES meetings(key) DEFERRABLE INITIALLY DEFERRED,
        country TEXT NOT NULL {_c(_COUNTRY, "country")},
        position INTEGER NOT NULL,
        head TEXT REFERENCES persons(key) DEFERRABLE INITIALLY DEFERRED,
        head_role TEXT,
        PRIMARY KEY (meeting, country)
    ) WITHOUT ROWID""",
    """CREATE TABLE delegation_members (
        meeting TEXT NOT NULL,
        country TEXT NOT NULL,
        position INTEGER NOT NULL,
        person TEXT NOT NULL REFERENCES persons(key) DEFERRABLE INITIALLY DEFERRED,
        PRIMARY KEY (meeting, country, position),
        FOREIGN KEY (meeting, country) REFERENCES delegations(meeting, country) DEFERRABLE INITIALLY DEFERRED
    ) WITHOUT ROWID""",
    f"""CREATE TABLE statements (
        key TEXT PRIMARY KEY {_c(_KEY, "key")},
        text TEXT NOT NULL {_c(_NOT_BLANK, "text")} CHECK (length(text) <= 5000),
        language TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('direct_quote', 'paraphrase')),
        translations TEXT NOT NULL DEFAULT '{{}}' {_c(_JSON, "translations")},
        date TEXT {_c(_DATE, "date")},
        speaker TEXT REFERENCES persons(key) DEFERRABLE INITIALLY DEFERRED,
        organization TEXT REFERENCES organizations(key) DEFERRABLE INITIALLY DEFERRED,
        meeting TEXT REFERENCES meetings(key) DEFERRABLE INITIALLY DEFERRED,
        occasion TEXT,
        source TEXT NOT NULL REFERENCES sources(key) DEFERRABLE INITIALLY DEFERRED,
        CHECK (speaker IS NOT NULL OR organization IS NOT NULL)
    )""",
    """CREATE TABLE statement_topics (
        statement TEXT NOT NULL REFERENCES statements(key) DEFERRABLE INITIALLY DEFERRED,
        position INTEGER NOT NULL,
        topic TEXT NOT NULL REFERENCES topics(key) DEFERRABLE INITIALLY DEFERRED,
        PRIMARY KEY (statement, position)
    ) WITHOUT ROWID""",
    # Full-text index of statement text and translations; rowid = statements.rowid, kept by the loader.
    "CREATE VIRTUAL TABLE statements_fts USING fts5(text, translations, tokenize = 'unicode61 remove_diacritics 2')",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
]
INDEXES = [
    # Sort keys that put undated records last in both directions, so keyset pagination can walk an index.
    "CREATE INDEX meetings_date_asc ON meetings (ifnull(date, '~'), key)",
    "CREATE INDEX meetings_date_desc ON meetings (ifnull(date, ''), key)",
    "CREATE INDEX meetings_follows ON meetings (follows)",
    "CREATE INDEX statements_date_asc ON statements (ifnull(date, '~'), key)",
    "CREATE INDEX statements_date_desc ON statements (ifnull(date, ''), key)",
    "CREATE INDEX statements_speaker ON statements (speaker)",
    "CREATE INDEX statements_organization ON statements (organization)",
    "CREATE INDEX statements_meeting ON statements (meeting)",
    "CREATE INDEX statements_source ON statements (source)",
    "CREATE INDEX meeting_topics_topic ON meeting_topics (topic)",
    "CREATE INDEX meeting_sources_source ON meeting_sources (source)",
    "CREATE INDEX statement_topics_topic ON statement_topics (topic)",
    "CREATE INDEX delegations_country ON delegations (country)",
    "CREATE INDEX delegations_head ON delegations (head)",
    "CREATE INDEX delegation_members_person ON delegation_members (person)",
]


class StoreError(Exception):
    """The database file is not a Diplo database of this version."""


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
        raise StoreError(f"not a SQLite database ({exc})") from None
    if version not in (0, SCHEMA_VERSION) or (version == 0 and tables):
        raise StoreError(f"not a Diplo database of schema version {SCHEMA_VERSION} (found {version})")
    return version


def check_served(path: Path) -> None:
    """Refuse to serve a file that is not a loaded Diplo database (StoreError), before any request comes."""
    with closing(Database(connect_readonly(path), execute_plugins=False)) as db:
        if schema_version(db) != SCHEMA_VERSION:
            raise StoreError("an empty database: load seeds into it first")


def create_schema(db: Database) -> None:
    """Create the tables and indexes; call inside the load's transaction so that a failed first load leaves no
    schema behind. The indexes come first, not after a bulk insert: deferred foreign-key checks look child rows
    up through them, and without them a first load turns quadratic."""
    for statement in DDL + INDEXES:
        db.execute(statement)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# --- records to rows -------------------------------------------------------------------------------------------


def source_row(s: Source) -> dict[str, Any]:
    return {
        "key": s.key,
        "outlet": s.outlet,
        "title": s.title,
        "url": s.url,
        "published_at": s.published_at.isoformat(),
        "language": s.language,
        "dateline": s.dateline,
        "via": _json(s.via),
        "text": s.text,
    }


def person_row(p: Person | Organization) -> dict[str, Any]:
    return {"key": p.key, "name": p.name, "country": p.country, "wikidata": p.wikidata}


def topic_row(t: Topic) -> dict[str, Any]:
    return {"key": t.key, "label": t.label, "labels": _json(t.labels)}


def meeting_row(m: Meeting) -> dict[str, Any]:
    return {
        "key": m.key,
        "title": m.title,
        "status": m.status.value,
        "format": m.format.value,
        "date": m.date.isoformat() if m.date else None,
        "city": m.city,
        "host_country": m.host_country,
        "round": m.round,
        "follows": m.follows,
        "summary": m.summary,
    }


def statement_row(s: Statement) -> dict[str, Any]:
    return {
        "key": s.key,
        "text": s.text,
        "language": s.language,
        "kind": s.kind.value,
        "translations": _json(s.translations),
        "date": s.date.isoformat() if s.date else None,
        "speaker": s.speaker,
        "organization": s.organization,
        "meeting": s.meeting,
        "occasion": s.occasion,
        "source": s.source,
    }


# --- rows to records -------------------------------------------------------------------------------------------


def _rows(db: Database, sql: str) -> Iterator[dict[str, Any]]:
    cursor = db.execute(sql)
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row, strict=True))


def _grouped(db: Database, sql: str) -> dict[Any, list[Any]]:
    """`SELECT group_key, value ... ORDER BY group_key, position` as {group_key: [value, ...]}."""
    groups: dict[Any, list[Any]] = {}
    for row in db.execute(sql):
        groups.setdefault(row[0] if len(row) == 2 else tuple(row[:-1]), []).append(row[-1])
    return groups


def read_dataset(db: Database, origin_file: str) -> Dataset:
    """Every record stored in `db` as seed models (empty for a new database)."""
    dataset = Dataset()
    if schema_version(db) == 0:
        return dataset

    def add(kind: str, record: Record) -> None:
        dataset.records[kind][record.key] = record
        dataset.origins[kind, record.key] = Origin(origin_file, f"{kind}[key={record.key}]")

    for row in _rows(db, "SELECT * FROM sources"):
        add(
            "sources",
            Source.model_validate(
                {**row, "published_at": dt.datetime.fromisoformat(row["published_at"]), "via": json.loads(row["via"])}
            ),
        )
    for row in _rows(db, "SELECT * FROM persons"):
        add("persons", Person.model_validate(_without_nulls(row)))
    for row in _rows(db, "SELECT * FROM organizations"):
        add("organizations", Organization.model_validate(_without_nulls(row)))
    for row in _rows(db, "SELECT * FROM topics"):
        add("topics", Topic.model_validate({**row, "labels": json.loads(row["labels"])}))
    meeting_topics = _grouped(db, "SELECT meeting, topic FROM meeting_topics ORDER BY meeting, position")
    meeting_sources = _grouped(db, "SELECT meeting, source FROM meeting_sources ORDER BY meeting, position")
    members = _grouped(
        db, "SELECT meeting, country, person FROM delegation_members ORDER BY meeting, country, position"
    )
    delegations = _grouped(
        db,
        "SELECT meeting, json_object('country', country, 'head', head, 'head_role', head_role) "
        "FROM delegations ORDER BY meeting, position",
    )
    for row in _rows(db, "SELECT * FROM meetings"):
        key = row["key"]
        row["delegations"] = [
            {**(d := json.loads(text)), "members": members.get((key, d["country"]), [])}
            for text in delegations.get(key, [])
        ]
        row["topics"] = meeting_topics.get(key, [])
        row["sources"] = meeting_sources.get(key, [])
        add("meetings", Meeting.model_validate(row))
    statement_topics = _grouped(db, "SELECT statement, topic FROM statement_topics ORDER BY statement, position")
    for row in _rows(db, "SELECT * FROM statements"):
        row["translations"] = json.loads(row["translations"])
        row["topics"] = statement_topics.get(row["key"], [])
        add("statements", Statement.model_validate(row))
    return dataset


def _without_nulls(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if v is not None}


def connect_readonly(path: Path | str) -> sqlite3.Connection:
    """A read-only connection for serving: the server can never write, even by mistake."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    conn.execute("PRAGMA query_only = ON")
    return conn
