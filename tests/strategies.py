"""Hypothesis strategies for valid Diplo datasets, as the raw content of seed files."""

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import yaml
from diplo import dates
from diplo.store import SEARCHED
from hypothesis import strategies as st

COUNTRIES = ["US", "RU", "TR", "SA", "ID", "FR", "DE", "CN"]
LANGUAGES = ["en", "id", "ru", "tr", "fr", "de", "zh-Hans", "pt-BR"]
WORDS = [
    "talks",
    "embassy",
    "dialog",
    "Moskow",
    "Washington",
    "perundingan",
    "ℵ",
    "über",
    "l'été",
    "“quoted”",
    "mission",
    "flights",
    "staff",
    "banking",
    "hope",
    "rasa",
    "saling",
    "менять",
    "話",
]

word = st.sampled_from(WORDS)
label = st.lists(word, min_size=1, max_size=4).map(" ".join)
sentence = st.lists(word, min_size=1, max_size=12).map(" ".join)
Files = dict[str, dict[str, Any]]


def _keys(prefix: str, n: int) -> list[str]:
    return [f"{prefix}-{i}" for i in range(n)]


@st.composite
def date_texts(draw: st.DrawFn, day: dt.date, open_start: bool = True) -> str:
    """A date of the EDTF subset whose span holds `day`: the day, its month or year (qualified or not), or an
    interval around it, open at either end (at its start only when `open_start`)."""
    qualifier = draw(st.sampled_from(["", "", "~", "?", "%"]))
    forms = [day.isoformat(), day.isoformat()[:7] + qualifier, day.isoformat()[:4] + qualifier]
    before, after = (
        day - dt.timedelta(days=draw(st.integers(0, 40))),
        day + dt.timedelta(days=draw(st.integers(0, 40))),
    )
    forms += [
        f"{before.isoformat()}/{after.isoformat()}",
        f"{before.isoformat()[:7]}/{after.isoformat()}",
        f"{before}/..",
    ]
    if open_start:
        forms.append(f"../{after}")
    return draw(st.sampled_from(forms))


@st.composite
def datasets(draw: st.DrawFn, max_meetings: int = 6, max_statements: int = 8) -> Files:
    """A valid dataset: one to three seed files, each one source's report. The first file (by name) reports
    every record in full; the others report some of the same records again, agreeing on facts, in their own
    wording, leaving facts out, or as planned a meeting that the first reports held (with tentative details)."""
    n_sources = draw(st.integers(1, 3))
    sources = []
    for key in _keys("src", n_sources):
        offset = draw(st.integers(-12, 14))
        published = dt.datetime(2025, 6, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=offset)))
        published += dt.timedelta(days=draw(st.integers(0, 200)), minutes=draw(st.integers(0, 1439)))
        source: dict[str, Any] = {
            "key": key,
            "outlet": draw(label),
            "title": draw(label),
            "published_at": published.isoformat(),
            "language": draw(st.sampled_from(LANGUAGES)),
            "via": draw(st.lists(label, max_size=2)),
        }
        if draw(st.booleans()):
            source["text"] = draw(st.lists(sentence, min_size=1, max_size=4).map("\n\n".join))
        if draw(st.booleans()):
            source["url"] = f"https://news.example/{key}"
        sources.append(source)

    persons = [
        {"key": key, "name": draw(label)}
        | ({"country": c} if (c := draw(st.sampled_from([*COUNTRIES, None]))) else {})
        | ({"wikidata": f"Q{draw(st.integers(1, 10**8))}"} if draw(st.booleans()) else {})
        for key in _keys("person", draw(st.integers(1, 6)))
    ]
    organizations = [
        {"key": key, "name": draw(label)} | ({"country": c} if (c := draw(st.sampled_from([*COUNTRIES, None]))) else {})
        for key in _keys("org", draw(st.integers(1, 3)))
    ]
    topics = [
        {
            "key": key,
            "label": draw(label),
            "labels": draw(st.dictionaries(st.sampled_from(LANGUAGES), label, max_size=2)),
        }
        for key in _keys("topic", draw(st.integers(1, 4)))
    ]
    topic_keys = [t["key"] for t in topics]

    meetings: list[dict[str, Any]] = []
    day = dt.date(2020, 1, 1)
    for i, key in enumerate(_keys("meeting", draw(st.integers(1, max_meetings)))):
        day += dt.timedelta(days=draw(st.integers(1, 90)))  # strictly increasing, so any follow-up is later
        status = "held" if i == 0 else draw(st.sampled_from(["held", "planned"]))
        meeting: dict[str, Any] = {
            "key": key,
            "title": draw(label),
            "status": status,
            "format": draw(st.sampled_from(["in_person", "phone_call", "video_call"])),
            "topics": draw(st.lists(st.sampled_from(topic_keys), max_size=3)),
        }
        if status == "held" or draw(st.booleans()):
            meeting["date"] = day.isoformat() if draw(st.booleans()) else draw(date_texts(day))
        if draw(st.booleans()):
            meeting["city"] = draw(label)
            meeting["host_country"] = draw(st.sampled_from(COUNTRIES))
        if i and draw(st.booleans()):
            previous = meetings[draw(st.integers(0, i - 1))]
            meeting["follows"] = previous["key"]
            if "round" in previous and draw(st.booleans()):
                meeting["round"] = previous["round"] + 1
        elif draw(st.booleans()):
            meeting["round"] = draw(st.integers(1, 5))
        countries = draw(st.lists(st.sampled_from(COUNTRIES), min_size=2, max_size=4, unique=True))
        meeting["delegations"] = []
        for country in countries:
            eligible = [p["key"] for p in persons if p.get("country") in (country, None)]
            delegation: dict[str, Any] = {"country": country}
            if eligible and draw(st.booleans()):
                delegation["head"] = draw(st.sampled_from(eligible))
                delegation["head_role"] = draw(label)
            delegation["members"] = draw(st.lists(st.sampled_from([p["key"] for p in persons]), max_size=2))
            meeting["delegations"].append(delegation)
        if draw(st.booleans()):
            meeting["summary"] = draw(sentence)
        meetings.append(meeting)

    names = [f"{source['key']}.{draw(st.sampled_from(['yaml', 'json']))}" for source in sources]
    files: Files = {name: {"source": source} for name, source in zip(names, sources, strict=True)}
    main = files[min(files)]
    main.update(persons=persons, organizations=organizations, topics=topics, meetings=meetings, statements=[])
    for name in sorted(files)[1:]:
        content = files[name]
        content["persons"] = [_partial_named(draw, p) for p in persons if draw(st.booleans())]
        content["topics"] = [
            {"key": t["key"], "label": draw(label), "labels": draw(st.dictionaries(st.sampled_from(LANGUAGES), label,
                                                                                    max_size=1))}
            for t in topics if draw(st.booleans())
        ]  # fmt: skip
        content["meetings"] = [_partial_meeting(draw, m) for m in meetings if draw(st.booleans())]

    for key in _keys("statement", draw(st.integers(1, max_statements))):
        name = draw(st.sampled_from(sorted(files)))
        source = files[name]["source"]
        kind = draw(st.sampled_from(["direct_quote", "paraphrase"]))
        text = draw(sentence)
        if kind == "direct_quote" and "text" in source:
            words = source["text"].split()
            start = draw(st.integers(0, len(words) - 1))
            text = " ".join(words[start : start + draw(st.integers(1, 5))])
        statement: dict[str, Any] = {
            "key": key,
            "text": text,
            "language": draw(st.sampled_from(LANGUAGES)),
            "kind": kind,
            "translations": draw(st.dictionaries(st.sampled_from(LANGUAGES), sentence, max_size=2)),
            "topics": draw(st.lists(st.sampled_from(topic_keys), max_size=2)),
        }
        if draw(st.booleans()):
            statement["source"] = source["key"]
        speaker = draw(st.sampled_from([None, *[p["key"] for p in persons]]))
        if speaker:
            statement["speaker"] = speaker
        if speaker is None or draw(st.booleans()):
            statement["organization"] = draw(st.sampled_from([o["key"] for o in organizations]))
        meeting = draw(st.sampled_from([None, *meetings]))
        if meeting is not None:
            statement["meeting"] = meeting["key"]
        if draw(st.booleans()):
            # On or after the meeting's latest day (its span may be open: then after its day).
            earliest = day
            if meeting and "date" in meeting:
                earliest = dates.parse(meeting["date"]).latest or day
            said = earliest + dt.timedelta(days=draw(st.integers(0, 30)))
            statement["date"] = said.isoformat() if draw(st.booleans()) else draw(date_texts(said, open_start=False))
            statement["occasion"] = draw(label)
        files[name].setdefault("statements", []).append(statement)
    return files


def _partial_named(draw: st.DrawFn, record: dict[str, Any]) -> dict[str, Any]:
    """Another source's report of a person or organization: its own spelling, some of the facts."""
    report = {"key": record["key"], "name": draw(st.sampled_from([record["name"], draw(label)]))}
    return report | {k: v for k, v in record.items() if k in ("country", "wikidata") and draw(st.booleans())}


def _partial_meeting(draw: st.DrawFn, meeting: dict[str, Any]) -> dict[str, Any]:
    """Another source's report of a meeting: some of its facts, other words, perhaps as still planned."""
    planned = meeting["status"] == "planned" or draw(st.booleans())
    report: dict[str, Any] = {"key": meeting["key"], "status": "planned" if planned else "held"}
    settled = meeting["status"] == "held" and planned  # what a held report gives supersedes these
    for name in ("title", "summary"):
        if name in meeting and draw(st.booleans()):
            report[name] = draw(st.sampled_from([meeting[name], draw(sentence if name == "summary" else label)]))
    for name in ("format", "date", "city", "host_country", "round", "follows"):
        if name in meeting and draw(st.booleans()):
            report[name] = meeting[name]
    if settled and "date" in report and len(report["date"]) == 10 and draw(st.booleans()):  # tentative, before
        report["date"] = (
            dt.date.fromisoformat(meeting["date"]) - dt.timedelta(days=draw(st.integers(1, 9)))
        ).isoformat()
    if settled and draw(st.booleans()):
        report["city"] = draw(label)
    report["topics"] = [t for t in meeting["topics"] if draw(st.booleans())]
    delegations = [d for d in meeting["delegations"] if draw(st.booleans())]
    if len(delegations) < 2:
        delegations = meeting["delegations"][:2]
    report["delegations"] = [
        {"country": d["country"], "members": [m for m in d["members"] if draw(st.booleans())]}
        | ({"head": d["head"]} if "head" in d and draw(st.booleans()) else {})
        | ({"head_role": draw(label)} if "head_role" in d and draw(st.booleans()) else {})
        for d in delegations
    ]
    return report


def write_files(directory: Path, files: Files) -> list[Path]:
    """Write seed file contents as YAML or JSON, by each name's suffix."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in files.items():
        path = directory / name
        if name.endswith(".json"):
            path.write_text(json.dumps(content, ensure_ascii=False, indent=1), encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")
        paths.append(path)
    return paths


def canonical(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted, without rowids (and the full-text index by statement key): two databases
    with equal content give equal dumps, whatever order their rows were written in."""
    conn = sqlite3.connect(db)
    try:
        tables = [name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%_fts%'"
        )]  # fmt: skip
        dump = {table: sorted(conn.execute(f"SELECT * FROM {table}"), key=repr) for table in tables}
        for table in ("statements", *SEARCHED):
            dump[f"{table}_fts"] = sorted(conn.execute(
                f"SELECT t.key, f.* FROM {table} t JOIN {table}_fts f ON f.rowid = t.rowid"
            ))  # fmt: skip
    finally:
        conn.close()
    return dump


# Text that tries what a writer of YAML gets wrong: every line end (CRLF, a lone CR, blank lines at the end), a BOM,
# astral characters, Unicode's line and paragraph separators, and what YAML gives a meaning to.
HOSTILE_PIECES = ["\n", "\r\n", "\n\n", "\r", "\t", " ", "  ", "\ufeff", "\U0001f600", "\U00010348", "\u2028", "\u2029",
                  "\u00a0", "\u200b", "...", "---", "# ", ": ", "- ", "'", '"', "\\", "|", ">", "%", "@", "`", "&",
                  "*", "!", "?", "{", "]", "0", "1e3", "NO", "~"]  # fmt: skip
TRAILERS = ["", "\n", "\n\n", "\r\n\r\n", "\n \n", "\n\n\n\t", "\r\n", " "]
hostile_text = st.tuples(
    st.sampled_from(["", "\ufeff"]),
    st.lists(st.characters(codec="utf-8", exclude_categories=["Cc"]) | st.sampled_from(HOSTILE_PIECES), max_size=40),
    st.sampled_from(TRAILERS),
).map(lambda parts: parts[0] + "".join(parts[1]) + parts[2])
