"""GraphiQL from files shipped in the package (`api/server/graphiql/`, pinned by `scripts/refresh-graphiql.sh`), so that
it works without internet: the page at /graphql, its scripts and styles at /graphiql/NAME."""

from importlib.resources import files

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

ASSETS = files(__package__ or "diplo") / "graphiql"
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain"}


def graphiql_page() -> str:
    return (ASSETS / "index.html").read_text(encoding="utf-8")


async def asset(request: Request) -> Response:
    """A file of GraphiQL's, by name; only those this folder ships, cached a day (they change with a release)."""
    name: str = request.path_params["name"]
    media_type = next((t for suffix, t in MEDIA_TYPES.items() if name.endswith(suffix)), None)
    path = ASSETS / name
    if media_type is None or "/" in name or not path.is_file():
        return HTMLResponse("not found", status_code=404)
    return Response(path.read_bytes(), media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})
