"""A peer in the read benchmark: PostGraphile 5 on PostgreSQL, beside Diplo and the conventional floor.

    python bench/peer.py --db FILE           # every read shape, 10 s a measurement, twice: ~10 minutes

It starts a throwaway PostgreSQL cluster (initdb --locale=C, so text sorts as in SQLite, in a temporary folder,
on a free port of 127.0.0.1; as the user postgres when run as root), copies the database's record tables into it
with their keys, foreign keys and indexes, and serves it with PostGraphile 5 (the Amber preset, simplified
inflection, a computed column for a person's delegations, a function for full-text search). Beside it run
`diplo serve` (one worker) and `bench/floor.py`, the conventional floor. For each read shape of bench/run.py and
a persons shape, it checks that the three answer the same (PostGraphile's fields renamed to Diplo's), then
measures each with wrk at 4 connections, in turn, twice, keeping each one's best; it prints requests/s, p50 and
memory per shape. Every process and the cluster are removed at the end, on failure too. Not part of the tests.

Needs Debian's `postgresql` and `wrk`, and the npm project beside this file (`cd bench/peer && npm ci`: its lock
file pins PostGraphile, the inflection preset and Node 22, from the npm package `node`).
"""

import argparse
import datetime as dt
import json
import os
import pwd
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import floor  # noqa: E402
from run import SHAPE_CONNECTIONS, SHAPES, free_port, server, wrk  # noqa: E402

PROJECT = BENCH / "peer"  # the npm project: PostGraphile, its presets, Node 22
PG_USER = "postgres"  # PostgreSQL refuses to run as root


class Missing(Exception):
    """A tool the benchmark needs is not installed."""


# --- the persons shape, and its conventional floor ---------------------------------------------------------------

PERSONS_QUERY = """{ persons(first: 50) { nodes {
  key name
  delegations { country { code } headRole meeting { key title date } }
  statements(first: 5) { nodes { text date } }
} } }"""


def persons_floor(conn: sqlite3.Connection) -> dict[str, Any]:
    """The persons shape as bench/floor.py answers its shapes: one hand-written query per relation."""
    persons = conn.execute("SELECT key, name FROM persons ORDER BY key LIMIT 50").fetchall()
    keys = [key for key, _ in persons]
    marks = ", ".join("?" * len(keys))
    delegations: dict[str, list[Any]] = defaultdict(list)
    for person, code, role, meeting, title, date in conn.execute(
        f"SELECT x.person, d.country, d.head_role, m.key, m.title, m.date FROM (SELECT head AS person, meeting, "
        f"country FROM delegations WHERE head IN ({marks}) UNION SELECT person, meeting, country "
        f"FROM delegation_members WHERE person IN ({marks})) x JOIN delegations d ON d.meeting = x.meeting "
        f"AND d.country = x.country JOIN meetings m ON m.key = d.meeting ORDER BY x.person, d.meeting, d.position",
        keys * 2,
    ):
        delegations[person].append(
            {"country": {"code": code}, "headRole": role, "meeting": {"key": meeting, "title": title, "date": date}}
        )
    statements: dict[str, list[Any]] = defaultdict(list)
    for speaker, text, date in conn.execute(
        # A statement's `date` is its day; listings go by earliest, then latest day, undated last.
        f"SELECT speaker, text, date_day FROM (SELECT speaker, text, date_day, row_number() OVER (PARTITION BY "
        f"speaker ORDER BY ifnull(date_earliest || ifnull(date_latest, '~'), '~'), key) AS n FROM statements "
        f"WHERE speaker IN ({marks})) WHERE n <= 5 ORDER BY speaker, n",
        keys,
    ):
        statements[speaker].append({"text": text, "date": date})
    nodes = [
        {"key": key, "name": name, "delegations": delegations[key], "statements": {"nodes": statements[key]}}
        for key, name in persons
    ]
    return {"data": {"persons": {"nodes": nodes}}}


# --- PostgreSQL: a throwaway cluster and the copy ----------------------------------------------------------------

_ENUMS = {
    "meeting_status": ("held", "planned"),
    "meeting_format": ("in_person", "phone_call", "video_call"),
    "statement_kind": ("direct_quote", "paraphrase"),
}

# The record tables the GraphQL API reads, typed for PostgreSQL, with SQLite's keys, foreign keys and indexes.
# The smart comments name the relations PostGraphile would otherwise name after their columns' tables.
SCHEMA = [
    *(f"CREATE TYPE {name} AS ENUM ({', '.join(repr(v) for v in values)})" for name, values in _ENUMS.items()),
    """CREATE TABLE sources (key text PRIMARY KEY, outlet text NOT NULL, title text NOT NULL, url text,
        published_at timestamptz NOT NULL, language text NOT NULL, dateline text, via jsonb NOT NULL, text text,
        retrieved_at timestamptz, archive_url text, text_sha256 text)""",
    *(
        f"""CREATE TABLE {table} (key text PRIMARY KEY, name text NOT NULL, aliases jsonb NOT NULL, country text,
        wikidata text)"""
        for table in ("persons", "organizations")
    ),
    "CREATE TABLE topics (key text PRIMARY KEY, label text NOT NULL, labels jsonb NOT NULL)",
    """CREATE TABLE meetings (key text PRIMARY KEY, title text NOT NULL, status meeting_status NOT NULL,
        format meeting_format NOT NULL, date date, city text, host_country text, round integer,
        follows text REFERENCES meetings, summary text)""",
    """CREATE TABLE meeting_topics (meeting text NOT NULL REFERENCES meetings, position integer NOT NULL,
        topic text NOT NULL REFERENCES topics, PRIMARY KEY (meeting, position))""",
    """CREATE TABLE meeting_sources (meeting text NOT NULL REFERENCES meetings, position integer NOT NULL,
        source text NOT NULL REFERENCES sources, PRIMARY KEY (meeting, position))""",
    """CREATE TABLE delegations (meeting text NOT NULL REFERENCES meetings, country text NOT NULL,
        position integer NOT NULL, head text REFERENCES persons, head_role text, PRIMARY KEY (meeting, country))""",
    """CREATE TABLE delegation_members (meeting text NOT NULL, country text NOT NULL, position integer NOT NULL,
        person text NOT NULL REFERENCES persons, PRIMARY KEY (meeting, country, position),
        FOREIGN KEY (meeting, country) REFERENCES delegations)""",
    """CREATE TABLE delegation_sources (meeting text NOT NULL, country text NOT NULL, position integer NOT NULL,
        source text NOT NULL REFERENCES sources, PRIMARY KEY (meeting, country, position),
        FOREIGN KEY (meeting, country) REFERENCES delegations)""",
    """CREATE TABLE statements (key text PRIMARY KEY, text text NOT NULL, language text NOT NULL,
        kind statement_kind NOT NULL, translations jsonb NOT NULL, date date, speaker text REFERENCES persons,
        organization text REFERENCES organizations, meeting text REFERENCES meetings, occasion text,
        source text NOT NULL REFERENCES sources)""",
    """CREATE TABLE statement_topics (statement text NOT NULL REFERENCES statements, position integer NOT NULL,
        topic text NOT NULL REFERENCES topics, PRIMARY KEY (statement, position))""",
]
INDEXES = [
    # Both date orders, undated last (PostGraphile's orderBy with pgOrderByNullsLast), as SQLite's two indexes.
    *(
        f"CREATE INDEX {table}_date_{name} ON {table} ({order})"
        for table in ("meetings", "statements")
        for name, order in (("asc", "date, key"), ("desc", "date DESC NULLS LAST, key DESC"))
    ),
    "CREATE INDEX meetings_follows ON meetings (follows)",
    *(f"CREATE INDEX statements_{c} ON statements ({c})" for c in ("speaker", "organization", "meeting", "source")),
    "CREATE INDEX meeting_topics_topic ON meeting_topics (topic)",
    "CREATE INDEX meeting_sources_source ON meeting_sources (source)",
    "CREATE INDEX delegation_sources_source ON delegation_sources (source)",
    "CREATE INDEX statement_topics_topic ON statement_topics (topic)",
    "CREATE INDEX delegations_country ON delegations (country)",
    "CREATE INDEX delegations_head ON delegations (head)",
    "CREATE INDEX delegation_members_person ON delegation_members (person)",
    # Full-text search of the text and its translations, as SQLite's FTS5 table indexes them.
    "ALTER TABLE statements ADD COLUMN search tsvector",
    "UPDATE statements SET search = to_tsvector('simple', text) || jsonb_to_tsvector('simple', translations, "
    "'[\"string\"]')",
    "CREATE INDEX statements_search ON statements USING gin (search)",
    "COMMENT ON COLUMN statements.search IS '@behavior -*'",
    # A person's delegations, headed or as a member, in meeting order: a computed column (`Person.delegations`).
    """CREATE FUNCTION persons_delegations(p persons) RETURNS SETOF delegations AS $$
        SELECT d.* FROM delegations d WHERE d.head = p.key
        UNION SELECT d.* FROM delegation_members m JOIN delegations d ON d.meeting = m.meeting
            AND d.country = m.country WHERE m.person = p.key
        ORDER BY meeting, position
    $$ LANGUAGE sql STABLE""",
    # Every word must match, as Diplo's `filter: {search:}` (`Query.searchStatements`, sortable). The matches are
    # found first, by the full-text index, as SQLite's FTS5 finds them for Diplo: inlined into PostGraphile's
    # query, PostgreSQL guessed a rare word's matches at 1,000 and walked the date index, 276 ms a request.
    """CREATE FUNCTION search_statements(terms text) RETURNS SETOF statements AS $$
        WITH found AS MATERIALIZED (SELECT * FROM statements WHERE search @@ plainto_tsquery('simple', terms))
        SELECT * FROM found
    $$ LANGUAGE sql STABLE""",
    "COMMENT ON FUNCTION search_statements(text) IS '@behavior +order'",
    # Delegations in their order within a meeting: PostGraphile offers an order by an indexed column only, unless
    # told (SQLite sorts a meeting's few delegations too).
    "COMMENT ON COLUMN delegations.position IS '@behavior +orderBy'",
    # The backward relations to a person: the delegations they head (the computed column has all of theirs) and
    # the statements they made.
    "COMMENT ON CONSTRAINT delegations_head_fkey ON delegations IS '@foreignFieldName headedDelegations'",
    "COMMENT ON CONSTRAINT statements_speaker_fkey ON statements IS '@foreignFieldName statements'",
    "VACUUM ANALYZE",
]
COPIED = [
    "sources", "persons", "organizations", "topics", "meetings", "meeting_topics", "meeting_sources", "delegations",
    "delegation_members", "delegation_sources", "statements", "statement_topics",
]  # fmt: skip


def pg_bin() -> Path:
    """The newest installed PostgreSQL's programs."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise Missing("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    return found[-1].parent


def _as_pg_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", PG_USER, "--", *command] if os.geteuid() == 0 else command


@dataclass(frozen=True)
class Cluster:
    bin: Path
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgres://{PG_USER}@127.0.0.1:{self.port}/postgres"

    def psql(self, *args: str, stdin: Any = None) -> subprocess.Popen[bytes]:
        command = [str(self.bin / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url, *args]
        return subprocess.Popen(command, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def execute(self, sql: str) -> None:
        process = self.psql(stdin=subprocess.PIPE)
        _, error = process.communicate(sql.encode())
        if process.returncode != 0:
            raise RuntimeError(f"psql failed: {error.decode()}\n{sql}")

    def server_pids(self) -> list[int]:
        """The postmaster and its children (the backends PostGraphile's pool holds, and the background ones)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        return [postmaster, *children(postmaster)]


@contextmanager
def cluster() -> Iterator[Cluster]:
    """A new cluster in a temporary folder, started on a free port of 127.0.0.1; stopped and removed after."""
    bin_dir = pg_bin()
    folder = Path(tempfile.mkdtemp(prefix="diplo-peer-"))
    if os.geteuid() == 0:
        os.chown(folder, pwd.getpwnam(PG_USER).pw_uid, -1)
    data = folder / "data"
    port = free_port()
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-s"]
    try:
        _run(_as_pg_user([str(bin_dir / "initdb"), "-D", str(data), "--locale=C", "-E", "UTF8", "-A", "trust",
                          "-U", PG_USER]))  # fmt: skip
        # A read benchmark: durability is not measured, so the copy need not wait for the disk.
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
        _run(_as_pg_user([*pg_ctl, "-l", str(folder / "log"), "-w", "-o", options, "start"]))
        yield Cluster(bin_dir, data, port)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_pg_user([*pg_ctl, "-m", "fast", "-w", "stop"]), check=False, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr or result.stdout}")


def _copy_text(value: Any) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_database(db: Path, target: Cluster) -> dict[str, int]:
    """The record tables of `db` into `target`, then their indexes, the functions and the statistics."""
    target.execute(";\n".join(SCHEMA) + ";")
    source = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    rows: dict[str, int] = {}
    try:
        for table in COPIED:
            columns = [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
            if not columns:
                raise RuntimeError(f"{db} has no table {table}: not a database built by diplo load")
            process = target.psql("-c", f"COPY {table} ({', '.join(columns)}) FROM STDIN", stdin=subprocess.PIPE)
            assert process.stdin is not None
            count = 0
            for row in source.execute(f"SELECT {', '.join(columns)} FROM {table}"):
                process.stdin.write(("\t".join(map(_copy_text, row)) + "\n").encode())
                count += 1
            process.stdin.close()
            assert process.stderr is not None
            error = process.stderr.read()
            if process.wait() != 0:
                raise RuntimeError(f"copying {table} failed: {error.decode()}")
            rows[table] = count
    finally:
        source.close()
    target.execute(";\n".join(INDEXES) + ";")
    return rows


# --- processes and their memory ------------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def pss_mb(pids: list[int]) -> float:
    """The processes' proportional set size, summed: memory they share (PostgreSQL's shared buffers) is counted
    once, not once per process as their RSS would."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue  # a backend that ended meanwhile
    return total / 1024


# --- PostGraphile --------------------------------------------------------------------------------------------------


def node_binary() -> Path:
    """Node 22 or newer: the npm package `node` in the project, else the system's."""
    for candidate in (PROJECT / "node_modules" / ".bin" / "node", shutil.which("node")):
        if candidate is None or not Path(candidate).exists():
            continue
        version = subprocess.run([str(candidate), "--version"], capture_output=True, text=True, check=False).stdout
        if re.match(r"v(\d+)", version) and int(re.match(r"v(\d+)", version).group(1)) >= 22:  # type: ignore[union-attr]
            return Path(candidate)
    raise Missing("Node 22 is not installed: cd bench/peer && npm ci")


@contextmanager
def postgraphile(target: Cluster) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    cli = PROJECT / "node_modules" / "postgraphile" / "dist" / "cli-run.js"
    if not cli.exists():
        raise Missing("PostGraphile is not installed: cd bench/peer && npm ci")
    port = free_port()
    env = {**os.environ, "DATABASE_URL": target.url, "PORT": str(port), "NODE_ENV": "production"}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen([str(node_binary()), str(cli), "-C", "graphile.config.mjs"], cwd=PROJECT,
                                   env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        try:
            yield _started(f"http://127.0.0.1:{port}", process, log), process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _started(url: str, process: subprocess.Popen[bytes], log: IO[bytes]) -> str:
    """`url` once PostGraphile answers there (it introspects the database first)."""
    for _ in range(600):
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"PostGraphile stopped: {log.read().decode(errors='replace')[-2000:]}")
        try:
            if httpx.post(url + "/graphql", json={"query": "{ __typename }"}, timeout=2).status_code == 200:
                return url
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("PostGraphile did not answer within a minute")


# --- the shapes in PostGraphile's terms ---------------------------------------------------------------------------

# Each read shape as PostGraphile is asked it: aliases give Diplo's field names; the same order (undated last,
# then by key), the same page sizes. A relation through a link table reads the link's rows, in their order.
_TOPICS = "topics: statementTopicsByStatement(orderBy: POSITION_ASC) { nodes { topic: topicByTopic { label } } }"
PEER_QUERIES = {
    "nested query": """{ meetings(first: 50, orderBy: [DATE_DESC, KEY_DESC]) { nodes {
  key title date
  delegations: delegationsByMeeting(orderBy: POSITION_ASC) { nodes {
    country head: personByHead { name } headRole } }
  topics: meetingTopicsByMeeting(orderBy: POSITION_ASC) { nodes { topic: topicByTopic { label } } }
  statements: statementsByMeeting(first: 5, orderBy: [DATE_ASC, KEY_ASC]) { nodes {
    text date speaker: personBySpeaker { name } } }
} } }""",
    "statements listing": f"""{{ statements(first: 50, orderBy: [DATE_DESC, KEY_DESC]) {{ nodes {{
  key text date kind
  speaker: personBySpeaker {{ name }} organization: organizationByOrganization {{ name }}
  meeting: meetingByMeeting {{ key title }} {_TOPICS} source: sourceBySource {{ outlet publishedAt }}
}} }} }}""",
    "full-text search": f"""{{ statements: searchStatements(terms: {json.dumps(floor.SEARCH_TERMS.strip('"'))},
    first: 20, orderBy: [DATE_ASC, KEY_ASC]) {{ totalCount nodes {{
  key text date speaker: personBySpeaker {{ name }} meeting: meetingByMeeting {{ key title date }} {_TOPICS}
}} }} }}""",
    "persons": """{ persons: people(first: 50, orderBy: KEY_ASC) { nodes {
  key name
  delegations { nodes { country headRole meeting: meetingByMeeting { key title date } } }
  statements(first: 5, orderBy: [DATE_ASC, KEY_ASC]) { nodes { text date } }
} } }""",
}
QUERIES = {**SHAPES, "persons": PERSONS_QUERY}


def _delegations(connection: dict[str, Any]) -> list[dict[str, Any]]:
    """A connection of delegations as Diplo's list: the country code as Diplo's Country object."""
    return [{**d, "country": {"code": d["country"]}} for d in connection["nodes"]]


def _topics(connection: dict[str, Any]) -> list[dict[str, Any]]:
    """A connection of link rows as Diplo's list of the topics they link."""
    return [link["topic"] for link in connection["nodes"]]


def _nodes(answer: dict[str, Any]) -> list[dict[str, Any]]:
    [root] = answer["data"].values()
    nodes: list[dict[str, Any]] = root["nodes"]
    return nodes


def as_diplo(shape: str, answer: dict[str, Any]) -> dict[str, Any]:
    """PostGraphile's answer in Diplo's form: lists for its connections, objects for its codes, enum values in
    Diplo's case, timestamps as instants (PostgreSQL writes them in UTC, Diplo as its source wrote them)."""
    if "errors" in answer:
        raise RuntimeError(f"PostGraphile answers the {shape} with errors: {answer['errors']}")
    answer = instants(answer)
    for node in _nodes(answer):
        if "delegations" in node:
            node["delegations"] = _delegations(node["delegations"])
        if "topics" in node:
            node["topics"] = _topics(node["topics"])
        if "kind" in node:
            node["kind"] = node["kind"].upper()
    return answer


def instants(answer: dict[str, Any]) -> dict[str, Any]:
    """A copy of `answer`, its `publishedAt` values as instants, so that two spellings of one time compare equal."""
    answer = json.loads(json.dumps(answer))
    for node in _nodes(answer):
        source = node.get("source")
        if source is not None and "publishedAt" in source:
            source["publishedAt"] = dt.datetime.fromisoformat(source["publishedAt"]).timestamp()
    return answer


# --- the run -------------------------------------------------------------------------------------------------------


@dataclass
class Servers:
    urls: dict[str, str]  # by name: diplo, postgraphile, floor
    memory: Callable[[], dict[str, float]]  # each one's memory now, in MB


def measure(servers: Servers, seconds: float, rounds: int) -> dict[str, Any]:
    """Per shape: the answers checked, then each server's best requests/s and p50 over `rounds` rounds, each
    server measured in turn, and the memory after."""
    results: dict[str, Any] = {}
    for shape, query in QUERIES.items():
        bodies = {name: {"query": PEER_QUERIES[shape] if name == "postgraphile" else query} for name in servers.urls}
        answers = {name: httpx.post(url + "/graphql", json=bodies[name], timeout=60).json()
                   for name, url in servers.urls.items()}  # fmt: skip
        if "errors" in answers["diplo"]:
            raise RuntimeError(f"Diplo answers the {shape} with errors: {answers['diplo']['errors']}")
        expected = instants(answers["diplo"])
        for name, answer in answers.items():
            theirs = as_diplo(shape, answer) if name == "postgraphile" else instants(answer)
            if theirs != expected:
                raise RuntimeError(f"{name} answers the {shape} differently from Diplo")
        found: dict[str, Any] = {}
        if rounds == 0:
            continue
        for _ in range(rounds):
            for name, url in servers.urls.items():
                rate, p50 = wrk(url + "/graphql", bodies[name], seconds, SHAPE_CONNECTIONS)
                if rate > found.get(name, {"rps": 0.0})["rps"]:
                    found[name] = {"rps": rate, "p50_ms": p50}
        found["memory_mb"] = servers.memory()
        found["bytes"] = len(json.dumps(answers["diplo"], ensure_ascii=False, separators=(",", ":")).encode())
        results[shape] = found
        print(f"{shape}: " + ", ".join(f"{n} {found[n]['rps']:.0f}/s" for n in servers.urls), file=sys.stderr)
    return results


def run(db: Path, seconds: float, rounds: int) -> dict[str, Any]:
    if rounds > 0 and shutil.which("wrk") is None:
        raise Missing("wrk is not installed (Debian: apt-get install wrk)")
    node_binary()
    results: dict[str, Any] = {}
    with ExitStack() as stack:
        target = stack.enter_context(cluster())
        started = time.perf_counter()
        results["copied_rows"] = copy_database(db, target)
        results["copy_seconds"] = time.perf_counter() - started
        peer_url, peer = stack.enter_context(postgraphile(target))
        serve = [sys.executable, "-m", "diplo", "serve", "--db", str(db), "--no-graphiql", "--workers", "1"]
        diplo_url, diplo = stack.enter_context(server(serve, "/healthz"))
        floor_url, _ = stack.enter_context(server([sys.executable, __file__, "--floor", str(db)], "/graphql"))

        def memory() -> dict[str, float]:
            return {
                "diplo_rss": _status_mb(diplo.pid, "VmRSS"),
                "node_rss": _status_mb(peer.pid, "VmRSS"),
                "postgres_pss": pss_mb(target.server_pids()),
            }

        urls = {"diplo": diplo_url, "postgraphile": peer_url, "floor": floor_url}
        results["shapes"] = measure(Servers(urls, memory), seconds, rounds)
        results["peak_mb"] = {"diplo": _status_mb(diplo.pid, "VmHWM"), "node": _status_mb(peer.pid, "VmHWM")}
        results["postgres"] = subprocess.run([str(target.bin / "postgres"), "--version"], capture_output=True,
                                             text=True, check=False).stdout.strip()  # fmt: skip
        results["postgraphile"] = json.loads((PROJECT / "node_modules" / "postgraphile" / "package.json")
                                             .read_text())["version"]  # fmt: skip
        results["node"] = subprocess.run([str(node_binary()), "--version"], capture_output=True, text=True,
                                         check=False).stdout.strip()  # fmt: skip
    return results


def report(r: dict[str, Any], db: Path, seconds: float, rounds: int) -> str:
    load = os.getloadavg()
    lines = [
        f"{dt.date.today()}; {os.cpu_count()} cores; load average before the run {r['load_before']}, after "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; database {db.name}; one Diplo worker; PostGraphile "
        f"{r['postgraphile']} on {r['node']}, {r['postgres']}; wrk, {SHAPE_CONNECTIONS} connections, "
        f"{seconds:.0f} s, best of {rounds}, servers in turn",
        "| shape | Diplo requests/s | PostGraphile | floor | Diplo/PostGraphile | Diplo/floor | p50 Diplo | "
        "p50 PostGraphile | p50 floor | Diplo RSS | PostGraphile RSS + Postgres PSS |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for shape, s in r["shapes"].items():
        diplo, peer, base, memory = s["diplo"], s["postgraphile"], s["floor"], s["memory_mb"]
        lines.append(
            f"| {shape} | {diplo['rps']:.0f} | {peer['rps']:.0f} | {base['rps']:.0f} | "
            f"{diplo['rps'] / peer['rps']:.2f}x | {diplo['rps'] / base['rps']:.0%} | {diplo['p50_ms']:.1f} ms | "
            f"{peer['p50_ms']:.1f} ms | {base['p50_ms']:.1f} ms | {memory['diplo_rss']:.0f} MB | "
            f"{memory['node_rss']:.0f} + {memory['postgres_pss']:.0f} MB |"
        )
    lines.append(
        f"peak RSS: Diplo {r['peak_mb']['diplo']:.0f} MB, PostGraphile's node {r['peak_mb']['node']:.0f} MB; "
        f"copy into PostgreSQL: {sum(r['copied_rows'].values()):,} rows in {r['copy_seconds']:.0f} s"
    )
    return "\n".join(lines)


def serve_floor(db: Path, port: int) -> None:
    """bench/floor.py with the persons shape's floor too."""
    import uvicorn

    floor.ANSWERS[PERSONS_QUERY] = persons_floor
    uvicorn.run(floor.create_floor_app(db), host="127.0.0.1", port=port, log_level="warning")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="a database built by diplo load")
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=2, help="measurements of each server per shape")
    parser.add_argument("--out", type=Path, help="also write the results here, as JSON")
    parser.add_argument("--check", action="store_true", help="only check that the answers agree (no timings)")
    parser.add_argument("--floor", nargs=2, metavar=("DB", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        serve_floor(Path(args.floor[0]), int(args.floor[1]))
        return 0
    if args.db is None or not args.db.is_file():
        parser.error("--db: a database built by diplo load is needed (diplo synth, then diplo load)")
    # A SIGTERM ends the run as Ctrl-C does: through every context's cleanup.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load = os.getloadavg()
    try:
        results = run(args.db, args.seconds, 0 if args.check else args.rounds)
    except (Missing, RuntimeError, httpx.HTTPError) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    if args.check:
        print(f"{len(QUERIES)} shapes: Diplo, PostGraphile and the floor answer the same")
        return 0
    results["load_before"] = f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    print(report(results, args.db, args.seconds, args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
