"""The declarations (`api/graphql/catalog.py`) and the strawberry schema agree, field by field: every field of
every object type is declared once, scalars and embedded objects included, with the shape its GraphQL type has, and
every declaration is a field of the schema; every root field is declared. Both executors read those declarations,
so a field missing from them would be answered by one path only. And a query over the declared fields is compiled:
it never falls back to the resolver path."""

import dataclasses
from pathlib import Path

import graphql
import pytest
from diplo.graphql.catalog import (
    DATE,
    FACETS,
    LISTINGS,
    ROSTERS,
    TIMESTAMP,
    TYPES,
    Column,
    Embedded,
    EmbeddedList,
    Field,
    Id,
    Localized,
    Many,
    Nested,
    One,
    Type,
)
from diplo.graphql.schema import build_schema
from test_compiled import Paths

SCHEMA = build_schema()._schema


def _object_types(schema: graphql.GraphQLSchema) -> dict[str, graphql.GraphQLObjectType]:
    """The object types of the data: all but the root, the connections and their parts, and introspection's."""
    return {
        name: t
        for name, t in schema.type_map.items()
        if isinstance(t, graphql.GraphQLObjectType)
        and not name.startswith("__")
        and name not in ("Query", "PageInfo")
        and "pageInfo" not in t.fields
        and "cursor" not in t.fields
    }


def _columns(declared: Type) -> set[str]:
    """The columns of its rows a type's scalars read."""
    found: set[str] = set()
    for spec in declared.fields.values():
        if isinstance(spec, Column):
            found.add(spec.column)
        elif isinstance(spec, Id):
            found.update(spec.columns)
    return found


def _problem(name: str, field: graphql.GraphQLField, spec: Field, types: dict[str, Type]) -> str | None:
    """What is wrong with `spec` as the declaration of the schema field `field`, or None."""
    output = graphql.get_nullable_type(field.type)
    listed = isinstance(output, graphql.GraphQLList)
    named = graphql.get_named_type(output)
    if isinstance(named, graphql.GraphQLScalarType | graphql.GraphQLEnumType):
        if name == "id":
            return None if isinstance(spec, Id) else "the id is not declared as an Id"
        if "language" in field.args:
            return None if isinstance(spec, Localized) else "a field with `language` is not Localized"
        if not isinstance(spec, Column):
            return f"a scalar declared as {type(spec).__name__}"
        expected = {"Date": DATE, "DateTime": TIMESTAMP}.get(named.name)
        if expected is not None and spec.encoding is not expected:
            return f"a {named.name} encoded as {spec.encoding.kind}"
        if isinstance(named, graphql.GraphQLEnumType) != (spec.encoding.kind == "enum"):
            return f"a {named.name} encoded as {spec.encoding.kind}"
        return None
    assert isinstance(named, graphql.GraphQLObjectType)
    if "nodes" in named.fields:  # a connection
        target = graphql.get_named_type(named.fields["nodes"].type).name
        return None if isinstance(spec, Nested) and spec.target == target else "not a Nested connection of " + target
    kinds: tuple[type, ...] = (Many, EmbeddedList) if listed else (One, Embedded)
    if not isinstance(spec, kinds) or spec.target != named.name:  # type: ignore[attr-defined]
        return f"not a {' or '.join(k.__name__ for k in kinds)} of {named.name}"
    if isinstance(spec, Embedded | EmbeddedList) and set(spec.columns) != _columns(types[spec.target]):
        return f"embeds {sorted(spec.columns)}, {spec.target} reads {sorted(_columns(types[spec.target]))}"
    return None


def disagreements(schema: graphql.GraphQLSchema, types: dict[str, Type]) -> list[str]:
    """Every way the declarations and the schema differ; empty when they agree."""
    found = []
    object_types = _object_types(schema)
    # Facet groups are declared in `FACETS`, each a list of counts.
    for facets in FACETS.values():
        fields = object_types.pop(facets.type).fields
        found += [f"{facets.type}.{name}: not declared" for name in fields if name not in facets.groups]
        found += [f"{facets.type}.{name}: declared, not in the schema" for name in facets.groups if name not in fields]
        found += [f"{facets.type}.{name}: not a list of FacetCount" for name in fields
                  if str(fields[name].type) != "[FacetCount!]!"]  # fmt: skip
    object_types.pop("FacetCount")
    found += [f"{name}: not declared" for name in sorted(set(object_types) - set(types))]
    found += [f"{name}: declared, not in the schema" for name in sorted(set(types) - set(object_types))]
    for type_name in sorted(set(object_types) & set(types)):
        fields, declared = object_types[type_name].fields, types[type_name].fields
        found += [f"{type_name}.{name}: not declared" for name in fields if name not in declared]
        found += [f"{type_name}.{name}: declared, not in the schema" for name in declared if name not in fields]
        for name in (name for name in fields if name in declared):
            if (problem := _problem(name, fields[name], declared[name], types)) is not None:
                found.append(f"{type_name}.{name}: {problem}")
    roots = {}
    for type_name, declared in types.items():
        for root in (declared.lookup, declared.listing.name if declared.listing else None, declared.roster):
            if root is not None:
                roots[root] = type_name
    roots |= {root: facets.type for root, facets in FACETS.items()}
    query = schema.query_type
    assert query is not None
    for name, field in query.fields.items():
        if name == "node":
            continue
        named = graphql.get_named_type(field.type)
        if isinstance(named, graphql.GraphQLObjectType) and "nodes" in named.fields:
            named = graphql.get_named_type(named.fields["nodes"].type)
        if roots.get(name) != named.name:
            found.append(f"Query.{name}: not declared as a root field of {named.name}")
    found += [f"Query.{name}: declared, not in the schema" for name in roots if name not in query.fields]
    nodes = {name for name, t in object_types.items() if any(i.name == "Node" for i in t.interfaces)}
    found += [f"{name}: a Node without an id" for name in sorted(nodes & set(types)) if not types[name].node]
    return found


def test_the_declarations_and_the_schema_agree() -> None:
    assert disagreements(SCHEMA, TYPES) == []


def _without(type_name: str, field: str) -> dict[str, Type]:
    declared = TYPES[type_name]
    fields = {name: spec for name, spec in declared.fields.items() if name != field}
    return {**TYPES, type_name: dataclasses.replace(declared, fields=fields)}


@pytest.mark.parametrize(
    ("type_name", "field"),
    [("Statement", "occasion"), ("Meeting", "hostCountry"), ("Meeting", "participants"), ("Topic", "label")],
)
def test_a_field_missing_from_the_declarations_is_found(type_name: str, field: str) -> None:
    assert disagreements(SCHEMA, _without(type_name, field)) == [f"{type_name}.{field}: not declared"]


def test_a_field_declared_with_the_wrong_shape_is_found() -> None:
    statement = TYPES["Statement"]
    wrong = {**statement.fields, "date": Column("date"), "speaker": Many("Person", "persons rel", "1", "rel.key")}
    found = disagreements(SCHEMA, {**TYPES, "Statement": dataclasses.replace(statement, fields=wrong)})
    assert found == ["Statement.date: a Date encoded as plain", "Statement.speaker: not a One or Embedded of Person"]


def test_a_root_field_missing_from_the_declarations_is_found() -> None:
    found = disagreements(SCHEMA, {**TYPES, "Topic": dataclasses.replace(TYPES["Topic"], lookup=None)})
    assert found == ["Query.topic: not declared as a root field of Topic"]


# --- every declared field is compiled ------------------------------------------------------------------------------


def _selection(type_name: str, depth: int) -> str:
    """Every field of the type; each relation with every field of its target down to `depth` levels."""
    graphql_type = SCHEMA.type_map[type_name]
    assert isinstance(graphql_type, graphql.GraphQLObjectType)
    parts = ["__typename"]
    for name, spec in TYPES[type_name].fields.items():
        if isinstance(spec, Localized):
            parts += [f"{name}", f'{name}In: {name}(language: "en")'] if spec.fallback else [f'{name}(language: "en")']
        elif isinstance(spec, Column | Id):
            parts.append(name)
        elif isinstance(spec, Embedded | EmbeddedList):
            parts.append(f"{name} {{ {_selection(spec.target, 0)} }}")
        elif depth == 0:
            parts.append(f"{name} {{ totalCount }}" if isinstance(spec, Nested) else f"{name} {{ __typename }}")
        elif isinstance(spec, Nested):
            parts.append(f"{name}(first: 2) {{ totalCount nodes {{ {_selection(spec.target, depth - 1)} }} }}")
        else:
            parts.append(f"{name} {{ {_selection(spec.target, depth - 1)} }}")
    return " ".join(parts)


def _root_queries() -> dict[str, str]:
    queries = {
        name: f"{{ {name}(first: 3) {{ nodes {{ {_selection(t, 1)} }} }} }}" for name, (_, t) in LISTINGS.items()
    }
    queries |= {name: f"{{ {name} {{ {_selection(t, 1)} }} }}" for name, t in ROSTERS.items()}
    # Types with no root listing, through the relation that reaches them.
    queries["reports"] = f"{{ meetings {{ nodes {{ reports {{ {_selection('MeetingReport', 1)} }} }} }} }}"
    queries["statementReports"] = f"{{ statements {{ nodes {{ reports {{ {_selection('StatementReport', 1)} }} }} }} }}"
    queries["evidence"] = f"{{ statements {{ nodes {{ evidence {{ {_selection('Evidence', 1)} }} }} }} }}"
    queries["disputes"] = (
        f"{{ meetings {{ nodes {{ disputes {{ {_selection('Dispute', 2)} }} "
        f"decisions {{ {_selection('EditorialDecision', 0)} }} }} }} }}"
    )
    queries["names"] = f"{{ persons {{ nodes {{ names {{ {_selection('NameReport', 1)} }} }} }} }}"
    return queries


ROOT_QUERIES = _root_queries()


def test_every_declared_type_is_queried() -> None:
    reached = {t for _, t in LISTINGS.values()} | set(ROSTERS.values())
    reached |= {"MeetingReport", "DelegationReport", "StatementReport", "Evidence", "TextQuote", "Translation"}
    reached |= {"Dispute", "DisputedValue", "EditorialDecision", "NameReport"}
    reached |= {spec.target for t in TYPES.values() for spec in t.fields.values() if isinstance(spec, Embedded)}
    assert reached == set(TYPES)


@pytest.mark.parametrize("query", ROOT_QUERIES.values(), ids=ROOT_QUERIES.keys())
def test_a_query_over_every_declared_field_is_compiled_to_the_same_bytes(article_db: Path, query: str) -> None:
    assert Paths(article_db).same(query), "the compiled path fell back"
