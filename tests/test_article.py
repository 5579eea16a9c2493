"""The article's seeds hold the facts it reports, and nothing it does not."""

import datetime as dt
from pathlib import Path

import pytest
import yaml
from diplo.ingest.models import Meeting, MeetingFormat, MeetingStatus, Source, Statement, StatementKind
from diplo.ingest.rules import SeedErrors
from diplo.ingest.seeds import read_seed_file
from diplo.ingest.session import validate_seeds

ARTICLE = Path("seeds/koran-jakarta-2025-03-01-as-russia.yaml")
SOURCE_TEXT = Path(__file__).parent / "data" / "koran-jakarta-2025-03-01-as-russia.txt"


class Article:
    """The article's report, record by key."""

    def __init__(self, path: Path) -> None:
        report = read_seed_file(path)
        assert not report.errors, report.errors
        assert report.source is not None
        self.sources: dict[str, Source] = {report.source.key: report.source}
        self.meetings: dict[str, Meeting] = {m.key: m for _, m in report.of("meetings")}
        self.statements: dict[str, Statement] = {s.key: s for _, s in report.of("statements")}


@pytest.fixture(scope="module")
def article() -> Article:
    validate_seeds([ARTICLE])  # every rule, the rules between records included
    return Article(ARTICLE)


def test_source_and_attribution_chain(article: Article) -> None:
    source = article.sources["koran-jakarta-2025-03-01-as-russia"]
    assert source.outlet == "Koran Jakarta"
    assert source.published_at == dt.datetime(2025, 2, 28, 18, 20, tzinfo=dt.UTC)
    assert source.language == "id"
    assert source.dateline == "WASHINGTON"
    assert source.via == ["Antara", "Anadolu"]
    assert source.url is None  # the article gives none
    assert source.text == SOURCE_TEXT.read_text(encoding="utf-8")


def test_phone_call(article: Article) -> None:
    call = article.meetings["putin-trump-phone-call-2025-02-12"]
    assert (call.status, call.format, call.date) == (MeetingStatus.HELD, MeetingFormat.PHONE_CALL, "2025-02-12")
    assert {(d.country, d.head) for d in call.delegations} == {("RU", "vladimir-putin"), ("US", "donald-trump")}


def test_riyadh_round_names_no_heads(article: Article) -> None:
    riyadh = article.meetings["us-russia-talks-riyadh-2025-02-18"]
    assert (riyadh.date, riyadh.city, riyadh.host_country, riyadh.round) == ("2025-02-18", "Riyadh", "SA", 1)
    assert {d.country for d in riyadh.delegations} == {"US", "RU"}
    assert all(d.head is None and not d.members for d in riyadh.delegations)


def test_istanbul_round(article: Article) -> None:
    istanbul = article.meetings["us-russia-talks-istanbul-2025-02-27"]
    assert istanbul.date == "2025-02-27"  # "Kamis" before Saturday 1 March
    assert (istanbul.city, istanbul.host_country, istanbul.round) == ("Istanbul", "TR", 2)
    assert istanbul.follows == "us-russia-talks-riyadh-2025-02-18"
    heads = {d.country: (d.head, d.head_role) for d in istanbul.delegations}
    assert heads["US"][0] == "sonata-coulter"
    assert "Deputy Assistant Secretary" in (heads["US"][1] or "")
    assert heads["RU"][0] == "alexander-darchiev"
    assert "North America Department" in (heads["RU"][1] or "")
    assert {"banking-services", "embassy-staffing", "direct-flights"} <= set(istanbul.topics)


def test_planned_follow_up_is_soon_with_no_place(article: Article) -> None:
    follow_up = article.meetings["us-russia-talks-follow-up-after-istanbul"]
    assert follow_up.status is MeetingStatus.PLANNED
    # "dalam waktu dekat" (soon): not held when the article was published, with no later bound.
    assert (follow_up.date, follow_up.city, follow_up.host_country, follow_up.round) == (
        "2025-03-01/..",
        None,
        None,
        None,
    )
    assert follow_up.follows == "us-russia-talks-istanbul-2025-02-27"


def test_statements(article: Article) -> None:
    by_author = {(s.speaker, s.organization) for s in article.statements.values()}
    assert {
        (None, "us-department-of-state"),
        ("dmitry-peskov", "kremlin"),
        (None, "russian-ministry-of-foreign-affairs"),
        ("vladimir-putin", None),
    } == by_author
    quotes = [s for s in article.statements.values() if s.kind is StatementKind.DIRECT_QUOTE]
    assert {s.key for s in quotes} == {
        "us-state-department-istanbul-banking-and-staffing",
        "us-state-department-istanbul-first-steps",
        "vladimir-putin-inspires-hope",
    }
    assert all(s.language == "id" and "en" in s.translations for s in article.statements.values())
    peskov = article.statements["dmitry-peskov-dialogue-with-all-countries"]
    assert peskov.date == "2025-02-28"
    assert peskov.occasion == "Press conference in Moscow"
    assert article.statements["vladimir-putin-inspires-hope"].text == "menginspirasi harapan tertentu"


def test_inferred_dates_are_explained_in_the_seed() -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    assert "Kamis" in text
    assert "2025-02-27" in text
    assert "inferred" in text


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda d: d["meetings"][0].update(date="2025-03-02"), "meeting.date_after_source"),
        (lambda d: d["meetings"][2].update(round=3), "meeting.round_sequence"),
        (lambda d: d["statements"][7].update(text="menginspirasi harapan besar"), "statement.quote_not_in_source"),
        (lambda d: d["meetings"][2]["delegations"][0].update(head="dmitry-peskov"), "delegation.head_country"),
        (lambda d: d["statements"][4].update(date="2025-02-20"), "statement.date_order"),
    ],
)
def test_broken_copies_of_the_article_are_rejected(tmp_path: Path, change: object, code: str) -> None:
    data = yaml.safe_load(ARTICLE.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    (tmp_path / "copy.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SeedErrors) as raised:
        validate_seeds([tmp_path])
    assert [e.code for e in raised.value.errors] == [code]
