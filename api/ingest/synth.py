"""Synthetic seeds at scale: deterministic, shaped like real coverage, valid under every rule.

Plain code rather than Hypothesis, so that a million statements take seconds: rules are satisfied by
construction (dates rise along follow-up chains, heads share their delegation's country, direct quotes are
cut from the source text that is built from them).
"""

import datetime as dt
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

COUNTRIES = ["US", "RU", "CN", "FR", "DE", "GB", "TR", "SA", "ID", "IN", "BR", "JP", "ZA", "UA", "IR", "QA"]
LANGUAGES = ["en", "id", "ru", "fr", "de", "tr", "ar", "zh"]
WORDS = [
    "talks",
    "embassy",
    "dialogue",
    "ministers",
    "ceasefire",
    "sanctions",
    "trade",
    "energy",
    "security",
    "visas",
    "flights",
    "banking",
    "staff",
    "mission",
    "treaty",
    "summit",
    "delegation",
    "agreement",
    "relations",
    "cooperation",
    "consulate",
    "negotiations",
    "round",
    "progress",
    "perundingan",
    "hubungan",
    "diplomatik",
    "kedutaan",
    "penerbangan",
    "dialog",
    "переговоры",
    "посольство",
    "диалог",
    "négociations",
    "ambassade",
    "dialogue",
    "Gespräche",
    "Botschaft",
    "müzakere",
    "büyükelçilik",
]
MEETINGS_PER_SOURCE = 10


def _sentence(rng: random.Random, low: int = 6, high: int = 16) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))).capitalize() + "."


def synthesize(meetings: int, statements_per_meeting: int = 10, seed: int = 0) -> Iterator[tuple[str, dict[str, Any]]]:
    """Seed files as (name, content), each a source with about ten meetings and their statements."""
    rng = random.Random(seed)
    persons = [
        {"key": f"person-{i}", "name": f"Person {i}", "country": COUNTRIES[i % len(COUNTRIES)]}
        for i in range(max(len(COUNTRIES) * 4, meetings // 2))
    ]
    organizations = [
        {"key": f"org-{i}", "name": f"Ministry {i}", "country": COUNTRIES[i % len(COUNTRIES)]} for i in range(500)
    ]
    topics = [{"key": f"topic-{i}", "label": f"Topic {i}", "labels": {"id": f"Topik {i}"}} for i in range(200)]
    yield "0000-registry.json", {
        "source": {"key": "synthetic-registry", "outlet": "Diplo synthetic", "title": "Registry",
                   "published_at": "2030-01-01T00:00:00+00:00", "language": "en"},
        "persons": persons, "organizations": organizations, "topics": topics,
    }  # fmt: skip

    by_country: dict[str, list[str]] = {c: [] for c in COUNTRIES}
    for person in persons:
        by_country[person["country"]].append(person["key"])
    start = dt.date(2000, 1, 1)
    chains: list[tuple[str, dt.date, int]] = []  # open follow-up chains: (last meeting, its date, its round)
    number = 0
    previous_file: list[dict[str, Any]] = []
    for file_number in range(0, meetings, MEETINGS_PER_SOURCE):
        source_key = f"synthetic-source-{file_number // MEETINGS_PER_SOURCE}"
        file_meetings, file_statements, quotes = [], [], []
        latest = start
        for _ in range(min(MEETINGS_PER_SOURCE, meetings - file_number)):
            day = start + dt.timedelta(days=number // 4 + rng.randint(0, 3))
            countries = rng.sample(COUNTRIES, rng.randint(2, 6))
            meeting: dict[str, Any] = {
                "key": f"meeting-{number}", "title": f"Meeting {number}", "status": "held",
                "format": rng.choice(["in_person", "in_person", "phone_call", "video_call"]),
                "date": day.isoformat(), "city": f"City {rng.randint(0, 300)}", "host_country": countries[0],
                "topics": rng.sample([t["key"] for t in topics], rng.randint(1, 4)), "sources": [source_key],
                "delegations": [
                    {"country": c, "head": rng.choice(by_country[c]), "head_role": "Head of delegation",
                     "members": rng.sample(by_country[c], 2)}
                    for c in countries
                ],
            }  # fmt: skip
            if chains and rng.random() < 0.5:
                index = rng.randrange(len(chains))
                previous, previous_day, previous_round = chains[index]
                if day > previous_day:
                    meeting["follows"], meeting["round"] = previous, previous_round + 1
                    chains[index] = (meeting["key"], day, previous_round + 1)
            elif rng.random() < 0.3:
                meeting["round"] = 1
                chains.append((meeting["key"], day, 1))
                if len(chains) > 1000:
                    chains.pop(0)
            if rng.random() < 0.05:  # now and then a planned meeting, undated
                meeting["status"] = "planned"
                del meeting["date"]
                meeting.pop("follows", None), meeting.pop("round", None)
            else:
                latest = max(latest, day)
            file_meetings.append(meeting)
            for s in range(statements_per_meeting):
                # a rare word as well as common ones, so that a search can be selective, as real ones mostly are
                text = f"{_sentence(rng)} Ref{rng.randint(0, 99_999)}."
                kind = "direct_quote" if rng.random() < 0.4 else "paraphrase"
                if kind == "direct_quote":
                    quotes.append(text)
                statement: dict[str, Any] = {
                    "key": f"statement-{number}-{s}", "text": text, "language": rng.choice(LANGUAGES), "kind": kind,
                    "translations": {"en": _sentence(rng)}, "speaker": rng.choice(meeting["delegations"])["head"],
                    "meeting": meeting["key"], "topics": meeting["topics"][:2], "source": source_key,
                }  # fmt: skip
                if "date" in meeting:
                    statement["date"] = (day + dt.timedelta(days=rng.randint(0, 1))).isoformat()
                    latest = max(latest, day + dt.timedelta(days=1))
                file_statements.append(statement)
            number += 1
        published = dt.datetime.combine(latest + dt.timedelta(days=1), dt.time(9), dt.UTC)
        # Coverage overlaps: each file reports again a meeting of the file before it, in its own words, with
        # fewer details, and its first head under another spelling.
        again = [m for m in previous_file[:1] if m.get("date", "") <= published.date().isoformat()]
        persons_again = [
            {"key": m["delegations"][0]["head"], "name": f"{m['delegations'][0]['head'].title()} (wire spelling)"}
            for m in again
        ]
        reports_again = [
            {"key": m["key"], "title": f"Talks reported again: {m['title']}", "status": m["status"],
             "delegations": [{"country": d["country"], "head": d["head"]} for d in m["delegations"][:2]],
             "topics": m["topics"][:1]}
            for m in again
        ]  # fmt: skip
        previous_file = file_meetings
        yield f"{source_key}.json", {
            "source": {"key": source_key, "outlet": f"Outlet {rng.randint(0, 50)}", "title": f"Report {source_key}",
                       "published_at": published.isoformat(), "language": "en", "via": ["Wire"],
                       "text": "\n\n".join(quotes) or None},
            "persons": persons_again, "meetings": reports_again + file_meetings, "statements": file_statements,
        }  # fmt: skip


def write_synthetic(out: Path, meetings: int, statements_per_meeting: int = 10, seed: int = 0) -> int:
    """Write the files into `out`; return how many statements they hold."""
    out.mkdir(parents=True, exist_ok=True)
    statements = 0
    for name, content in synthesize(meetings, statements_per_meeting, seed):
        if content["source"].get("text") is None:
            content["source"].pop("text", None)
        statements += len(content.get("statements", ()))
        (out / name).write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return statements
