"""Diplo: diplomatic meetings reported in news articles, as validated seeds, SQLite and read-only GraphQL.

The library's entry points are the write side's (`diplo.ingest`), imported when first used: a server, which only
reads, never imports the seed models."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .ingest.rules import RULES, SeedError, SeedErrors
    from .ingest.session import LoadResult, load_seeds, remove_sources, validate_seeds

__all__ = ["RULES", "LoadResult", "SeedError", "SeedErrors", "load_seeds", "remove_sources", "validate_seeds"]


def __getattr__(name: str) -> Any:
    if name in ("RULES", "SeedError", "SeedErrors"):
        from .ingest import rules

        return getattr(rules, name)
    if name in __all__:
        from .ingest import session

        return getattr(session, name)
    raise AttributeError(f"module 'diplo' has no attribute {name!r}")
