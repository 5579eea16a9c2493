"""Diplo: diplomatic meetings reported in news articles, as validated seeds, SQLite and read-only GraphQL."""

from .loader import LoadResult, load_seeds, remove_sources, validate_seeds
from .rules import RULES, SeedError, SeedErrors

__all__ = ["RULES", "LoadResult", "SeedError", "SeedErrors", "load_seeds", "remove_sources", "validate_seeds"]
