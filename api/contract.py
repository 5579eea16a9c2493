"""The committed SDL is the public contract; this tells how the current schema differs from it."""

import difflib
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

from graphql import build_schema, find_breaking_changes, find_dangerous_changes

from .schema import print_sdl

SDL_PATH = files("diplo.schema_files") / "schema.graphql"  # schema/schema.graphql, installed or in a checkout


@dataclass(frozen=True)
class SchemaChange:
    severity: str  # "breaking", "dangerous" or "safe"
    description: str

    def __str__(self) -> str:
        return f"{self.severity.upper()}: {self.description}"


def compare(committed: str, current: str) -> list[SchemaChange]:
    """Every difference between two SDLs: breaking and dangerous ones by graphql-core, the rest as diff lines."""
    if committed == current:
        return []
    old, new = build_schema(committed), build_schema(current)
    changes = [SchemaChange("breaking", c.description) for c in find_breaking_changes(old, new)]
    changes += [SchemaChange("dangerous", c.description) for c in find_dangerous_changes(old, new)]
    if not changes:
        diff = difflib.unified_diff(committed.splitlines(), current.splitlines(), lineterm="", n=0)
        changes = [
            SchemaChange("safe", line) for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
    return changes


def check_committed(path: Traversable = SDL_PATH) -> list[SchemaChange]:
    return compare(path.read_text(encoding="utf-8"), print_sdl())
