"""Schema fuzzing: queries generated from the schema, valid and invalid, never cause an internal error."""

import datetime as dt
from typing import Any

import graphql
import pytest
from conftest import Client
from diplo.graphql.schema import print_sdl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, queries


def _string(value: str) -> graphql.StringValueNode:
    return graphql.StringValueNode(value=value)


SCALARS = {
    "Date": st.one_of(st.dates().map(dt.date.isoformat), st.text(max_size=12)).map(_string),
    "DateTime": st.datetimes(timezones=st.timezones()).map(lambda d: _string(d.isoformat())),
}
SDL = print_sdl()
LEAKS = ("Traceback", 'File "', "sqlite", "SELECT ", ".py")


def assert_handled(response: Any) -> bool:
    """The response is no server error and leaks nothing; True when the operation ran (it has `data`, perhaps with
    field errors: generated arguments are mostly not ids, cursors or page sizes this API gives out)."""
    assert response.status_code < 500, response.text
    body = response.json()
    for error in body.get("errors", []):
        assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", error
        assert not any(leak in error["message"] for leak in LEAKS), error
    return body.get("data") is not None


@pytest.mark.parametrize("mode", [Mode.POSITIVE, Mode.NEGATIVE], ids=["positive", "negative"])
def test_generated_queries_never_fail_internally(client: Client, mode: Mode) -> None:
    answered: list[bool] = []

    @settings(max_examples=150, suppress_health_check=list(HealthCheck))
    @given(query=queries(SDL, custom_scalars=SCALARS, mode=mode))
    def run(query: str) -> None:
        answered.append(assert_handled(client.post("/graphql", json={"query": query})))

    run()
    # Positive queries run (their fields may still refuse generated arguments); negative ones are refused.
    assert any(answered) if mode is Mode.POSITIVE else not all(answered)
