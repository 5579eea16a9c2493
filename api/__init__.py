"""Diplo: diplomatic meetings reported in news articles, as validated seeds, SQLite and read-only GraphQL."""

from .ingest.rules import RULES, SeedError, SeedErrors
from .ingest.session import LoadResult, load_seeds, remove_sources, validate_seeds

__all__ = ["RULES", "LoadResult", "SeedError", "SeedErrors", "load_seeds", "remove_sources", "validate_seeds"]
