"""One mutation per rule: each breaks exactly that rule in a valid dataset and says where the error must point."""

import datetime as dt
from collections.abc import Callable
from typing import Any

from diplo import dates
from strategies import Files

Expected = set[tuple[str, str]]  # {(file name, record path)}
Mutation = Callable[[Files], Expected]


def _main(files: Files) -> tuple[str, dict[str, Any]]:
    name = min(files)
    return name, files[name]


def _append(files: Files, kind: str, record: dict[str, Any], field: str) -> Expected:
    name, content = _main(files)
    content.setdefault(kind, []).append(record)
    return {(name, f"{kind}[{len(content[kind]) - 1}]{field}")}


def _meeting(files: Files, key: str, **fields: Any) -> dict[str, Any]:
    _, content = _main(files)
    return {
        "key": key,
        "title": "Mutation",
        "status": "held",
        "format": "in_person",
        "date": "2019-06-01",
        "sources": [content["source"]["key"]],
        "delegations": [{"country": "US"}, {"country": "RU"}],
    } | fields


def _statement(files: Files, key: str, **fields: Any) -> dict[str, Any]:
    _, content = _main(files)
    return {
        "key": key,
        "text": "a paraphrase",
        "language": "en",
        "kind": "paraphrase",
        "organization": content["organizations"][0]["key"],
        "source": content["source"]["key"],
    } | fields


def key_format(files: Files) -> Expected:
    return _append(files, "persons", {"key": "Not_A-Slug", "name": "X"}, ".key")


def key_conflict(files: Files) -> Expected:
    _, content = _main(files)
    person = dict(content["persons"][0], name="Someone else entirely")
    return _append(files, "persons", person, "")


def ref_unknown(files: Files) -> Expected:
    name, content = _main(files)
    content["meetings"][0]["topics"].append("no-such-topic")
    return {(name, f"meetings[0].topics[{len(content['meetings'][0]['topics']) - 1}]")}


def country_invalid(files: Files) -> Expected:
    return _append(files, "persons", {"key": "mutation-person", "name": "X", "country": "ZZ"}, ".country")


def language_invalid(files: Files) -> Expected:
    name, content = _main(files)
    content["source"]["language"] = "zz-not-a-tag"
    return {(name, "source.language")}


def text_invalid(files: Files) -> Expected:
    return _append(files, "organizations", {"key": "mutation-org", "name": "bad\u0007name"}, ".name")


def wikidata_invalid(files: Files) -> Expected:
    return _append(files, "persons", {"key": "mutation-person", "name": "X", "wikidata": "P31"}, ".wikidata")


def source_url(files: Files) -> Expected:
    name, content = _main(files)
    content["source"]["url"] = "ftp://files.example/article"
    return {(name, "source.url")}


def source_naive_datetime(files: Files) -> Expected:
    name, content = _main(files)
    content["source"]["published_at"] = "2025-06-01T10:00:00"
    return {(name, "source.published_at")}


def date_invalid(files: Files) -> Expected:
    return _append(files, "meetings", _meeting(files, "mutation-meeting", date="2019-13"), ".date")


def date_invalid_interval(files: Files) -> Expected:
    return _append(files, "statements", _statement(files, "mutation-statement", date="2019-06-02/2019-06-01"), ".date")


def published_invalid(files: Files) -> Expected:
    name, content = _main(files)
    content["source"]["published_at"] = "last Tuesday"
    return {(name, "source.published_at")}


def meeting_held_requires_date(files: Files) -> Expected:
    meeting = _meeting(files, "mutation-meeting")
    del meeting["date"]
    return _append(files, "meetings", meeting, ".date")


def meeting_date_after_source(files: Files) -> Expected:
    return _append(files, "meetings", _meeting(files, "mutation-meeting", date="2031-01-01"), ".date")


def meeting_span_after_source(files: Files) -> Expected:
    """A span whose earliest day is after publication: no day of it is possible."""
    return _append(files, "meetings", _meeting(files, "mutation-meeting", date="2031-01/.."), ".date")


def meeting_delegations(files: Files) -> Expected:
    meeting = _meeting(files, "mutation-meeting", delegations=[{"country": "US"}, {"country": "US"}])
    return _append(files, "meetings", meeting, ".delegations")


def meeting_follows_order(files: Files) -> Expected:
    first = _meeting(files, "mutation-first", date="2019-06-02")
    _append(files, "meetings", first, "")
    return _append(files, "meetings", _meeting(files, "mutation-second", follows="mutation-first"), ".date")


def meeting_follows_span_order(files: Files) -> Expected:
    """A follow-up whose every possible day is on or before the first day of the meeting it follows."""
    _append(files, "meetings", _meeting(files, "mutation-first", date="2019-06"), "")
    second = _meeting(files, "mutation-second", date="../2019-06-01", follows="mutation-first")
    return _append(files, "meetings", second, ".date")


def meeting_follows_cycle(files: Files) -> Expected:
    a = _meeting(files, "mutation-a", status="planned", follows="mutation-b")
    b = _meeting(files, "mutation-b", status="planned", follows="mutation-a")
    del a["date"], b["date"]
    return _append(files, "meetings", a, ".follows") | _append(files, "meetings", b, ".follows")


def meeting_round_sequence(files: Files) -> Expected:
    _append(files, "meetings", _meeting(files, "mutation-first", round=1), "")
    second = _meeting(files, "mutation-second", date="2019-06-02", round=3, follows="mutation-first")
    return _append(files, "meetings", second, ".round")


def delegation_head_country(files: Files) -> Expected:
    _append(files, "persons", {"key": "mutation-person", "name": "X", "country": "FR"}, "")
    meeting = _meeting(
        files, "mutation-meeting", delegations=[{"country": "US", "head": "mutation-person"}, {"country": "RU"}]
    )
    return _append(files, "meetings", meeting, ".delegations[0].head")


def statement_text(files: Files) -> Expected:
    return _append(files, "statements", _statement(files, "mutation-statement", text="  \n "), ".text")


def statement_attribution(files: Files) -> Expected:
    statement = _statement(files, "mutation-statement")
    del statement["organization"]
    return _append(files, "statements", statement, ".organization")


def statement_quote_not_in_source(files: Files) -> Expected:
    _, content = _main(files)
    content["source"]["text"] = "The full text says one thing."
    for statement in content.get("statements", []):  # keep the existing quotes of this source valid
        statement["kind"] = "paraphrase"
    quote = _statement(files, "mutation-statement", kind="direct_quote", text="something it never said")
    return _append(files, "statements", quote, ".text")


def _with_text(files: Files, text: str | None) -> None:
    """The main file's source with this text (or none), its direct quotes made paraphrases so they stay valid."""
    _, content = _main(files)
    content["source"].pop("text", None)
    if text is not None:
        content["source"]["text"] = text
    for statement in content.get("statements", []):
        statement["kind"] = "paraphrase"


def _evidenced_meeting(files: Files, evidence: dict[str, Any]) -> Expected:
    return _append(files, "meetings", _meeting(files, "mutation-meeting", evidence=evidence), "")


def evidence_note(files: Files) -> Expected:
    ((name, path),) = _evidenced_meeting(files, {"format": {"basis": "assumed"}})
    return {(name, f"{path}.evidence.format")}


def evidence_no_text(files: Files) -> Expected:
    _with_text(files, None)
    ((name, path),) = _evidenced_meeting(files, {"format": "in person"})
    return {(name, f"{path}.evidence.format")}


def evidence_not_in_source(files: Files) -> Expected:
    _with_text(files, "The full text says one thing.")
    ((name, path),) = _evidenced_meeting(files, {"format": "something it never said"})
    return {(name, f"{path}.evidence.format.quote")}


def evidence_ambiguous(files: Files) -> Expected:
    _with_text(files, "They met in person, and in person again.")
    ((name, path),) = _evidenced_meeting(files, {"format": "in person"})
    return {(name, f"{path}.evidence.format.quote")}


def statement_date_order(files: Files) -> Expected:
    return _append(files, "statements", _statement(files, "mutation-statement", date="2031-01-01"), ".date")


def statement_span_before_meeting(files: Files) -> Expected:
    """Said in a span that ends before the meeting it is about was held."""
    _append(files, "meetings", _meeting(files, "mutation-meeting", date="2019-06-15"), "")
    said = _statement(files, "mutation-statement", meeting="mutation-meeting", date="2019-05~")
    return _append(files, "statements", said, ".date")


def _extra_file(files: Files, **records: list[dict[str, Any]]) -> str:
    """A later source's file beside the others (published after all of them)."""
    name = "zz-extra.yaml"
    source = {"key": "zz-extra", "outlet": "X", "title": "T", "published_at": "2027-01-01T00:00:00Z", "language": "en"}
    files[name] = {"source": source, **records}
    return name


def report_disagree(files: Files) -> Expected:
    _, content = _main(files)
    meeting = content["meetings"][0]
    other = next(f for f in ("in_person", "phone_call", "video_call") if f != meeting["format"])
    delegations = [{"country": d["country"]} for d in meeting["delegations"][:2]]
    report = {"key": meeting["key"], "status": meeting["status"], "format": other, "delegations": delegations}
    return {(_extra_file(files, meetings=[report]), "meetings[0].format")}


def report_disagree_statement(files: Files) -> Expected:
    """A later source reports a statement (a statement key may have many reports) by another organization."""
    said = _statement(files, "mutation-statement")
    _append(files, "statements", said, "")
    other = {"key": "zz-other-organization", "name": "Another organization entirely"}
    report = {k: v for k, v in said.items() if k != "source"} | {"organization": other["key"]}
    return {(_extra_file(files, organizations=[other], statements=[report]), "statements[0].organization")}


def report_disagree_span(files: Files) -> Expected:
    """A later report dates a held meeting in a month that shares no day with the first report's date."""
    _, content = _main(files)
    meeting = next(m for m in content["meetings"] if m["status"] == "held")
    span = dates.parse(meeting["date"])
    outside = span.earliest - dt.timedelta(days=40) if span.earliest else span.latest + dt.timedelta(days=40)
    month = outside.isoformat()[:7]
    delegations = [{"country": d["country"]} for d in meeting["delegations"][:2]]
    report = {"key": meeting["key"], "status": "held", "date": month, "delegations": delegations}
    return {(_extra_file(files, meetings=[report]), "meetings[0].date")}


def report_incomplete(files: Files) -> Expected:
    report = {"key": "mutation-meeting", "status": "planned", "delegations": [{"country": "US"}, {"country": "RU"}]}
    return {(_extra_file(files, meetings=[report]), "meetings[0]")}


def report_source(files: Files) -> Expected:
    return _append(files, "statements", _statement(files, "mutation-statement", source="someone-else"), ".source")


def key_duplicate(files: Files) -> Expected:
    """A second key for the first person, its name in capitals and with an accent (a warning, not an error)."""
    _, content = _main(files)
    name = content["persons"][0]["name"].upper().replace("A", "Á", 1)
    return _append(files, "persons", {"key": "zz-mutation-person", "name": name}, ".name")


def seed_schema(files: Files) -> Expected:
    return _append(files, "topics", {"key": "mutation-topic", "label": "X", "colour": "red"}, ".colour")


def _editors(files: Files, *decisions: dict[str, Any]) -> str:
    """An editors' file beside the others."""
    name = "zz-editors.yaml"
    files[name] = {"editorial": {"key": "zz-editors", "decisions": list(decisions)}}
    return name


def _format_dispute(files: Files) -> tuple[dict[str, Any], str, str]:
    """A later report that gives the first meeting another format: (the meeting, its format, the other one)."""
    _, content = _main(files)
    meeting = content["meetings"][0]
    other = next(f for f in ("in_person", "phone_call", "video_call") if f != meeting["format"])
    delegations = [{"country": d["country"]} for d in meeting["delegations"][:2]]
    _extra_file(files, meetings=[{"key": meeting["key"], "status": meeting["status"], "format": other,
                                  "delegations": delegations}])  # fmt: skip
    return meeting, meeting["format"], other


def editorial_unknown_value(files: Files) -> Expected:
    """The reports dispute a meeting's format, and the decision prefers a format neither gives."""
    meeting, first, other = _format_dispute(files)
    unknown = next(f for f in ("in_person", "phone_call", "video_call") if f not in (first, other))
    decision = {"meeting": meeting["key"], "field": "format", "prefer": unknown, "note": "Mutation."}
    return {(_editors(files, decision), "editorial.decisions[0]")}


def editorial_conflict(files: Files) -> Expected:
    """Two decisions settle one disputed format."""
    meeting, first, _ = _format_dispute(files)
    decision = {"meeting": meeting["key"], "field": "format", "prefer": first, "note": "Mutation."}
    return {(_editors(files, decision, decision | {"note": "Again."}), "editorial.decisions[1]")}


def editorial_stale(files: Files) -> Expected:
    """A decision about a fact the reports do not dispute (a warning)."""
    _, content = _main(files)
    meeting = content["meetings"][0]
    decision = {"meeting": meeting["key"], "field": "format", "prefer": meeting["format"], "note": "Mutation."}
    return {(_editors(files, decision), "editorial.decisions[0]")}


MUTATIONS: dict[str, list[Mutation]] = {
    "editorial.unknown_value": [editorial_unknown_value],
    "editorial.conflict": [editorial_conflict],
    "editorial.stale": [editorial_stale],
    "key.format": [key_format],
    "key.conflict": [key_conflict],
    "report.disagree": [report_disagree, report_disagree_span, report_disagree_statement],
    "report.incomplete": [report_incomplete],
    "report.source": [report_source],
    "ref.unknown": [ref_unknown],
    "country.invalid": [country_invalid],
    "language.invalid": [language_invalid],
    "text.invalid": [text_invalid],
    "wikidata.invalid": [wikidata_invalid],
    "source.url": [source_url],
    "source.naive_datetime": [source_naive_datetime],
    "date.invalid": [date_invalid, date_invalid_interval, published_invalid],
    "meeting.held_requires_date": [meeting_held_requires_date],
    "meeting.date_after_source": [meeting_date_after_source, meeting_span_after_source],
    "meeting.delegations": [meeting_delegations],
    "meeting.follows_order": [meeting_follows_order, meeting_follows_span_order, meeting_follows_cycle],
    "meeting.round_sequence": [meeting_round_sequence],
    "delegation.head_country": [delegation_head_country],
    "statement.text": [statement_text],
    "statement.attribution": [statement_attribution],
    "statement.quote_not_in_source": [statement_quote_not_in_source],
    "statement.date_order": [statement_date_order, statement_span_before_meeting],
    "evidence.note": [evidence_note],
    "evidence.no_text": [evidence_no_text],
    "evidence.not_in_source": [evidence_not_in_source],
    "evidence.ambiguous": [evidence_ambiguous],
    "seed.schema": [seed_schema],
    "key.duplicate": [key_duplicate],
}
# seed.syntax and seed.path are exercised by writing broken files and giving wrong paths (tests/test_seeds.py,
# tests/test_authoring.py), not by changing content.
