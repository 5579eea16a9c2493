"""Possible duplicates: a new person or organization key that may be a record already typed under another key.

Outlets transliterate differently (`Sergei Lavrov`, `Sergey Lavrov`, `Сергей Лавров`), so the same person gets a
second key. Names are compared folded: case, accents and script (Cyrillic and Greek to Latin), the letters that
transliterations disagree on, doubled letters and word order. Two names are close when their consonant
skeletons are equal and their folded words nearly so; each report stores its name's skeleton, indexed, so a new
key finds its candidates by lookup, not by comparing every name. A shared Wikidata id always counts.
`distinct_from` on either record says two records are not the same.
"""

import difflib
import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Iterator

from .. import store
from .crosscheck import reporter
from .rules import Finding, Place

CLOSE = 0.8  # difflib's ratio between each word of two folded names of one skeleton, from which they are close

_SCRIPTS = str.maketrans({
    **dict(zip("абвгдезийклмнопрстуфыэ", "abvgdezijklmnoprstufye", strict=True)),
    "ё": "e", "ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ь": "", "ю": "yu",
    "я": "ya", "є": "ye", "і": "i", "ї": "yi", "ґ": "g",
    **dict(zip("αβγδεζηικλμνξοπρστυφχω", "abgdeziiklmnxoprstyfho", strict=True)), "θ": "th", "ψ": "ps", "ς": "s",
})  # fmt: skip
# Spellings that transliterations use for one sound, folded to one: Sergey/Sergei, Aleksandr/Alexander,
# Khrushchev/Hrushchev, Zelenskyy/Zelenskiy/Zelensky.
_SOUNDS = (("j", "y"), ("x", "ks"), ("kh", "h"), ("ph", "f"), ("w", "v"), ("q", "k"), ("ck", "k"), ("c", "k"),
           ("iy", "i"), ("yy", "i"), ("ey", "ei"))  # fmt: skip
_VOWELS = re.compile(r"[aeiouy]")
_DOUBLED = re.compile(r"([a-z])\1+")  # letters only: 11 and 1 are two numbers


def fold(name: str) -> str:
    """`name` with case, accents, script, transliteration variants, doubled letters and word order folded."""
    text = unicodedata.normalize("NFKD", name.lower().translate(_SCRIPTS))
    text = "".join(c for c in text if not unicodedata.combining(c))
    for spelling, sound in _SOUNDS:
        text = text.replace(spelling, sound)
    return " ".join(sorted(_DOUBLED.sub(r"\1", word) for word in re.findall(r"[a-z0-9]+", text)))


def _consonants(word: str) -> str:
    return _DOUBLED.sub(r"\1", _VOWELS.sub("", word)) or word


def skeleton(folded: str) -> str:
    """The consonants of a folded name, word by word: what a misspelling or another transliteration keeps."""
    return " ".join(sorted(map(_consonants, folded.split())))


def close(a: str, b: str) -> bool:
    """Whether two folded names are close: the same skeleton, and each word nearly the same letters (Lavrov and
    Lavorv are; Putin and Potanin are not)."""
    if a == b:
        return True
    if skeleton(a) != skeleton(b):
        return False
    words_a, words_b = (sorted(name.split(), key=_consonants) for name in (a, b))
    return all(difflib.SequenceMatcher(None, x, y).ratio() >= CLOSE for x, y in zip(words_a, words_b, strict=True))


REPORTS = {"persons": ("person_reports", "person"), "organizations": ("organization_reports", "organization")}


def possible_duplicates(conn: sqlite3.Connection, kind: str, added: Iterable[str]) -> Iterator[Finding]:
    """`key.duplicate` for each key in `added` (records of `kind` a load added) that may be another record of
    `kind`: a report's name close to one of the other's (found through the indexed skeletons of the report
    names), or the same Wikidata id. A pair of added keys is reported once, at the later key."""
    new = sorted(added)
    if not new:
        return
    table, column = REPORTS[kind]
    found: dict[str, tuple[str, str]] = {}  # the key warned about -> (the other key, why)

    def pair(a: str, b: str, why: str, names: tuple[str, str] | None = None) -> None:
        """Warn about the new one of `a` and `b` (the later if both are), saying `why` with its name first."""
        key, other = (max(a, b), min(a, b)) if a in fresh and b in fresh else (a, b) if a in fresh else (b, a)
        if names is not None:
            why = why.format(*(names if key == a else names[::-1]))
        found.setdefault(key, (other, why))

    fresh = set(new)
    for chunk in store.chunks(new):
        sql = (
            f"SELECT a.{column}, a.name, b.{column}, b.name FROM {table} a JOIN {table} b "
            f"ON b.skeleton = a.skeleton AND b.{column} <> a.{column} WHERE a.{column} IN ({store.marks(chunk)}) "
            f"ORDER BY a.{column}, b.{column}"
        )
        for key, name, other, other_name in conn.execute(sql, chunk):
            if close(fold(name), fold(other_name)):
                pair(key, other, "{!r} is close to {!r}", (name, other_name))
    shared = f"SELECT wikidata, group_concat(key, ' ') FROM {kind} WHERE wikidata IS NOT NULL GROUP BY wikidata "
    for wikidata, keys in conn.execute(shared + "HAVING count(*) > 1 ORDER BY wikidata"):
        first, *others = sorted(keys.split())
        for key in others:
            if key in fresh or first in fresh:
                pair(key, first, f"both have the Wikidata id {wikidata}")
    distinct: set[frozenset[str]] = set()
    for key, others in conn.execute(f"SELECT {column}, distinct_from FROM {table} WHERE distinct_from <> '[]'"):
        distinct.update(frozenset((key, other)) for other in json.loads(others))
    for key, (other, why) in sorted(found.items()):
        if frozenset((key, other)) in distinct:
            continue
        yield Finding(
            Place(reporter(conn, table, column, key), kind, key, ".name"),
            "key.duplicate",
            f"possibly the same as `{other}` ({{other}}): {why}; if they are two, add `distinct_from: [{other}]` "
            f"to `{key}`",
            Place(reporter(conn, table, column, other), kind, other),
        )
