"""GraphiQL works offline: every file it loads comes from Diplo, and in a real browser it runs a query."""

import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Client
from diplo.server.app import Settings, create_app
from diplo.server.graphiql import ASSETS
from test_serve import running

HTML = {"accept": "text/html"}


def test_page_and_its_scripts_reference_no_outside_url(client: Client) -> None:
    page = client.get("/graphql", headers=HTML)
    assert page.status_code == 200
    references = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert references, page.text
    for reference in references:
        assert not re.match(r"^([a-z]+:)?//", reference), reference
        assert client.get(f"/{reference}").status_code == 200, reference  # relative to /graphql
    start = client.get("/graphiql/start.js").text
    assert not re.search(r"https?://", start)
    assert "meeting(key: $key)" in start  # opens on a Diplo example, not a generic welcome


def test_assets_are_pinned_with_their_licences() -> None:
    versions = dict(line.split() for line in (ASSETS / "VERSIONS").read_text(encoding="utf-8").splitlines())
    script = (Path(__file__).resolve().parent.parent / "scripts" / "refresh-graphiql.sh").read_text(encoding="utf-8")
    assert f"GRAPHIQL={versions['graphiql']}" in script
    assert f"REACT={versions['react']}" in script
    for package in versions:
        assert "Permission is hereby granted" in (ASSETS / f"LICENSE-{package}.txt").read_text(encoding="utf-8")


def test_only_shipped_files_are_served(article_db: Path, client: Client) -> None:
    assert client.get("/graphiql/index.html").status_code == 404
    assert client.get("/graphiql/..%2Fapp.py").status_code == 404
    assert client.get("/graphiql/nothing.js").status_code == 404
    assert client.get("/graphiql/LICENSE-react.txt").status_code == 200
    production = Client(create_app(Settings(db_path=article_db, graphiql=False)))
    assert production.get("/graphiql/start.js").status_code == 404


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (fd 3 in, fd 4 out): no extra package."""

    def __init__(self, profile: str) -> None:
        to_browser, self.writer = os.pipe()
        self.reader, from_browser = os.pipe()
        command = (
            f"exec chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir={profile} "
            f"--remote-debugging-pipe 3<&{to_browser} 4>&{from_browser}"
        )
        self.process = subprocess.Popen(
            ["bash", "-c", command], pass_fds=(to_browser, from_browser),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_browser)
        os.close(from_browser)
        self.buffer = b""
        self.next_id = 0

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.writer, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self.next_id:
                    assert "error" not in reply, reply
                    return reply["result"]  # type: ignore[no-any-return]
            if select.select([self.reader], [], [], 1)[0]:
                self.buffer += os.read(self.reader, 1 << 16)
        raise AssertionError(f"no answer from Chromium to {method}")

    def close(self) -> None:
        try:
            self.send("Browser.close")
        finally:
            self.process.wait(timeout=10)
            os.close(self.reader)
            os.close(self.writer)


def wait_for(browser: Browser, session: str, expression: str, seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = browser.send("Runtime.evaluate", session, expression=expression, returnByValue=True)["result"]
        if value.get("value"):
            return value["value"]
        time.sleep(0.2)
    raise AssertionError(f"never true in the page: {expression}")


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_graphiql_runs_a_query_in_a_real_browser(tmp_path: Path) -> None:
    with running(tmp_path) as url, tempfile.TemporaryDirectory() as profile:
        browser = Browser(profile)
        try:
            target = browser.send("Target.createTarget", url=f"{url}/graphql")["targetId"]
            session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            run = "document.querySelector('.graphiql-execute-button')"
            wait_for(browser, session, f"{run} !== null")
            browser.send("Runtime.evaluate", session, expression=f"{run}.click()")
            result = "document.querySelector('.result-window')?.innerText"
            shown = wait_for(browser, session, f"{result}.includes('Istanbul') && {result}").replace("\xa0", " ")
        finally:
            browser.close()
    assert '"city": "Istanbul"' in shown
    assert '"meeting": {' in shown  # (the editor renders only the lines in view)
