"""Evidence: how each fact of a report is known. Each quote is found in the source's text, compared as direct
quotes are (whitespace folded, typographic quote marks plain), and kept as a W3C Web Annotation TextQuote and
TextPosition selector of the stored text: `exact`, up to `QUOTE_CONTEXT` characters of `prefix` and `suffix`, and
`start`/`end` offsets in code points, so that `text[start:end] == exact`.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rapidfuzz.distance import Levenshtein
from rapidfuzz.fuzz import partial_ratio_alignment

from ..vocabulary import QUOTE_CONTEXT, Basis, StatementKind, graphql_field_name
from .models import Evidenced, Meeting, Source, Statement, Support
from .positions import Locator, node_at
from .rules import SeedError
from .seeds import SeedReport

# Typographic double and single quote marks (“ ” „ ‟ « » ″ 〝 〞 and ‘ ’ ‚ ‛ ′ ‹ ›), written as escapes.
_QUOTE_MARKS = str.maketrans(
    dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\u301d\u301e", '"')
    | dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u2039\u203a", "'")
)
_SPACE = re.compile(r"\s+")

# The facts coverage counts, by record kind: a fact the record gives has evidence or a basis, or is uncovered.
# Labels (names, titles, roles, summaries) and translations are words: they may carry evidence, and are not counted.
FACTS: dict[str, tuple[str, ...]] = {
    "source": ("published_at",),
    "meeting": ("status", "format", "date", "city", "host_country", "round", "follows", "delegations", "topics"),
    "delegation": ("head", "members"),
    "statement": ("speaker", "organization", "meeting", "date", "occasion", "kind", "topics"),
    "person": ("country", "wikidata"),
    "organization": ("country", "wikidata"),
}


def normalise(text: str) -> str:
    """Whitespace folded and typographic quote marks made plain: how quotes are compared with the source."""
    return _SPACE.sub(" ", text.translate(_QUOTE_MARKS)).strip()


@dataclass(frozen=True)
class Folded:
    """A source's text as quotes are compared with it, with the offset in the text of each of its characters."""

    text: str
    raw: str
    offsets: list[int]

    @classmethod
    def of(cls, raw: str) -> "Folded":
        chars: list[str] = []
        offsets: list[int] = []
        for match in re.finditer(r"\s+|\S+", raw.translate(_QUOTE_MARKS)):
            if match[0][0].isspace():
                if chars:  # leading whitespace folds to nothing
                    chars.append(" ")
                    offsets.append(match.start())
            else:
                chars.extend(match[0])
                offsets.extend(range(match.start(), match.end()))
        if chars and chars[-1] == " ":
            chars.pop()
            offsets.pop()
        return cls("".join(chars), raw, offsets)

    def occurrences(self, quote: str) -> list[int]:
        """Where the folded `quote` starts in the folded text, each time it occurs."""
        found, at = [], self.text.find(quote)
        while at >= 0 and quote:
            found.append(at)
            at = self.text.find(quote, at + 1)
        return found

    def span(self, at: int, length: int) -> tuple[int, int]:
        """The text's offsets of the folded characters `at` to `at + length`."""
        return self.offsets[at], self.offsets[at + length - 1] + 1

    def line_and_column(self, offset: int) -> tuple[int, int]:
        """Where the text's character at `offset` is within the text (0-based line, 0-based column)."""
        before = self.raw[:offset]
        return before.count("\n"), offset - (before.rfind("\n") + 1)


@dataclass(frozen=True)
class TextQuote:
    """A quote found in the stored text: the Web Annotation selectors of it."""

    exact: str
    prefix: str
    suffix: str
    start: int
    end: int


@dataclass(frozen=True)
class Evidence:
    """One fact's support, its quotes found: the row `reports.report_rows` stores."""

    kind: str  # the record kind, as the store names it: meeting, delegation, ...
    record: str  # its key (`meeting/country` for a delegation)
    seed_field: str
    basis: Basis
    note: str | None
    quotes: tuple[TextQuote, ...]

    @property
    def field(self) -> str:
        return graphql_field_name(self.seed_field)


@dataclass(frozen=True)
class Cited:
    """A record of the report that may carry evidence, where it is in the file, and its record kind."""

    kind: str
    record: str
    path: str
    model: Evidenced
    list_kind: str  # the record list that holds it (a delegation: its meeting's)
    index: int


def cited(report: SeedReport) -> Iterator[Cited]:
    """Every record of the report, with its delegations, in file order."""
    assert report.source is not None
    yield Cited("source", report.source.key, "source", report.source, "sources", -1)
    for list_kind, kind in (("persons", "person"), ("organizations", "organization"), ("topics", "topic"),
                            ("meetings", "meeting"), ("statements", "statement")):  # fmt: skip
        for index, record in report.of(list_kind):
            yield Cited(kind, record.key, f"{list_kind}[{index}]", record, list_kind, index)
            if isinstance(record, Meeting):
                for d, delegation in enumerate(record.delegations):
                    path = f"{list_kind}[{index}].delegations[{d}]"
                    yield Cited("delegation", f"{record.key}/{delegation.country}", path, delegation, list_kind, index)


def supports(item: Cited, has_text: bool) -> dict[str, Support]:
    """The record's evidence, with a direct quote's own text as the evidence of its `text` (when the source has a
    text to find it in: the quote rule checks it there)."""
    found = dict(item.model.evidence)
    model = item.model
    if has_text and isinstance(model, Statement) and model.kind is StatementKind.DIRECT_QUOTE and "text" not in found:
        found["text"] = Support(quote=[model.text])
    return found


def given(item: Cited) -> list[str]:
    """The facts the record gives (coverage counts them)."""
    values = item.model.model_dump(exclude={"evidence"})
    return [f for f in FACTS.get(item.kind, ()) if values.get(f) not in (None, [], {})]


def resolve(report: SeedReport, source: Source) -> tuple[list[SeedError], list[Evidence]]:
    """Every evidence quote of the report found in its source's text: the errors, and what to store."""
    errors: list[SeedError] = []
    found: list[Evidence] = []
    folded = Folded.of(source.text) if source.text is not None else None
    for item in cited(report):
        for seed_field, support in supports(item, folded is not None).items():
            path = f"{item.path}.evidence.{seed_field}"
            if support.quote and folded is None:
                errors.append(SeedError(report.file, path, "evidence.no_text",
                                        f"quotes {source.key!r}, which has no `text` to find them in: give the "
                                        "source's text, or give the basis and a note without quotes"))  # fmt: skip
                continue
            quotes = []
            for q, quote in enumerate(support.quote):
                where = f"{path}.quote[{q}]" if len(support.quote) > 1 else f"{path}.quote"
                assert folded is not None
                automatic = seed_field not in item.model.evidence  # a direct quote's own text
                located, problem = _find(folded, quote, support, report, source, first_of_many=automatic)
                if problem is not None and not automatic:  # the quote rule reports a direct quote not in the text
                    errors.append(SeedError(report.file, where, *problem))
                elif located is not None:
                    quotes.append(located)
            if len(quotes) == len(support.quote):
                found.append(Evidence(item.kind, item.record, seed_field, support.basis, support.note, tuple(quotes)))
    return errors, found


def _find(
    folded: Folded, quote: str, support: Support, report: SeedReport, source: Source, first_of_many: bool = False
) -> tuple[TextQuote | None, tuple[str, str] | None]:
    wanted = normalise(quote)
    places = folded.occurrences(wanted)
    if support.prefix is not None:
        prefix = normalise(support.prefix)
        places = [at for at in places if folded.text[:at].rstrip().endswith(prefix)]
    if support.suffix is not None:
        suffix = normalise(support.suffix)
        places = [at for at in places if folded.text[at + len(wanted) :].lstrip().startswith(suffix)]
    if not places:
        return None, ("evidence.not_in_source", _closest(folded, wanted, report, source))
    if len(places) > 1 and not first_of_many:
        lines = ", ".join(str(_file_line(report, folded, folded.offsets[at])[0]) for at in places)
        return None, ("evidence.ambiguous", f"{_shown(wanted)} occurs {len(places)} times in the text of "
                      f"{source.key!r} (lines {lines}): give a `prefix` or `suffix` that picks one")  # fmt: skip
    start, end = folded.span(places[0], len(wanted))
    raw = folded.raw
    selector = TextQuote(raw[start:end], raw[max(0, start - QUOTE_CONTEXT) : start], raw[end : end + QUOTE_CONTEXT],
                         start, end)  # fmt: skip
    return selector, None


def _closest(folded: Folded, quote: str, report: SeedReport, source: Source) -> str:
    """What to change: the passage of the text closest to the quote, where it is, and where the two differ."""
    told = f"{_shown(quote)} does not occur in the text of {source.key!r}"
    if not folded.text:
        return told
    aligned = partial_ratio_alignment(quote, folded.text)
    passage = folded.text[aligned.dest_start : aligned.dest_end] if aligned is not None else ""
    if aligned is None or not passage:
        return f"{told}; copy the words from the source's text"
    line, column = _file_line(report, folded, folded.offsets[aligned.dest_start])
    where = f"{report.file}:{line}:{column}" if line else report.file
    differs = ""
    for edit in Levenshtein.editops(quote, passage):  # the first edit: where the two part
        ours = repr(quote[edit.src_pos]) if edit.src_pos < len(quote) else "its end"
        theirs = repr(passage[edit.dest_pos]) if edit.dest_pos < len(passage) else "the passage's end"
        differs = f"; they differ at character {edit.src_pos + 1} of the quote ({ours} where the text has {theirs})"
        break
    return f"{told}; the closest passage, at {where}, is {_shown(passage)}{differs}"


def _file_line(report: SeedReport, folded: Folded, offset: int) -> tuple[int, int]:
    """The file's line and column of the source text's character at `offset`: exact in a literal block (`text: |`,
    how seed files write long text), the start of the text otherwise; (0, 0) when the file cannot say."""
    line_in_text, column_in_text = folded.line_and_column(offset)
    locator = Locator()
    root = locator.root(report.file)
    node = node_at(root, "source.text") if root is not None else None
    if node is None:
        return 0, 0
    if getattr(node, "style", None) == "|":
        lines = Path(report.file).read_text(encoding="utf-8-sig").splitlines()
        first = node.start_mark.line + 1  # the indicator's line, then the text's (0-based)
        content = next((line for line in lines[first:] if line.strip()), "")
        indent = len(content) - len(content.lstrip(" "))
        return first + line_in_text + 1, indent + column_in_text + 1
    return node.start_mark.line + 1, node.start_mark.column + 1


def _shown(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def rows(evidence: list[Evidence], source: str) -> dict[str, list[dict[str, Any]]]:
    """The values of the evidence tables' rows (`reports.report_rows` adds them)."""
    out: dict[str, list[dict[str, Any]]] = {"evidence": [], "evidence_quotes": []}
    positions: dict[tuple[str, str], int] = {}
    for e in evidence:
        position = positions.setdefault((e.kind, e.record), 0)
        positions[e.kind, e.record] += 1
        out["evidence"].append(
            {
                "source": source,
                "kind": e.kind,
                "record": e.record,
                "seed_field": e.seed_field,
                "field": e.field,
                "position": position,
                "basis": e.basis.value,
                "note": e.note,
                "derived": 0,
            }
        )
        for q, quote in enumerate(e.quotes):
            out["evidence_quotes"].append({"source": source, "kind": e.kind, "record": e.record,
                                           "seed_field": e.seed_field, "position": q, "exact": quote.exact,
                                           "prefix": quote.prefix, "suffix": quote.suffix, "start_offset": quote.start,
                                           "end_offset": quote.end})  # fmt: skip
    return out


def coverage(report: SeedReport, evidence: list[Evidence]) -> tuple[int, list[tuple[Cited, str]]]:
    """How many facts the report gives, and those without evidence or a basis."""
    known = {(e.kind, e.record, e.seed_field) for e in evidence}
    total, missing = 0, []
    for item in cited(report):
        for fact in given(item):
            total += 1
            if (item.kind, item.record, fact) not in known:
                missing.append((item, fact))
    return total, missing
