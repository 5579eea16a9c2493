"""Per-request DataLoaders: every nested list of a response is fetched in one batched query per level.

A `Context` lives for one GraphQL operation: one read-only connection inside one read transaction (one snapshot,
so a load committing mid-request is seen entirely or not at all) and loaders that cache rows for it only.
"""

import sqlite3
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from strawberry.dataloader import DataLoader

from . import queries
from .pagination import Position
from .queries import Page
from .store import chunks

Row = sqlite3.Row
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def batch(fetch: Callable[[Sequence[K]], dict[K, V]], default: V) -> Callable[[list[K]], Awaitable[list[V]]]:
    """A DataLoader batch function over `fetch` (keys to a dict of what was found), chunked."""

    async def load(keys: list[K]) -> list[V]:
        found: dict[K, V] = {}
        unique = list(dict.fromkeys(keys))
        for chunk in chunks(unique):
            found.update(fetch(chunk))
        return [found.get(key, default) for key in keys]

    return load


@dataclass(frozen=True)
class ChildPageKey:
    """One nested connection of one parent: which relation, whose, and which page of it."""

    link: str
    parent: str
    first: int
    after: Position | None


class Loaders:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def _by_key(self, table: str) -> DataLoader[str, Row | None]:
        def fetch(keys: Sequence[str]) -> dict[str, Row | None]:
            return dict(queries.rows_by_key(self.conn, table, keys))

        return DataLoader(batch(fetch, None))

    def _grouped(self, sql: str) -> DataLoader[str, list[Row]]:
        none: list[Row] = []
        return DataLoader(batch(lambda keys: queries.rows_grouped(self.conn, sql, keys), none))

    @cached_property
    def meeting(self) -> DataLoader[str, Row | None]:
        return self._by_key("meetings")

    @cached_property
    def statement(self) -> DataLoader[str, Row | None]:
        return self._by_key("statements")

    @cached_property
    def person(self) -> DataLoader[str, Row | None]:
        return self._by_key("persons")

    @cached_property
    def organization(self) -> DataLoader[str, Row | None]:
        return self._by_key("organizations")

    @cached_property
    def topic(self) -> DataLoader[str, Row | None]:
        return self._by_key("topics")

    @cached_property
    def source(self) -> DataLoader[str, Row | None]:
        return self._by_key("sources")

    @cached_property
    def delegations_of_meeting(self) -> DataLoader[str, list[Row]]:
        return self._grouped(queries.DELEGATIONS_OF_MEETINGS)

    def _parts(self, sql: str) -> DataLoader[str, list[Row]]:
        """Rows of a meeting's parts keyed by path (`meeting/country`, `meeting/source`, ...): `sql` fetches them
        by meeting and groups them by path, so the parts of one meeting cost one lookup, not one each."""

        def fetch(paths: Sequence[str]) -> dict[str, list[Row]]:
            meetings = list(dict.fromkeys(path.partition("/")[0] for path in paths))
            grouped = queries.rows_grouped(self.conn, sql, meetings)
            return {path: grouped.get(path, []) for path in paths}

        none: list[Row] = []
        return DataLoader(batch(fetch, none))

    @cached_property
    def members(self) -> DataLoader[str, list[Row]]:
        return self._parts(queries.MEMBERS_OF_MEETINGS)

    @cached_property
    def sources_of_delegation(self) -> DataLoader[str, list[Row]]:
        return self._parts(queries.SOURCES_OF_DELEGATIONS)

    @cached_property
    def delegations_of_person(self) -> DataLoader[str, list[Row]]:
        return self._grouped(queries.DELEGATIONS_OF_PERSONS)

    @cached_property
    def follow_ups(self) -> DataLoader[str, list[Row]]:
        return self._grouped(queries.FOLLOW_UPS_OF_MEETINGS)

    @cached_property
    def topics_of_meeting(self) -> DataLoader[str, list[Row]]:
        return self._grouped(queries.TOPICS_OF_MEETINGS)

    @cached_property
    def sources_of_meeting(self) -> DataLoader[str, list[Row]]:
        return self._grouped(queries.SOURCES_OF_MEETINGS)

    @cached_property
    def topics_of_statement(self) -> DataLoader[str, list[Row]]:
        return self._grouped(queries.TOPICS_OF_STATEMENTS)

    @cached_property
    def reports_of_meeting(self) -> DataLoader[str, list[Row]]:
        return self._grouped(queries.REPORTS_OF_MEETINGS)

    @cached_property
    def topics_of_report(self) -> DataLoader[str, list[Row]]:
        return self._parts(queries.TOPICS_OF_MEETING_REPORTS)

    @cached_property
    def delegations_of_report(self) -> DataLoader[str, list[Row]]:
        return self._parts(queries.DELEGATIONS_OF_MEETING_REPORTS)

    @cached_property
    def members_of_report(self) -> DataLoader[str, list[Row]]:
        return self._parts(queries.MEMBERS_OF_DELEGATION_REPORTS)

    @cached_property
    def child_page(self) -> DataLoader[ChildPageKey, Page]:
        """Nested connections: one query per relation and page arguments, for all parents at once."""

        async def load(keys: list[ChildPageKey]) -> list[Page]:
            groups: dict[tuple[str, int, Position | None], list[str]] = {}
            for key in keys:
                groups.setdefault((key.link, key.first, key.after), []).append(key.parent)
            pages: dict[ChildPageKey, Page] = {}
            for (link, first, after), parents in groups.items():
                unique = list(dict.fromkeys(parents))
                for chunk in chunks(unique):
                    found = queries.fetch_child_pages(self.conn, link, chunk, first, after)
                    pages.update({ChildPageKey(link, parent, first, after): found[parent] for parent in chunk})
            return [pages[key] for key in keys]

        return DataLoader(load)

    @cached_property
    def child_count(self) -> DataLoader[tuple[str, str], int]:
        async def load(keys: list[tuple[str, str]]) -> list[int]:
            counts: dict[tuple[str, str], int] = {}
            for link in dict.fromkeys(link for link, _ in keys):
                parents = list(dict.fromkeys(parent for key_link, parent in keys if key_link == link))
                for chunk in chunks(parents):
                    found = queries.count_children(self.conn, link, chunk)
                    counts.update({(link, parent): n for parent, n in found.items()})
            return [counts[key] for key in keys]

        return DataLoader(load)


@dataclass
class Context:
    """What every resolver of one operation shares."""

    conn: sqlite3.Connection
    operation_name: str | None = None

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(self.conn)
