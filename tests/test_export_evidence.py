"""`diplo export` keeps evidence: export → load gives the same database, and export again the same files; with
`--annotations`, every evidence quote is a W3C Web Annotation (https://www.w3.org/TR/annotation-model/)."""

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import SEEDS
from diplo.cli import cli
from diplo.graphql.catalog import TYPES
from diplo.graphql.ids import parse_global_id
from diplo.ingest.export import ExportError, export_seeds
from diplo.ingest.session import load_seeds
from diplo.vocabulary import EVIDENCE_KINDS, QUOTE_CONTEXT, Basis, graphql_field_name
from strategies import canonical

# A report whose evidence has every form and every kind of record. Its records are in key order, as an export
# writes them: the source's digest (a hash of its rows in file order) then agrees too.
REPORT = """\
source:
  key: a-wire-2025-03-01
  outlet: A Wire
  title: Envoys meet in Geneva
  url: https://wire.example/2025/03/01/geneva
  published_at: 2025-03-01T09:00:00+01:00
  retrieved_at: 2025-03-02T10:00:00+01:00
  archive_url: https://archive.example/wire-geneva
  language: en
  text: |-
    Envoys of Norway and Chile met in Geneva on Thursday, the ministry said.
    “We will meet again,” the Norwegian envoy Ana Lima said.
    “We will meet again,” the Chilean envoy Boris Rojas replied.
    Both delegations said the talks in Geneva were useful. Officials from the two foreign ministries joined them.
    In January, a spokesman for the foreign ministry told reporters: progress was made, and more meetings will follow.
    In February, a spokesman for the foreign ministry told reporters: progress was made, and more meetings will follow.
  evidence:
    published_at: {basis: assumed, note: the wire gives no time of day}
persons:
  - key: ana-lima
    name: Ana Lima
    country: "NO"
    evidence:
      country: [the Norwegian envoy Ana Lima, Envoys of Norway]
  - key: boris-rojas
    name: Boris Rojas
    country: CL
    evidence:
      country: the Chilean envoy Boris Rojas
organizations:
  - key: norwegian-foreign-ministry
    name: Ministry of Foreign Affairs of Norway
    country: "NO"
    wikidata: Q1412093
    evidence:
      country: {quote: Officials from the two foreign ministries, basis: inferred, note: one of them is Norway's}
      wikidata: {basis: external, note: Wikidata's item for the ministry}
topics:
  - key: geneva-talks
    label: Talks in Geneva
    evidence:
      label: the talks in Geneva were useful
meetings:
  - key: norway-chile-talks-geneva
    title: Norway–Chile talks in Geneva
    status: held
    format: in_person
    date: 2025-02-27
    host_country: CH
    topics: [geneva-talks]
    delegations:
      - country: "NO"
        head: ana-lima
        evidence:
          head: the Norwegian envoy Ana Lima
      - country: CL
        head: boris-rojas
        members: [boris-rojas]
        evidence:
          members: [the Chilean envoy Boris Rojas, Boris Rojas replied]
    evidence:
      status: met in Geneva on Thursday
      date: {quote: on Thursday, basis: inferred, note: the Thursday before publication}
      host_country: {quote: Geneva, prefix: met in, basis: inferred, note: Geneva is in Switzerland}
      delegations: [Envoys of Norway and Chile]
statements:
  - key: ana-lima-meet-again
    text: We will meet again
    language: en
    kind: direct_quote
    speaker: ana-lima
    meeting: norway-chile-talks-geneva
  - key: boris-rojas-meet-again
    text: We will meet again
    language: en
    kind: direct_quote
    speaker: boris-rojas
    meeting: norway-chile-talks-geneva
    evidence:
      text: {quote: We will meet again, prefix: Ana Lima said. “}
      speaker: the Chilean envoy Boris Rojas replied
  - key: foreign-ministry-progress
    text: progress was made
    language: en
    kind: paraphrase
    date: 2025-02-15
    organization: norwegian-foreign-ministry
    evidence:
      date:
        quote: progress was made
        prefix: 'In February, a spokesman for the foreign ministry told reporters:'
        basis: inferred
        note: some day in February; the middle of it
  - key: talks-were-useful
    text: the talks in Geneva were useful
    language: en
    kind: direct_quote
    organization: norwegian-foreign-ministry
    meeting: norway-chile-talks-geneva
    evidence:
      text: the talks in Geneva were useful
      organization: Officials from the two foreign ministries
"""
# A second source: JSON, no url, a text with CRLF line ends, which a quote may not hold.
RADIO = {
    "source": {
        "key": "b-radio-2025-03-02", "outlet": "B Radio", "title": "Oslo next", "language": "en",
        "published_at": "2025-03-02T08:00:00+01:00",
        "text": "Radio report.\r\nThe ministers agreed\r\nto meet in Oslo.",
        "evidence": {"title": "ministers agreed to meet in Oslo"},
    },
}  # fmt: skip
W3C_MOTIVATIONS = {"assessing", "bookmarking", "classifying", "commenting", "describing", "editing", "highlighting",
                   "identifying", "linking", "moderating", "questioning", "replying", "tagging"}  # fmt: skip
IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two reports, loaded."""
    root = tmp_path_factory.mktemp("evidence")
    (root / "seeds").mkdir()
    (root / "seeds" / "a-wire-2025-03-01.yaml").write_text(REPORT, encoding="utf-8")
    (root / "seeds" / "b-radio-2025-03-02.json").write_text(json.dumps(RADIO), encoding="utf-8")
    load_seeds(root / "a.db", [root / "seeds"])
    return root / "a.db"


def exported(db: Path, out: Path, name: str) -> dict[str, Any]:
    export_seeds(db, out)
    content: dict[str, Any] = yaml.safe_load((out / f"{name}.yaml").read_text(encoding="utf-8"))
    return content


def by_key(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in records}


def test_evidence_round_trips_to_the_same_rows_and_files(loaded: Path, tmp_path: Path) -> None:
    export_seeds(loaded, tmp_path / "first")
    load_seeds(tmp_path / "b.db", [tmp_path / "first"])
    assert canonical(tmp_path / "b.db") == canonical(loaded)  # every table, the digests and the build id too
    export_seeds(tmp_path / "b.db", tmp_path / "again")
    for path in (tmp_path / "first").iterdir():
        assert path.read_bytes() == (tmp_path / "again" / path.name).read_bytes()


def test_the_bundled_seed_round_trips(article_db: Path, tmp_path: Path) -> None:
    export_seeds(article_db, tmp_path / "first")
    assert "text_sha256" not in (tmp_path / "first" / f"{next(SEEDS.glob('*.yaml')).stem}.yaml").read_text()
    load_seeds(tmp_path / "b.db", [tmp_path / "first"])  # refused while the export wrote the text's digest
    # An export lists records by key, the bundled seed in reading order: a source's digest does not depend on it,
    # so every table, the digests and the build id are the same.
    assert canonical(tmp_path / "b.db") == canonical(article_db)
    export_seeds(tmp_path / "b.db", tmp_path / "again")
    for path in (tmp_path / "first").iterdir():
        assert path.read_bytes() == (tmp_path / "again" / path.name).read_bytes()


def test_export_writes_the_shortest_form_that_loads_back_the_same(loaded: Path, tmp_path: Path) -> None:
    content = exported(loaded, tmp_path / "out", "a-wire-2025-03-01")
    assert "text_sha256" not in content["source"]  # derived by a load, refused in a seed file
    assert content["source"]["evidence"] == {
        "published_at": {"basis": "assumed", "note": "the wire gives no time of day"}
    }
    assert by_key(content["persons"])["ana-lima"]["evidence"] == {
        "country": ["the Norwegian envoy Ana Lima", "Envoys of Norway"]
    }
    assert by_key(content["persons"])["boris-rojas"]["evidence"] == {"country": "the Chilean envoy Boris Rojas"}
    assert by_key(content["organizations"])["norwegian-foreign-ministry"]["evidence"] == {
        "country": {"quote": "Officials from the two foreign ministries", "basis": "inferred",
                    "note": "one of them is Norway's"},
        "wikidata": {"basis": "external", "note": "Wikidata's item for the ministry"},
    }  # fmt: skip
    (meeting,) = content["meetings"]
    evidence = meeting["evidence"]
    assert list(evidence) == ["status", "date", "host_country", "delegations"]  # the stored order
    assert evidence["date"] == {"quote": "on Thursday", "basis": "inferred", "note": "the Thursday before publication"}
    # "Geneva" occurs three times: the stored context before it picks the seed's.
    assert evidence["host_country"]["quote"] == "Geneva"
    assert evidence["host_country"]["prefix"].endswith("met in")
    assert [d.get("evidence") for d in meeting["delegations"]] == [
        {"head": "the Norwegian envoy Ana Lima"}, {"members": ["the Chilean envoy Boris Rojas", "Boris Rojas replied"]}
    ]  # fmt: skip
    statements = by_key(content["statements"])
    assert "evidence" not in statements["ana-lima-meet-again"]  # its own text, which a load gives it again
    second = statements["boris-rojas-meet-again"]["evidence"]["text"]
    assert second["quote"] == "We will meet again"
    assert second["prefix"].endswith('Ana Lima said. "')
    # Its own text, but given before its organization: written, so that it keeps its place.
    assert list(statements["talks-were-useful"]["evidence"]) == ["text", "organization"]
    # The 32 characters either side are the same at both places: a longer prefix, in whole words, picks it.
    date = statements["foreign-ministry-progress"]["evidence"]["date"]
    assert date["prefix"] == "February, a spokesman for the foreign ministry told reporters:"
    assert len(date["prefix"]) > QUOTE_CONTEXT
    radio = exported(loaded, tmp_path / "radio", "b-radio-2025-03-02")
    assert radio["source"]["evidence"] == {"title": "ministers agreed to meet in Oslo"}  # its CRLF folded


def test_a_quote_is_written_as_the_source_has_it(tmp_path: Path) -> None:
    """The stored words, line breaks and quote marks as in the text, which match again when loaded."""
    report = yaml.safe_load(REPORT)
    report["source"]["evidence"] = {"title": "“We will meet again,” the Norwegian"}
    report["persons"][1]["evidence"] = {"country": "Boris Rojas replied. Both"}  # a line break in the text
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "a.yaml").write_text(yaml.safe_dump(report, allow_unicode=True), encoding="utf-8")
    load_seeds(tmp_path / "a.db", [tmp_path / "seeds"])
    content = exported(tmp_path / "a.db", tmp_path / "out", "a-wire-2025-03-01")
    assert content["source"]["evidence"]["title"] == "“We will meet again,” the Norwegian"
    assert by_key(content["persons"])["boris-rojas"]["evidence"]["country"] == "Boris Rojas replied.\nBoth"
    load_seeds(tmp_path / "b.db", [tmp_path / "out"])
    assert canonical(tmp_path / "b.db") == canonical(tmp_path / "a.db")


def annotations_of(db: Path, tmp_path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["export", "--db", str(db), str(tmp_path / "out"),
                                      "--annotations", str(tmp_path / "evidence.jsonld")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "and the annotations of their evidence to" in result.output
    document: dict[str, Any] = json.loads((tmp_path / "evidence.jsonld").read_text(encoding="utf-8"))
    return document


def test_annotations_have_the_web_annotation_models_required_shape(loaded: Path, tmp_path: Path) -> None:
    collection = annotations_of(loaded, tmp_path)
    # 5.1 Annotation Collection: @context (the model's first), id, type; total; first (the page, embedded).
    context = collection["@context"]
    assert context[0] == "http://www.w3.org/ns/anno.jsonld"
    assert IRI.match(collection["id"])
    assert collection["type"] == "AnnotationCollection"
    page = collection["first"]
    # 5.2 Annotation Page: id, type, items (one or more); partOf its collection.
    assert IRI.match(page["id"])
    assert page["type"] == "AnnotationPage"
    assert page["partOf"] == collection["id"]
    assert page["startIndex"] == 0
    assert collection["last"] == page["id"]
    items = page["items"]
    conn = sqlite3.connect(loaded)
    quotes = conn.execute("SELECT source, kind, record, seed_field, position FROM evidence_quotes").fetchall()
    texts = dict(conn.execute("SELECT key, text FROM sources"))
    urls = dict(conn.execute("SELECT key, url FROM sources"))
    evidence = {
        r[:4]: r[4:] for r in conn.execute("SELECT source, kind, record, seed_field, basis, note FROM evidence")
    }
    assert collection["total"] == len(items) == len(quotes)
    # Only the model's terms, and those the collection's own context defines.
    terms = set(context[1]) | {"id", "type", "motivation", "body", "target", "source", "selector", "exact", "prefix",
                               "suffix", "start", "end"}  # fmt: skip
    seen = set()
    for annotation in items:
        # 3.1 Annotation: id (an IRI), type Annotation, target (one or more); a motivation of the vocabulary.
        assert IRI.match(annotation["id"])
        assert annotation["type"] == "Annotation"
        assert annotation["motivation"] in W3C_MOTIVATIONS
        target, body = annotation["target"], annotation["body"]
        assert keys_of(annotation) <= terms
        # 4.2 Specific Resource: a source; 4.2.4 TextQuoteSelector (exact) and 4.2.5 TextPositionSelector
        # (start, end), two selectors of the same passage.
        quote, position = target["selector"]
        assert quote["type"] == "TextQuoteSelector"
        assert position["type"] == "TextPositionSelector"
        assert isinstance(quote["exact"], str)
        assert quote["exact"]
        assert isinstance(position["start"], int)
        assert 0 <= position["start"] < position["end"]
        source, kind, record, seed_field, n = annotation["id"].removeprefix("urn:diplo:annotation:").split(":")
        seen.add((source, kind, record, seed_field, int(n)))
        assert target["source"] == (urls[source] or f"urn:diplo:source:{source}")
        text, start, end = texts[source], position["start"], position["end"]
        assert text[start:end] == quote["exact"]
        assert text[max(0, start - QUOTE_CONTEXT) : start] == quote.get("prefix", "")
        assert text[end : end + QUOTE_CONTEXT] == quote.get("suffix", "")
        # The body: the fact it supports (the record's id in the API, the field's name there) and its basis.
        type_name, key = parse_global_id(body["record"])
        assert type_name in TYPES
        assert key == record
        assert body["field"] == graphql_field_name(seed_field)
        assert IRI.match(body["id"])
        basis, note = evidence[source, kind, record, seed_field]
        assert (Basis(body["basis"]), body.get("note")) == (Basis(basis), note)
    assert seen == set(quotes)  # every quote, once
    assert {kind for _, kind, *_ in seen} == set(EVIDENCE_KINDS)
    sources = {a["target"]["source"] for a in items}
    assert sources == {"https://wire.example/2025/03/01/geneva", "urn:diplo:source:b-radio-2025-03-02"}
    conn.close()


def keys_of(value: Any) -> set[str]:
    """Every key of a JSON value's objects."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


def test_a_database_without_evidence_is_an_empty_collection(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    without_text = {"source": {k: v for k, v in RADIO["source"].items() if k not in ("text", "evidence")}}
    (tmp_path / "seeds" / "b.json").write_text(json.dumps(without_text), encoding="utf-8")
    load_seeds(tmp_path / "a.db", [tmp_path / "seeds"])
    collection = annotations_of(tmp_path / "a.db", tmp_path)
    assert collection["total"] == 0
    assert "first" not in collection


def test_the_annotations_file_is_refused_where_it_would_be_lost(loaded: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out, file = tmp_path / "out", tmp_path / "evidence.jsonld"
    file.write_text("kept")
    refused = runner.invoke(cli, ["export", "--db", str(loaded), str(out), "--annotations", str(file)])
    assert refused.exit_code == 1
    assert "evidence.jsonld exists: choose another file, or --replace it" in refused.output
    assert file.read_text() == "kept"
    assert not out.exists()
    inside = runner.invoke(cli, ["export", "--db", str(loaded), str(out), "--annotations", str(out / "a.jsonld")])
    assert inside.exit_code == 1
    assert "which the export replaces whole" in inside.output
    assert not out.exists()
    replaced = runner.invoke(cli, ["export", "--db", str(loaded), str(out), "--annotations", str(file), "--replace"])
    assert replaced.exit_code == 0, replaced.output
    assert json.loads(file.read_text())["type"] == "AnnotationCollection"
    assert [p.name for p in tmp_path.iterdir() if "diplo-export" in p.name] == []  # no temporary file left


def test_the_annotations_are_written_with_the_seeds_or_not_at_all(loaded: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError):
        export_seeds(loaded, tmp_path / "out", annotations=tmp_path / "out")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.yaml").write_text("old")
    with pytest.raises(ExportError, match="out exists and is not empty"):
        export_seeds(loaded, tmp_path / "out", annotations=tmp_path / "evidence.jsonld")
    assert not (tmp_path / "evidence.jsonld").exists()
