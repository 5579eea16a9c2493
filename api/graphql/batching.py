"""Per-request DataLoaders: every nested list of a response is fetched in one batched query per level.

A `Context` lives for one GraphQL operation: one read-only connection inside one read transaction (one snapshot,
so a load committing mid-request is seen entirely or not at all) and loaders that cache rows for it only.
"""

import sqlite3
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol, TypeVar

from strawberry.dataloader import DataLoader

from ..store import chunks
from . import ids, queries
from .catalog import RELATED, TYPES, Many, Nested, One, Type
from .pagination import Paging
from .queries import Joined


class Row(Protocol):
    """A row as the resolver path reads it: a `sqlite3.Row`, or the columns an embedded object is made of."""

    def __getitem__(self, column: str, /) -> Any: ...


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


def _path(row: Row, table: Type) -> str:
    """The row's path: its primary key's values joined by `/`, how its related rows are grouped."""
    return ids.path_of([str(row[column]) for column in table.key_columns])


def _parents(table: Type) -> tuple[str, str]:
    """The parents' path as `_group`, and the condition that selects them by their paths' first parts `{keys}`."""
    columns = table.key_columns
    return ids.path_sql(columns, PARENT), f"{PARENT}.{columns[0]} IN ({{keys}})"


PARENT = "_p"


def _joined(parent_type: str, spec: Nested) -> Joined:
    """A nested connection's rows joined to the parents of `parent_type`."""
    group, where = _parents(TYPES[parent_type])
    return Joined(TYPES[parent_type].rows, PARENT, group, where, spec.condition.format(a=PARENT))


@dataclass(frozen=True)
class ChildPageKey:
    """One page of a nested connection (`spec`, a field of `parent_type`) of one parent (by its path)."""

    parent_type: str
    spec: Nested
    parent: str
    order: str
    where: queries.Where
    paging: Paging


class Loaders:
    """The loaders of one operation, each built from a declaration in `api/graphql/catalog.py` on first use."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._built: dict[Hashable, DataLoader[Any, Any]] = {}

    def by_key(self, type_name: str) -> DataLoader[str, sqlite3.Row | None]:
        """Rows of a type with a `key`, by key."""
        if type_name not in self._built:

            def fetch(keys: Sequence[str]) -> dict[str, sqlite3.Row | None]:
                return dict(queries.rows_by_key(self.conn, TYPES[type_name].rows, keys))

            self._built[type_name] = DataLoader(batch(fetch, None))
        return self._built[type_name]

    def one(self, spec: One, row: Row) -> Awaitable[sqlite3.Row | None] | None:
        """The related row of a to-one relation, or None when its key column is null."""
        key = row[spec.column]
        return self.by_key(spec.target).load(key) if key is not None else None

    def many(self, parent_type: str, spec: Many, row: Row) -> Awaitable[list[sqlite3.Row]]:
        """The related rows of a to-many relation, for every parent of the batch in one query."""
        table = TYPES[parent_type]
        if (parent_type, spec) not in self._built:
            group, parents = _parents(table)
            sql = (
                f"SELECT {group} AS _group, {RELATED}.* FROM {table.rows} {PARENT}, {spec.rows.format(a=PARENT)} "
                f"WHERE {parents} AND {spec.where.format(a=PARENT)} ORDER BY {spec.order}"
            )
            none: list[sqlite3.Row] = []
            self._built[parent_type, spec] = DataLoader(batch(lambda paths: self._grouped(sql, paths), none))
        loader: DataLoader[str, list[sqlite3.Row]] = self._built[parent_type, spec]
        return loader.load(_path(row, table))

    def _grouped(self, sql: str, paths: Sequence[str]) -> dict[str, list[sqlite3.Row]]:
        heads = list(dict.fromkeys(path.partition("/")[0] for path in paths))
        grouped = queries.rows_grouped(self.conn, sql, heads)
        return {path: grouped.get(path, []) for path in paths}

    def page(
        self, parent_type: str, spec: Nested, row: Row, order: str, where: queries.Where, paging: Paging
    ) -> Awaitable[queries.RowPage]:
        key = ChildPageKey(parent_type, spec, _path(row, TYPES[parent_type]), order, where, paging)
        return self.child_page.load(key)

    def count(self, parent_type: str, spec: Nested, row: Row, where: queries.Where) -> Awaitable[int]:
        return self.child_count.load((parent_type, spec, where, _path(row, TYPES[parent_type])))

    @cached_property
    def child_page(self) -> DataLoader[ChildPageKey, queries.RowPage]:
        """Nested connections: one query per relation and page arguments, for all parents at once."""

        async def load(keys: list[ChildPageKey]) -> list[queries.RowPage]:
            groups: dict[tuple[str, Nested, str, queries.Where, Paging], list[str]] = {}
            for key in keys:
                groups.setdefault((key.parent_type, key.spec, key.order, key.where, key.paging), []).append(key.parent)
            pages: dict[ChildPageKey, queries.RowPage] = {}
            for (parent_type, spec, order, where, paging), parents in groups.items():
                joined = _joined(parent_type, spec)
                for chunk in chunks(list(dict.fromkeys(parents))):
                    found = queries.fetch_child_pages(self.conn, spec.listing, joined, chunk, order, where, paging)
                    pages.update({ChildPageKey(parent_type, spec, p, order, where, paging): found[p] for p in chunk})
            return [pages[key] for key in keys]

        return DataLoader(load)

    @cached_property
    def child_count(self) -> DataLoader[tuple[str, Nested, queries.Where, str], int]:
        async def load(keys: list[tuple[str, Nested, queries.Where, str]]) -> list[int]:
            counts: dict[tuple[str, Nested, queries.Where, str], int] = {}
            for parent_type, spec, where in dict.fromkeys((t, s, w) for t, s, w, _ in keys):
                joined = _joined(parent_type, spec)
                parents = list(dict.fromkeys(p for t, s, w, p in keys if (t, s, w) == (parent_type, spec, where)))
                for chunk in chunks(parents):
                    found = queries.count_children(self.conn, spec.listing, joined, chunk, where)
                    counts.update({(parent_type, spec, where, parent): n for parent, n in found.items()})
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
