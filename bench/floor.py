"""The floor: the benchmark's nested query as hand-written SQL and json.dumps behind starlette, nothing else.

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
        "SELECT key, title, date FROM meetings ORDER BY ifnull(date, '') DESC, key DESC LIMIT 50"
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
        f"SELECT meeting, text, date, speaker_name FROM (SELECT s.meeting, s.text, s.date, p.name AS speaker_name, "
        f"row_number() OVER (PARTITION BY s.meeting ORDER BY ifnull(s.date, '~'), s.key) AS n FROM statements s "
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


def create_floor_app(db_path: Path) -> Starlette:
    uri = db_path.resolve().as_uri() + "?mode=ro"

    async def graphql(request: Request) -> Response:
        await request.body()
        conn = sqlite3.connect(uri, uri=True)
        try:
            body = json.dumps(nested(conn), ensure_ascii=False, separators=(",", ":"))
        finally:
            conn.close()
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(create_floor_app(Path(sys.argv[1])), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
