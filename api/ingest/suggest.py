"""Suggestions for a wrong value: the closest existing keys, country codes and language codes."""

import difflib
import functools
from collections.abc import Sequence

import pycountry

# A QWERTY keyboard: a two-letter code mistyped by one key is most often one of that key's neighbours.
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_SHOWN = 4  # suggestions offered at most


def did_you_mean(options: Sequence[str]) -> str:
    """`; did you mean a, b or c?`, or nothing when there is no option."""
    if not options:
        return ""
    listed = options[0] if len(options) == 1 else ", ".join(options[:-1]) + " or " + options[-1]
    return f"; did you mean {listed}?"


def closest_keys(key: str, keys: Sequence[str]) -> list[str]:
    """The existing keys closest to `key` (difflib's ratio of at least 0.6), closest first."""
    return [f"`{k}`" for k in difflib.get_close_matches(key, keys, n=3, cutoff=0.6)]


def _neighbours(letter: str) -> set[str]:
    for row, keys in enumerate(_ROWS):
        if letter in keys:
            column = keys.index(letter)
            return {
                near[c]
                for near in _ROWS[max(row - 1, 0) : row + 2]
                for c in range(column - 1, column + 2)
                if 0 <= c < len(near) and near[c] != letter
            }
    return set()


def _one_key_off(code: str, codes: Sequence[str]) -> list[str]:
    """Codes of two letters that differ from `code` by one letter or by the order of both: a neighbouring key
    first, then a swap, then any other letter."""

    def rank(other: str) -> tuple[int, bool, str]:
        if other == code[::-1]:
            return 1, False, other
        first = other[0] != code[0]  # the first letter is less often the wrong one
        wrong, right = (code[0], other[0]) if first else (code[1], other[1])
        return (0 if right.lower() in _neighbours(wrong.lower()) else 2), first, other

    near = [c for c in codes if c == code[::-1] or sum(a != b for a, b in zip(code, c, strict=True)) == 1]
    return sorted(near, key=rank)


def _by_name(value: str, names: dict[str, str]) -> list[str]:
    """Codes whose name is close to `value` or starts with it (`names`: lower-case name -> code)."""
    word = value.strip().lower()
    matches = difflib.get_close_matches(word, names, n=_SHOWN, cutoff=0.75)
    starting = sorted(name for name in names if len(word) > 2 and name.startswith(word))
    return list(dict.fromkeys(names[m] for m in [*matches, *starting]))


@functools.cache
def _countries() -> tuple[dict[str, str], dict[str, str]]:
    """ISO 3166-1 alpha-2 code -> name, and every name (common and official too) -> code."""
    codes = {c.alpha_2: getattr(c, "common_name", c.name) for c in pycountry.countries}
    names = {
        getattr(c, attribute).lower(): c.alpha_2
        for c in pycountry.countries
        for attribute in ("name", "common_name", "official_name")
        if hasattr(c, attribute)
    }
    return codes, names


def countries(value: str) -> list[str]:
    """The valid country codes closest to `value`, by code and by name, each with its name: `KZ (Kazakhstan)`."""
    codes, names = _countries()
    upper = value.strip().upper()
    if upper in codes:
        found = [upper]
    elif len(upper) == 2 and upper.isalpha():
        found = _one_key_off(upper, list(codes))
    else:
        alpha_3 = pycountry.countries.get(alpha_3=upper) if len(upper) == 3 else None
        found = [alpha_3.alpha_2] if alpha_3 is not None else _by_name(value, names)
    return [f"{code} ({codes[code]})" for code in found[:_SHOWN]]


@functools.cache
def _languages() -> tuple[dict[str, str], dict[str, str]]:
    """ISO 639-1 code -> name, and name -> code (the languages with a two-letter code, which news is written in)."""
    codes = {lang.alpha_2: lang.name for lang in pycountry.languages if hasattr(lang, "alpha_2")}
    return codes, {name.lower(): code for code, name in codes.items()}


def languages(value: str) -> list[str]:
    """The valid language codes closest to `value`, by code and by name: `id (Indonesian)`."""
    codes, names = _languages()
    primary = value.strip().replace("_", "-").split("-")[0].lower()
    if primary in codes:  # the primary subtag is fine: the rest of the tag is not
        found = [primary]
    elif len(primary) == 2 and primary.isalpha():
        found = _one_key_off(primary, list(codes))
    else:
        found = _by_name(value, names)
    return [f"{code} ({codes[code]})" for code in found[:_SHOWN]]
