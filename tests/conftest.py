import asyncio
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from starlette.types import ASGIApp

from api.app import Settings, create_app
from api.loader import load_seeds

settings.register_profile("default", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default"))

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="session")
def article_db() -> Iterator[Path]:
    """The bundled seeds, built once for the whole session."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "article.db"
        load_seeds(path, [SEEDS])
        yield path


class Client:
    """Requests through the ASGI app in-process, no server or thread needed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                return await http.request(method, url, **kwargs)

        return asyncio.run(send())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def query(self, query: str, **variables: Any) -> dict[str, Any]:
        """POST an operation; the JSON body, asserting a 200."""
        # json.dumps escapes non-ASCII, so lone surrogates travel as `\ud800`, as any JSON client may send them.
        payload = json.dumps({"query": query, "variables": variables})
        response = self.post("/graphql", content=payload, headers={"content-type": "application/json"})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="session")
def client(article_db: Path) -> Client:
    return Client(create_app(Settings(db_path=article_db)))
