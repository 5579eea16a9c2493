"""What a normalized client cache needs to know of the schema (schema/client/apollo.json), which the kit's Apollo
type policies and urql graphcache options both read: the types behind each interface (Apollo's `possibleTypes`),
the key arguments of each connection field (`relayStylePagination`, urql's `relayPagination`), and the object types
without an id (kept inside the object that holds them, not normalized: graphcache's `keys`)."""

from typing import Any

from graphql import GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema, get_named_type

# What moves along a listing, either way; every other argument keys a separate listing.
PAGE_ARGUMENTS = ("first", "after", "last", "before")


def apollo_config(schema: GraphQLSchema) -> dict[str, Any]:
    objects = [t for name, t in sorted(schema.type_map.items()) if not name.startswith("__")]
    possible = {
        interface.name: sorted(t.name for t in schema.get_possible_types(interface))
        for interface in objects
        if isinstance(interface, GraphQLInterfaceType)
    }
    connections: dict[str, dict[str, list[str]]] = {}
    for named in objects:
        if not isinstance(named, GraphQLObjectType):
            continue
        for field_name, field in named.fields.items():
            if get_named_type(field.type).name.endswith("Connection"):
                keys = [arg for arg in field.args if arg not in PAGE_ARGUMENTS]
                connections.setdefault(named.name, {})[field_name] = keys
    roots = {schema.query_type.name if schema.query_type is not None else None}
    unkeyed = [t.name for t in objects if isinstance(t, GraphQLObjectType) and "id" not in t.fields]
    return {
        "possibleTypes": possible,
        "connections": connections,
        "unkeyed": [name for name in unkeyed if name not in roots],
    }
