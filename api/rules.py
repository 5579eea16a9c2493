"""The validation rules: one stable code each, one place that names them.

Record rules are enforced by the pydantic models (`api.models`), cross-record rules by `api.dataset`; both
raise or report these codes, the CLI prints them, the README's rule table is generated from this dict and the
tests refer to the codes.
"""

from dataclasses import dataclass

RULES: dict[str, str] = {
    "seed.syntax": "A seed file is well-formed YAML or JSON.",
    "seed.schema": "A seed file has the documented shape: known fields, required fields present, right types.",
    "key.format": "A key is a kebab-case slug (`^[a-z0-9]+(-[a-z0-9]+)*$`) of at most 80 characters.",
    "key.conflict": "A key is defined once per record type; identical repeats are allowed.",
    "ref.unknown": "Every referenced key exists in the seeds or in the database.",
    "text.invalid": "Names, titles and labels are non-empty single-line text without control characters.",
    "country.invalid": "A country is an ISO 3166-1 alpha-2 code.",
    "language.invalid": "A language is a BCP 47 tag whose primary subtag is an ISO 639 code.",
    "wikidata.invalid": "A Wikidata id is `Q` followed by digits.",
    "source.url": "A source URL is an absolute http or https URL.",
    "source.naive_datetime": "A source's publication time carries a timezone.",
    "meeting.held_requires_date": "A held meeting has a date.",
    "meeting.date_after_source": "A held meeting is not dated after the publication of a source reporting it.",
    "meeting.delegations": "A meeting has at least two delegations, of distinct countries.",
    "meeting.follows_order": "A follow-up is dated after its predecessor when both are dated; no cycles.",
    "meeting.round_sequence": "A follow-up's round is its predecessor's round + 1 when both are set.",
    "delegation.head_country": "A delegation's head with a known country belongs to the delegation's country.",
    "statement.text": "Statement text is non-empty after trimming, has no control characters, <= 5,000 chars.",
    "statement.attribution": "A statement has a speaker or an organization.",
    "statement.quote_not_in_source": "A direct quote occurs verbatim in its source's text, when present.",
    "statement.date_order": "A statement is not dated after its source nor before the held meeting it is about.",
}


@dataclass(frozen=True, order=True)
class SeedError:
    """One violation of one rule, located by file and record path (`meetings[0].delegations[1].head`)."""

    file: str
    path: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '(file)'}: {self.code}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "path": self.path, "code": self.code, "message": self.message}


class SeedErrors(Exception):
    """Raised when seeds do not validate; carries every error found, not just the first."""

    def __init__(self, errors: list[SeedError]) -> None:
        self.errors = sorted(errors)
        super().__init__(f"{len(errors)} seed error(s)")
