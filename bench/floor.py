"""The conventional floor: the benchmark's queries as hand-written SQL, Python dicts and json.dumps behind
starlette, nothing else (one query per relation, as a careful hand-written server batches them).

It answers exactly what Diplo answers (the harness checks), so the ratio of the two is what Diplo's layers cost.
"""

import json
import sqlite3
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

NESTED_QUERY = """{ meetings(first: 50, orderBy: DATE_DESC) { nodes {
  key title date
  delegations { country { code } head { name } headRole }
  topics { label }
  statements(first: 5) { nodes { text date speaker { name } } }
} } }"""


def nested(conn: sqlite3.Connection) -> dict[str, Any]:
    meetings = conn.execute(
        "SELECT key, title, date_day FROM meetings "
        "ORDER BY ifnull(date_earliest || ifnull(date_latest, '~'), '') DESC, key DESC LIMIT 50"
    ).fetchall()
    keys = [m[0] for m in meetings]
    marks = ", ".join("?" * len(keys))
    delegations: dict[str, list[Any]] = defaultdict(list)
    for meeting, code, head, role in conn.execute(
        f"SELECT d.meeting, d.country, p.name, d.head_role FROM delegations d LEFT JOIN persons p ON p.key = d.head "
        f"WHERE d.meeting IN ({marks}) ORDER BY d.meeting, d.position",
        keys,
    ):
        delegations[meeting].append(
            {"country": {"code": code}, "head": {"name": head} if head else None, "headRole": role}
        )
    topics: dict[str, list[Any]] = defaultdict(list)
    for meeting, label in conn.execute(
        f"SELECT mt.meeting, t.label FROM meeting_topics mt JOIN topics t ON t.key = mt.topic "
        f"WHERE mt.meeting IN ({marks}) ORDER BY mt.meeting, mt.position",
        keys,
    ):
        topics[meeting].append({"label": label})
    statements: dict[str, list[Any]] = defaultdict(list)
    for meeting, text, date, speaker in conn.execute(
        f"SELECT meeting, text, date_day, speaker_name FROM (SELECT s.meeting, s.text, s.date_day, "
        "p.name AS speaker_name, row_number() OVER (PARTITION BY s.meeting "
        f"ORDER BY ifnull(s.date_earliest || ifnull(s.date_latest, '~'), '~'), s.key) AS n FROM statements s "
        f"LEFT JOIN persons p ON p.key = s.speaker WHERE s.meeting IN ({marks})) WHERE n <= 5 ORDER BY meeting, n",
        keys,
    ):
        statements[meeting].append({"text": text, "date": date, "speaker": {"name": speaker} if speaker else None})
    nodes = [
        {"key": key, "title": title, "date": date, "delegations": delegations[key], "topics": topics[key],
         "statements": {"nodes": statements[key]}}
        for key, title, date in meetings
    ]  # fmt: skip
    return {"data": {"meetings": {"nodes": nodes}}}


LISTING_QUERY = """{ statements(first: 50, orderBy: DATE_DESC) { nodes {
  key text date kind
  speaker { name } organization { name } meeting { key title } topics { label } source { outlet publishedAt }
} } }"""
SEARCH_QUERY = """{ statements(first: 20, filter: {search: "ref4242"}) { totalCount nodes {
  key text date speaker { name } meeting { key title date } topics { label }
} } }"""
SEARCH_TERMS = '"ref4242"'


def _names(conn: sqlite3.Connection, table: str, columns: str, keys: set[str]) -> dict[str, Any]:
    marks = ", ".join("?" * len(keys))
    return {row[0]: row[1:] for row in conn.execute(f"SELECT key, {columns} FROM {table} WHERE key IN ({marks})",
                                                    list(keys))}  # fmt: skip


def _topics(conn: sqlite3.Connection, keys: list[str]) -> dict[str, list[Any]]:
    topics: dict[str, list[Any]] = defaultdict(list)
    marks = ", ".join("?" * len(keys))
    for statement, label in conn.execute(
        f"SELECT st.statement, t.label FROM statement_topics st JOIN topics t ON t.key = st.topic "
        f"WHERE st.statement IN ({marks}) ORDER BY st.statement, st.position",
        keys,
    ):
        topics[statement].append({"label": label})
    return topics


def _statements(conn: sqlite3.Connection, rows: list[Any], source: bool) -> list[dict[str, Any]]:
    """Statement rows (key, text, date, kind, speaker, organization, meeting, source) with their relations."""
    persons = _names(conn, "persons", "name", {r[4] for r in rows if r[4]})
    organizations = _names(conn, "organizations", "name", {r[5] for r in rows if r[5]})
    meetings = _names(conn, "meetings", "title, date_day", {r[6] for r in rows if r[6]})
    sources = _names(conn, "sources", "outlet, published_instant", {r[7] for r in rows}) if source else {}
    topics = _topics(conn, [r[0] for r in rows])
    nodes = []
    for key, text, date, kind, speaker, organization, meeting, src in rows:
        node: dict[str, Any] = {"key": key, "text": text, "date": date}
        if source:
            node["kind"] = kind.upper()
        node["speaker"] = {"name": persons[speaker][0]} if speaker else None
        if source:
            node["organization"] = {"name": organizations[organization][0]} if organization else None
        if meeting:
            node["meeting"] = {"key": meeting, "title": meetings[meeting][0]}
            if not source:
                node["meeting"]["date"] = meetings[meeting][1]
        else:
            node["meeting"] = None
        node["topics"] = topics[key]
        if source:
            node["source"] = {"outlet": sources[src][0], "publishedAt": sources[src][1]}
        nodes.append(node)
    return nodes


_STATEMENT_COLUMNS = "s.key, s.text, s.date_day, s.kind, s.speaker, s.organization, s.meeting, s.source"


def listing(conn: sqlite3.Connection) -> dict[str, Any]:
    rows = conn.execute(
        f"SELECT {_STATEMENT_COLUMNS} FROM statements s "
        "ORDER BY ifnull(s.date_earliest || ifnull(s.date_latest, '~'), '') DESC, s.key DESC LIMIT 50"
    ).fetchall()
    return {"data": {"statements": {"nodes": _statements(conn, rows, source=True)}}}


def search(conn: sqlite3.Connection) -> dict[str, Any]:
    matching = "s.rowid IN (SELECT rowid FROM statements_fts WHERE statements_fts MATCH ?)"
    total = conn.execute(f"SELECT count(*) FROM statements s WHERE {matching}", [SEARCH_TERMS]).fetchone()[0]
    rows = conn.execute(
        f"SELECT {_STATEMENT_COLUMNS} FROM statements s WHERE {matching} "
        "ORDER BY ifnull(s.date_earliest || ifnull(s.date_latest, '~'), '~'), s.key LIMIT 20",
        [SEARCH_TERMS],
    ).fetchall()
    return {"data": {"statements": {"totalCount": total, "nodes": _statements(conn, rows, source=False)}}}


ANSWERS = {NESTED_QUERY: nested, LISTING_QUERY: listing, SEARCH_QUERY: search}


def create_floor_app(db_path: Path) -> Starlette:
    uri = db_path.resolve().as_uri() + "?mode=ro"

    async def graphql(request: Request) -> Response:
        answer = ANSWERS[json.loads(await request.body())["query"]]
        conn = sqlite3.connect(uri, uri=True)
        try:
            body = json.dumps(answer(conn), ensure_ascii=False, separators=(",", ":"))
        finally:
            conn.close()
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(create_floor_app(Path(sys.argv[1])), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
