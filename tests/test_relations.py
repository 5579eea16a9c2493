"""The relation registry (`api/graphql/catalog.py`) and the strawberry schema agree: every relation field of the schema
is declared once, with its target and cardinality, and every declaration is a field of the schema. Both executors
read those declarations, so a relation missing from either side would be answered by one path only."""

import graphql
import pytest
from diplo.graphql.catalog import TABLES, Countries, CountryOf, Many, One, Page
from diplo.graphql.schema import build_schema

SCHEMA = build_schema()._schema
RELATION = One | Many | Page | Countries | CountryOf


def _object_types() -> dict[str, graphql.GraphQLObjectType]:
    return {
        name: t
        for name, t in SCHEMA.type_map.items()
        if isinstance(t, graphql.GraphQLObjectType) and any(i.name == "Node" for i in t.interfaces)
    }


def _shape(field: graphql.GraphQLField) -> tuple[type, str] | None:
    """What a schema field must be declared as, and its target type; None for a scalar field."""
    output = graphql.get_nullable_type(field.type)
    listed = isinstance(output, graphql.GraphQLList)
    named = graphql.get_named_type(output)
    if not isinstance(named, graphql.GraphQLObjectType):
        return None
    if named.name == "Country":
        return (Countries if listed else CountryOf), "Country"
    if "nodes" in named.fields:  # a connection
        return Page, graphql.get_named_type(named.fields["nodes"].type).name
    return (Many if listed else One), named.name


def _declared(spec: object) -> tuple[type, str]:
    if isinstance(spec, CountryOf | Countries):
        return type(spec), "Country"
    assert isinstance(spec, One | Many | Page)
    return type(spec), spec.target


def test_every_record_type_is_declared() -> None:
    assert set(_object_types()) - {"Country"} == set(TABLES)


@pytest.mark.parametrize("type_name", sorted(TABLES))
def test_the_registry_and_the_schema_declare_the_same_relations(type_name: str) -> None:
    fields = _object_types()[type_name].fields
    in_schema = {name: shape for name, field in fields.items() if (shape := _shape(field)) is not None}
    declared = {name: _declared(spec) for name, spec in TABLES[type_name].fields.items() if isinstance(spec, RELATION)}
    assert declared == in_schema
