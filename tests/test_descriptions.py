"""Every type, field, argument and enum value of the schema is described (GraphiQL's docs, generated types)."""

from diplo.graphql.schema import build_schema
from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType


def undescribed() -> list[str]:
    missing = []
    for name, named in build_schema()._schema.type_map.items():
        if name.startswith("__"):
            continue
        if not named.description:
            missing.append(name)
        if isinstance(named, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in named.values.items() if not value.description]
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in named.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                args = getattr(field, "args", {})
                missing += [f"{name}.{field_name}({a})" for a, arg in args.items() if not arg.description]
    return missing


def test_everything_is_described() -> None:
    assert undescribed() == []
