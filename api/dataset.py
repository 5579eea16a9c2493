"""Cross-record rules: checks that need the whole dataset (seeds plus what the database already holds)."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from .models import (
    RECORD_TYPES,
    Meeting,
    MeetingStatus,
    Organization,
    Person,
    Record,
    SeedFile,
    Source,
    Statement,
    StatementKind,
    Topic,
)
from .rules import SeedError

RecordType = str  # one of RECORD_TYPES' keys: "sources", "persons", ...


@dataclass(frozen=True)
class Origin:
    """Where a record was defined: a seed file and record path, or the database it was loaded into."""

    file: str
    path: str


@dataclass
class Dataset:
    """Every record by type and key, with where each came from."""

    records: dict[RecordType, dict[str, Record]] = field(default_factory=lambda: {name: {} for name in RECORD_TYPES})
    origins: dict[tuple[RecordType, str], Origin] = field(default_factory=dict)

    @property
    def sources(self) -> dict[str, Source]:
        return self.records["sources"]  # type: ignore[return-value]

    @property
    def persons(self) -> dict[str, Person]:
        return self.records["persons"]  # type: ignore[return-value]

    @property
    def organizations(self) -> dict[str, Organization]:
        return self.records["organizations"]  # type: ignore[return-value]

    @property
    def topics(self) -> dict[str, Topic]:
        return self.records["topics"]  # type: ignore[return-value]

    @property
    def meetings(self) -> dict[str, Meeting]:
        return self.records["meetings"]  # type: ignore[return-value]

    @property
    def statements(self) -> dict[str, Statement]:
        return self.records["statements"]  # type: ignore[return-value]

    def add(self, kind: RecordType, record: Record, origin: Origin) -> SeedError | None:
        """Add a record; an identical repeat is fine, a different one under the same key is `key.conflict`."""
        existing = self.records[kind].get(record.key)
        if existing is None:
            self.records[kind][record.key] = record
            self.origins[kind, record.key] = origin
            return None
        if existing == record:
            return None
        first = self.origins[kind, record.key]
        return SeedError(
            origin.file,
            origin.path,
            "key.conflict",
            f"{kind} key {record.key!r} is already defined differently at {first.file}: {first.path}",
        )

    def error(self, kind: RecordType, key: str, suffix: str, code: str, message: str) -> SeedError:
        origin = self.origins[kind, key]
        return SeedError(origin.file, origin.path + suffix, code, message)


def file_records(seed: SeedFile) -> Iterator[tuple[RecordType, str, Record]]:
    """Every record of a seed file with its record path."""
    yield "sources", "source", seed.source
    for kind in ("persons", "organizations", "topics", "meetings", "statements"):
        for index, record in enumerate(getattr(seed, kind)):
            yield kind, f"{kind}[{index}]", record


def merge(files: list[tuple[str, SeedFile]], base: Dataset | None = None) -> tuple[Dataset, list[SeedError]]:
    """The seeds, over whatever `base` holds: seed records replace base records of the same key (an upsert)."""
    dataset = Dataset()
    errors = [
        error
        for name, seed in files
        for kind, path, record in file_records(seed)
        if (error := dataset.add(kind, record, Origin(name, path)))
    ]
    if base is not None:
        for kind, records in base.records.items():
            for key, record in records.items():
                if key not in dataset.records[kind]:
                    dataset.records[kind][key] = record
                    dataset.origins[kind, key] = base.origins[kind, key]
    return dataset, errors


def check(dataset: Dataset) -> list[SeedError]:
    """Run every cross-record rule; return all violations."""
    return [
        *_references(dataset),
        *_meeting_rules(dataset),
        *_follow_ups(dataset),
        *_statement_rules(dataset),
    ]


def _references(ds: Dataset) -> Iterator[SeedError]:
    def unknown(kind: RecordType, key: str, suffix: str, target: RecordType, ref: str | None) -> Iterator[SeedError]:
        if ref is not None and ref not in ds.records[target]:
            yield ds.error(kind, key, suffix, "ref.unknown", f"no {target} record has the key {ref!r}")

    for key, meeting in ds.meetings.items():
        yield from unknown("meetings", key, ".follows", "meetings", meeting.follows)
        for i, topic in enumerate(meeting.topics):
            yield from unknown("meetings", key, f".topics[{i}]", "topics", topic)
        for i, source in enumerate(meeting.sources):
            yield from unknown("meetings", key, f".sources[{i}]", "sources", source)
        for d, delegation in enumerate(meeting.delegations):
            yield from unknown("meetings", key, f".delegations[{d}].head", "persons", delegation.head)
            for m, member in enumerate(delegation.members):
                yield from unknown("meetings", key, f".delegations[{d}].members[{m}]", "persons", member)
    for key, statement in ds.statements.items():
        yield from unknown("statements", key, ".speaker", "persons", statement.speaker)
        yield from unknown("statements", key, ".organization", "organizations", statement.organization)
        yield from unknown("statements", key, ".meeting", "meetings", statement.meeting)
        yield from unknown("statements", key, ".source", "sources", statement.source)
        for i, topic in enumerate(statement.topics):
            yield from unknown("statements", key, f".topics[{i}]", "topics", topic)


def _meeting_rules(ds: Dataset) -> Iterator[SeedError]:
    for key, meeting in ds.meetings.items():
        if meeting.status is MeetingStatus.held and meeting.date is not None:
            for i, source_key in enumerate(meeting.sources):
                source = ds.sources.get(source_key)
                if source is not None and meeting.date > source.published_at.date():
                    yield ds.error(
                        "meetings",
                        key,
                        ".date",
                        "meeting.date_after_source",
                        f"held on {meeting.date} but source {source_key!r} (sources[{i}]) was published "
                        f"on {source.published_at.date()}",
                    )
        for d, delegation in enumerate(meeting.delegations):
            head = ds.persons.get(delegation.head) if delegation.head else None
            if head is not None and head.country is not None and head.country != delegation.country:
                yield ds.error(
                    "meetings",
                    key,
                    f".delegations[{d}].head",
                    "delegation.head_country",
                    f"head {head.key!r} is of country {head.country}, the delegation of {delegation.country}",
                )


def _follow_ups(ds: Dataset) -> Iterator[SeedError]:
    for key, meeting in ds.meetings.items():
        previous = ds.meetings.get(meeting.follows) if meeting.follows else None
        if previous is None:
            continue
        if meeting.date is not None and previous.date is not None and meeting.date <= previous.date:
            yield ds.error(
                "meetings",
                key,
                ".date",
                "meeting.follows_order",
                f"dated {meeting.date}, not after {previous.key!r} which it follows ({previous.date})",
            )
        if meeting.round is not None and previous.round is not None and meeting.round != previous.round + 1:
            yield ds.error(
                "meetings",
                key,
                ".round",
                "meeting.round_sequence",
                f"round {meeting.round} follows {previous.key!r} of round {previous.round}; "
                f"expected {previous.round + 1}",
            )
    yield from _cycles(ds)


def _cycles(ds: Dataset) -> Iterator[SeedError]:
    state: dict[str, int] = {}  # 1: on the current walk, 2: known to end without a cycle
    for start in ds.meetings:
        walk: list[str] = []
        key: str | None = start
        while key is not None and key in ds.meetings and state.get(key) is None:
            state[key] = 1
            walk.append(key)
            key = ds.meetings[key].follows
        if key is not None and state.get(key) == 1:  # closed a loop within this walk
            loop = walk[walk.index(key) :]
            for i, member in enumerate(loop):
                yield ds.error(
                    "meetings",
                    member,
                    ".follows",
                    "meeting.follows_order",
                    "follow-up chain loops: " + " -> ".join([*loop[i:], *loop[:i], member]),
                )
        for visited in walk:
            state[visited] = 2


# Typographic double and single quote marks (“ ” „ ‟ « » ″ 〝 〞 and ‘ ’ ‚ ‛ ′ ‹ ›), written as escapes.
_QUOTES = str.maketrans(
    dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\u301d\u301e", '"')
    | dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u2039\u203a", "'")
)
_SPACE = re.compile(r"\s+")


def normalise_quote_text(text: str) -> str:
    """Whitespace folded and typographic quote marks made plain, for the verbatim-quote check."""
    return _SPACE.sub(" ", text.translate(_QUOTES)).strip()


def _statement_rules(ds: Dataset) -> Iterator[SeedError]:
    normalised_sources: dict[str, str] = {}
    for key, statement in ds.statements.items():
        source = ds.sources.get(statement.source)
        if source is not None and statement.kind is StatementKind.direct_quote and source.text is not None:
            if statement.source not in normalised_sources:
                normalised_sources[statement.source] = normalise_quote_text(source.text)
            if normalise_quote_text(statement.text) not in normalised_sources[statement.source]:
                yield ds.error(
                    "statements",
                    key,
                    ".text",
                    "statement.quote_not_in_source",
                    f"a direct quote must occur verbatim in the text of source {statement.source!r}",
                )
        if statement.date is None:
            continue
        if source is not None and statement.date > source.published_at.date():
            yield ds.error(
                "statements",
                key,
                ".date",
                "statement.date_order",
                f"dated {statement.date}, after its source was published ({source.published_at.date()})",
            )
        meeting = ds.meetings.get(statement.meeting) if statement.meeting else None
        if (
            meeting is not None
            and meeting.status is MeetingStatus.held
            and meeting.date is not None
            and statement.date < meeting.date
        ):
            yield ds.error(
                "statements",
                key,
                ".date",
                "statement.date_order",
                f"dated {statement.date}, before the meeting it is about was held ({meeting.date})",
            )
