"""GraphiQL, served from files shipped in the package (`api/graphiql/`), so that it works offline."""

from strawberry.http.ides import get_graphql_ide_html


def graphiql_page() -> str:
    return get_graphql_ide_html("graphiql")
