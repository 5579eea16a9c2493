"""Possible duplicates: a new person or organization key that may be a record already typed under another key.

Outlets transliterate differently (`Sergei Lavrov`, `Sergey Lavrov`, `Сергей Лавров`), so the same person gets a
second key. Names are compared folded: case, accents and script (Cyrillic and Greek to Latin), the letters that
transliterations disagree on, doubled letters and word order. Two names are close when their consonant
skeletons are equal and their folded spellings nearly so, which finds them by hashing, not by comparing every
pair. A shared Wikidata id always counts. `distinct_from` on either record says two records are not the same.
"""

import difflib
import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Iterator

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
_DOUBLED = re.compile(r"(.)\1+")


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


def _names(name: str, aliases: str) -> list[str]:
    return [name, *json.loads(aliases)]


def possible_duplicates(conn: sqlite3.Connection, kind: str, added: Iterable[str]) -> Iterator[Finding]:
    """`key.duplicate` for each key in `added` (records of `kind` a load added) that may be another record of
    `kind`; a pair of added keys once, at the later key."""
    new = set(added)
    if not new:
        return
    report_table, column = {"persons": ("person_reports", "person"),
                            "organizations": ("organization_reports", "organization")}[kind]  # fmt: skip
    distinct: set[frozenset[str]] = set()
    for key, others in conn.execute(f"SELECT {column}, distinct_from FROM {report_table} WHERE distinct_from <> '[]'"):
        distinct.update(frozenset((key, other)) for other in json.loads(others))
    by_skeleton: dict[str, list[tuple[str, str, str]]] = {}  # skeleton -> (key, name, folded)
    by_wikidata: dict[str, list[str]] = {}
    for key, name, aliases, wikidata in conn.execute(f"SELECT key, name, aliases, wikidata FROM {kind}"):
        for spelling in _names(name, aliases):
            folded = fold(spelling)
            by_skeleton.setdefault(skeleton(folded), []).append((key, spelling, folded))
        if wikidata:
            by_wikidata.setdefault(wikidata, []).append(key)
    found: dict[str, tuple[str, str]] = {}  # the new key -> (the other key, why)

    def pair(a: str, b: str, why: str) -> None:
        if a in new or b in new:
            key, other = (max(a, b), min(a, b)) if a in new and b in new else (a, b) if a in new else (b, a)
            found.setdefault(key, (other, why))

    for wikidata, keys in sorted(by_wikidata.items()):
        for key in keys[1:]:
            pair(key, keys[0], f"both have the Wikidata id {wikidata}")
    for entries in by_skeleton.values():
        for i, (key, spelling, folded) in enumerate(entries):
            for other, other_spelling, other_folded in entries[:i]:
                if other != key and (key in new or other in new) and close(folded, other_folded):
                    pair(key, other, f"{spelling!r} is close to {other_spelling!r}")
    for key, (other, why) in sorted(found.items()):
        if frozenset((key, other)) in distinct:
            continue
        yield Finding(
            Place(_reporter(conn, report_table, column, key), kind, key, ".name"),
            "key.duplicate",
            f"possibly the same as `{other}` ({{other}}): {why}; if they are two, add `distinct_from: [{other}]` "
            f"to `{key}`",
            Place(_reporter(conn, report_table, column, other), kind, other),
        )


def _reporter(conn: sqlite3.Connection, table: str, column: str, key: str) -> str:
    """The source of a report of `key`, one of this load's when there is one."""
    row = conn.execute(
        f"SELECT source FROM {table} WHERE {column} = ? ORDER BY source IN (SELECT key FROM temp.loaded) DESC, "
        "source LIMIT 1",
        (key,),
    ).fetchone()
    return str(row[0])
