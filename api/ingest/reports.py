"""One source's report: the rules that hold within one seed file, and the rows that store what it says.

A seed file is one source's report. Everything it says is stored in the report tables under its source's key,
so that loading the file again replaces exactly what that source said before and nothing any other source said.
"""

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .. import dates, store
from ..vocabulary import Basis, MeetingStatus, StatementKind
from . import evidence
from .duplicates import fold, skeleton
from .models import Meeting, Named, Record, Source, Statement, Topic
from .rules import SeedError
from .seeds import RecordKind, SeedReport


@dataclass(frozen=True)
class ReportTable:
    """A table of what sources reported: rows of `kind`'s records, whose key is in `key`; one source's rows are
    those `where` (its parameter, the source's key). `record` when each row is one source's whole report of one
    record (what a seed file's record list gives, and `diplo export` writes back), `json` its columns of JSON text."""

    name: str
    kind: RecordKind
    key: str
    where: str = "source = ?"
    record: bool = False
    json: tuple[str, ...] = ()


# Every table that holds what one source reported, children before parents (the order writes go in). Loading,
# merging and exporting read it from here.
REPORT_TABLES: tuple[ReportTable, ...] = (
    ReportTable("evidence_quotes", "sources", "source"),
    ReportTable("evidence", "sources", "source"),
    ReportTable("meeting_report_topics", "meetings", "meeting"),
    ReportTable("delegation_report_members", "meetings", "meeting"),
    ReportTable("delegation_reports", "meetings", "meeting"),
    ReportTable("meeting_reports", "meetings", "meeting", record=True),
    ReportTable("person_reports", "persons", "person", record=True, json=("distinct_from",)),
    ReportTable("organization_reports", "organizations", "organization", record=True, json=("distinct_from",)),
    ReportTable("topic_reports", "topics", "topic", record=True, json=("labels",)),
    ReportTable("statement_report_topics", "statements", "statement"),
    ReportTable("statement_reports", "statements", "statement", record=True, json=("translations",)),
)


def check_report(report: SeedReport) -> list[SeedError]:
    """The rules within one file; a record that breaks one is moved to `report.invalid` and not written."""
    source = report.source
    assert source is not None
    errors = list(_repeats(report))
    for index, meeting in report.of("meetings"):
        if meeting.sources and meeting.sources != [source.key]:
            errors.append(_error(report, "meetings", index, ".sources", "report.source",
                                 f"this file reports for source {source.key!r} only; remove `sources` or make it "
                                 f"[{source.key}] (found {meeting.sources})"))  # fmt: skip
        held_on = dates.span_of(meeting.date) if meeting.status is MeetingStatus.HELD and meeting.date else None
        if held_on is not None and held_on.earliest is not None and held_on.earliest > source.published_on:
            errors.append(_error(report, "meetings", index, ".date", "meeting.date_after_source",
                                 f"reported held on {meeting.date}, after this file's source {source.key!r} was "
                                 f"published ({source.published_on})"))  # fmt: skip
    errors.extend(_statement_rules(report, source))
    evidence_errors, found = evidence.resolve(report, source)
    errors.extend(evidence_errors)
    for error in errors:  # a record with an error is not written, but its key still exists for references
        if (place := _record_of(error.path)) is None:
            continue  # the source's own: the file is refused
        kind, index = place
        for i, (position, record) in enumerate(report.records[kind]):
            if position == index:
                report.invalid[kind].add(record.key)
                del report.records[kind][i]
                break
    written = {(item.kind, item.record) for item in evidence.cited(report)}
    report.evidence = [e for e in found if (e.kind, e.record) in written]
    report.errors.extend(errors)
    return errors


def date_readings(report: SeedReport) -> list[SeedError]:
    """Notices (`date.read`) of the dates whose reading could surprise, anything but a day: what span each is."""
    notices = []
    for kind in ("meetings", "statements"):
        for index, record in report.of(kind):
            text = getattr(record, "date", None)
            if text is not None and (span := dates.span_of(text)).day is None:
                bounds = f"{span.earliest or 'open'} to {span.latest or 'open'}"
                notices.append(_error(report, kind, index, ".date", "date.read",
                                      f"{text} is read as {span.describe()} ({bounds})"))  # fmt: skip
    return notices


def _error(report: SeedReport, kind: str, index: int, suffix: str, code: str, message: str) -> SeedError:
    return SeedError(report.file, f"{kind}[{index}]{suffix}", code, message)


_PATH = re.compile(r"^(\w+)\[(\d+)\]")


def _record_of(path: str) -> tuple[str, int] | None:
    match = _PATH.match(path)
    return (match.group(1), int(match.group(2))) if match else None


def _repeats(report: SeedReport) -> Iterator[SeedError]:
    """A key reported twice in one file: an identical repeat is dropped, a different one is a conflict."""
    for kind, records in report.records.items():
        first: dict[str, tuple[int, Record]] = {}
        kept = []
        for index, record in records:
            if record.key not in first:
                first[record.key] = (index, record)
                kept.append((index, record))
            elif first[record.key][1] != record:
                yield _error(report, kind, index, "", "key.conflict",
                             f"{kind} key {record.key!r} is already reported differently in this file at "
                             f"{kind}[{first[record.key][0]}]")  # fmt: skip
                kept.append((index, record))  # removed with the other records in error
        report.records[kind] = kept


def _statement_rules(report: SeedReport, source: Source) -> Iterator[SeedError]:
    published = source.published_on
    source_text = evidence.normalise(source.text) if source.text is not None else None
    held = {m.key: m.date for _, m in report.of("meetings") if m.status is MeetingStatus.HELD and m.date}
    for index, statement in report.of("statements"):
        if statement.source is not None and statement.source != source.key:
            yield _error(report, "statements", index, ".source", "report.source",
                         f"a statement in this file is reported by its source {source.key!r}; remove `source` or "
                         f"make it {source.key!r} (found {statement.source!r})")  # fmt: skip
        if statement.kind is StatementKind.DIRECT_QUOTE and source_text is not None:
            quote = evidence.normalise(statement.text)
            if quote not in source_text:
                yield _error(report, "statements", index, ".text", "statement.quote_not_in_source",
                             f"the direct quote {_shorten(quote)!r} does not occur verbatim in the text of source "
                             f"{source.key!r}; correct the quote or make it a paraphrase")  # fmt: skip
        if statement.date is None:
            continue
        said = dates.span_of(statement.date)
        # An error only when no day of the span is possible.
        if said.earliest is not None and said.earliest > published:
            yield _error(report, "statements", index, ".date", "statement.date_order",
                         f"dated {statement.date}, after its source was published ({published})")  # fmt: skip
        meeting_date = held.get(statement.meeting) if statement.meeting else None
        if meeting_date is not None and dates.span_of(meeting_date).certainly_after(said):
            yield _error(report, "statements", index, ".date", "statement.date_order",
                         f"dated {statement.date}, before the meeting it is about was held ({meeting_date}, as "
                         f"this file reports it)")  # fmt: skip


def _shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- rows ----------------------------------------------------------------------------------------------------


def source_row(s: Source) -> store.Values:
    # isoformat keeps the offset as +00:00 where JSON mode would write Z, which the store's CHECK refuses.
    values = {
        **s.model_dump(mode="json", exclude={"evidence"}),
        "published_at": s.published_at.isoformat(),  # a day, or a date-time with its offset
        "retrieved_at": s.retrieved_at.isoformat() if s.retrieved_at is not None else None,
        "via": store.to_json(s.via),
        "text_sha256": hashlib.sha256(s.text.encode()).hexdigest() if s.text is not None else None,
    }
    return store.as_row("sources", values)


# The note of the evidence derived for an undated statement's date (`Statement.when`).
UNDATED_NOTE = "Undated in its source: said no later than the source was published, on {day}."


def span_values(text: str | None, column: str = "date") -> dict[str, Any]:
    """The store's columns of a date (`store._span`), from its EDTF text."""
    span = dates.span_of(text) if text is not None else None
    return span_columns(span, column)


def span_columns(span: dates.Span | None, column: str = "date") -> dict[str, Any]:
    if span is None:
        return {column: None, f"{column}_earliest": None, f"{column}_latest": None, f"{column}_precision": None,
                f"{column}_approximate": 0, f"{column}_uncertain": 0}  # fmt: skip
    return {
        column: span.edtf,
        f"{column}_earliest": span.earliest.isoformat() if span.earliest else None,
        f"{column}_latest": span.latest.isoformat() if span.latest else None,
        f"{column}_precision": span.precision.value,
        f"{column}_approximate": int(span.approximate),
        f"{column}_uncertain": int(span.uncertain),
    }


def report_rows(report: SeedReport) -> dict[str, list[store.Values]]:
    """The rows of every report table for this file's source."""
    assert report.source is not None
    src = report.source.key
    reported_on = report.source.published_on.isoformat()
    rows: dict[str, list[store.Values]] = {table.name: [] for table in REPORT_TABLES}

    def add(table: str, **values: Any) -> None:
        rows[table].append(store.as_row(table, {"source": src, **values}))

    for kind, table, column in (("persons", "person_reports", "person"),
                                ("organizations", "organization_reports", "organization")):  # fmt: skip
        for _, n in report.of(kind):
            assert isinstance(n, Named)
            add(table, **{column: n.key}, **n.model_dump(exclude={"key", "distinct_from", "evidence"}),
                distinct_from=store.to_json(n.distinct_from), skeleton=skeleton(fold(n.name)))  # fmt: skip
    for _, t in report.of("topics"):
        assert isinstance(t, Topic)
        add("topic_reports", topic=t.key, label=t.label, labels=store.to_json(t.labels))
    for _, m in report.of("meetings"):
        assert isinstance(m, Meeting)
        facts = m.model_dump(mode="json", exclude={"key", "topics", "sources", "delegations", "evidence", "date"})
        add("meeting_reports", meeting=m.key, **facts, **span_values(m.date))
        for i, topic in enumerate(m.topics):
            add("meeting_report_topics", meeting=m.key, position=i, topic=topic)
        for d, delegation in enumerate(m.delegations):
            add("delegation_reports", meeting=m.key, country=delegation.country, position=d, head=delegation.head,
                head_role=delegation.head_role)  # fmt: skip
            for i, person in enumerate(delegation.members):
                add("delegation_report_members", meeting=m.key, country=delegation.country, position=i, person=person)
    for _, s in report.of("statements"):
        assert isinstance(s, Statement)
        values = s.model_dump(mode="json", exclude={"key", "topics", "evidence", "date"})
        translations = store.to_json(s.translations)
        add("statement_reports", statement=s.key, **values | {"source": src, "translations": translations},
            **span_values(s.date))  # fmt: skip
        if s.date is None and "date" not in s.evidence:
            add("evidence", kind="statement", record=s.key, seed_field="date", field="date", position=-1,
                basis=Basis.INFERRED.value, note=UNDATED_NOTE.format(day=reported_on), derived=1)  # fmt: skip
        for i, topic in enumerate(s.topics):  # a topic once (counted once), at its first place in the file
            if topic not in s.topics[:i]:
                add("statement_report_topics", statement=s.key, position=i, topic=topic)
    for table, evidence_rows in evidence.rows(report.evidence, src).items():
        rows[table].extend(store.as_row(table, row) for row in evidence_rows)
    return rows
