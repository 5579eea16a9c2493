"""Hypothesis strategies for valid Diplo datasets, as the raw content of seed files."""

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml
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
def datasets(draw: st.DrawFn, max_meetings: int = 6, max_statements: int = 8) -> Files:
    """A valid dataset: one or two seed files, with at least one record of every type."""
    n_sources = draw(st.integers(1, 2))
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
    source_keys = [s["key"] for s in sources]

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
            "sources": draw(st.lists(st.sampled_from(source_keys), min_size=1, max_size=2, unique=True)),
        }
        if status == "held" or draw(st.booleans()):
            meeting["date"] = day.isoformat()
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

    statements = []
    for key in _keys("statement", draw(st.integers(1, max_statements))):
        source = draw(st.sampled_from(sources))
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
            "source": source["key"],
        }
        speaker = draw(st.sampled_from([None, *[p["key"] for p in persons]]))
        if speaker:
            statement["speaker"] = speaker
        if speaker is None or draw(st.booleans()):
            statement["organization"] = draw(st.sampled_from([o["key"] for o in organizations]))
        meeting = draw(st.sampled_from([None, *meetings]))
        if meeting is not None:
            statement["meeting"] = meeting["key"]
        if draw(st.booleans()):
            earliest = dt.date.fromisoformat(meeting["date"]) if meeting and "date" in meeting else day
            statement["date"] = (earliest + dt.timedelta(days=draw(st.integers(0, 30)))).isoformat()
            statement["occasion"] = draw(label)
        statements.append(statement)

    files: Files = {}
    for source in sources:
        files[f"{source['key']}.{draw(st.sampled_from(['yaml', 'json']))}"] = {"source": source}
    first = files[min(files)]
    first.update(persons=persons, organizations=organizations, topics=topics, meetings=meetings, statements=statements)
    return files


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
