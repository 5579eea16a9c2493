"""What a normalized client cache needs to know of the schema (schema/client/apollo.json): the types behind each
interface (Apollo's `possibleTypes`) and the key arguments of each connection field (`relayStylePagination`)."""

from typing import Any

from graphql import GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema, get_named_type

PAGE_ARGUMENTS = ("first", "after")  # what moves along a listing; every other argument keys a separate listing


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
    return {"possibleTypes": possible, "connections": connections}
