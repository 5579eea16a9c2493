"""The single-statement reference: each benchmark query as one hand-written SQLite statement that builds the whole
response's JSON, served as it comes out, behind starlette. What a compiled read path can at best approach.
"""

import json
import sqlite3
import sys
from pathlib import Path

from floor import LISTING_QUERY, NESTED_QUERY, SEARCH_QUERY, SEARCH_TERMS
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# The date order the store indexes (`store.date_order`), written out as a hand-written statement would.
_ASC = "ifnull(date_earliest || ifnull(date_latest, '~'), '~')"
_DESC = "ifnull(date_earliest || ifnull(date_latest, '~'), '')"
_PERSON_NAME = "(SELECT json_object('name', p.name) FROM persons p WHERE p.key = {column})"
_TOPIC_LABELS = (
    "(SELECT json_group_array(json_object('label', t.label)) FROM (SELECT t.label FROM {link} x "
    "JOIN topics t ON t.key = x.topic WHERE {where} ORDER BY x.position) t)"
)

NESTED = f"""SELECT json_object('data', json_object('meetings', json_object('nodes', json_group_array(json_object(
  'key', m.key, 'title', m.title, 'date', m.date_day,
  'delegations', (SELECT json_group_array(json_object('country', json_object('code', d.country),
      'head', {_PERSON_NAME.format(column="d.head")}, 'headRole', d.head_role))
    FROM (SELECT * FROM delegations WHERE meeting = m.key ORDER BY position) d),
  'topics', {_TOPIC_LABELS.format(link="meeting_topics", where="x.meeting = m.key")},
  'statements', json_object('nodes', (SELECT json_group_array(json_object('text', s.text, 'date', s.date_day,
      'speaker', {_PERSON_NAME.format(column="s.speaker")}))
    FROM (SELECT * FROM statements WHERE meeting = m.key ORDER BY {_ASC}, key LIMIT 5) s)))))))
FROM (SELECT * FROM meetings ORDER BY {_DESC} DESC, key DESC LIMIT 50) m"""

_STATEMENT = """'key', s.key, 'text', s.text, 'date', s.date_day, {kind}
  'speaker', {speaker}, {organization}
  'meeting', (SELECT json_object('key', m.key, 'title', m.title{meeting_date}) FROM meetings m WHERE m.key = s.meeting),
  'topics', {topics}{source}"""


def _statement(listing: bool) -> str:
    return _STATEMENT.format(
        kind="'kind', upper(s.kind)," if listing else "",
        speaker=_PERSON_NAME.format(column="s.speaker"),
        organization="'organization', (SELECT json_object('name', o.name) FROM organizations o "
        "WHERE o.key = s.organization),"
        if listing
        else "",
        meeting_date="" if listing else ", 'date', m.date_day",
        topics=_TOPIC_LABELS.format(link="statement_topics", where="x.statement = s.key"),
        source=", 'source', (SELECT json_object('outlet', src.outlet, 'publishedAt', src.published_instant) "
        "FROM sources src WHERE src.key = s.source)"
        if listing
        else "",
    )


LISTING = f"""SELECT json_object('data', json_object('statements', json_object('nodes',
  json_group_array(json_object({_statement(listing=True)})))))
FROM (SELECT * FROM statements ORDER BY {_DESC} DESC, key DESC LIMIT 50) s"""

_MATCHING = "rowid IN (SELECT rowid FROM statements_fts WHERE statements_fts MATCH :terms)"
SEARCH = f"""SELECT json_object('data', json_object('statements', json_object(
  'totalCount', (SELECT count(*) FROM statements WHERE {_MATCHING}),
  'nodes', json_group_array(json_object({_statement(listing=False)})))))
FROM (SELECT * FROM statements WHERE {_MATCHING} ORDER BY {_ASC}, key LIMIT 20) s"""

STATEMENTS = {NESTED_QUERY: NESTED, LISTING_QUERY: LISTING, SEARCH_QUERY: SEARCH}


def create_single_app(db_path: Path) -> Starlette:
    # One connection for the process, as Diplo keeps one per operation thread: a new one per request would cost
    # more than the statement (schema, page cache and prepared statements all start empty).
    conn = sqlite3.connect(db_path.resolve().as_uri() + "?mode=ro", uri=True, check_same_thread=False)

    async def graphql(request: Request) -> Response:
        sql = STATEMENTS[json.loads(await request.body())["query"]]
        body = conn.execute(sql, {"terms": SEARCH_TERMS} if ":terms" in sql else {}).fetchone()[0]
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(create_single_app(Path(sys.argv[1])), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
