"""`Date` and `DateTime`: RFC 3339 forms in and out, a clear message for anything else; `Country` is a Node."""

import datetime as dt

import pytest
from conftest import Client
from diplo.graphql.scalars import parse_date, parse_date_time, serialize
from hypothesis import given
from hypothesis import strategies as st
from strawberry.exceptions import StrawberryInputCoercionError

DATED = "query ($d: Date) { meetings(filter: {dateFrom: $d}) { totalCount } }"


@given(st.dates())
def test_dates_round_trip(value: dt.date) -> None:
    assert parse_date(serialize(value)) == value


# RFC 3339 offsets: whole minutes, under a day either way.
OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda minutes: dt.timezone(dt.timedelta(minutes=minutes)))


@given(st.datetimes(timezones=OFFSETS))
def test_date_times_round_trip_keeping_their_offset(value: dt.datetime) -> None:
    parsed = parse_date_time(serialize(value))
    assert parsed == value
    assert parsed.utcoffset() == value.utcoffset()


@pytest.mark.parametrize("value", ["20250201", "2025-W05-6", "2025-02-30", "2025-2-1", 5, None])
def test_only_full_dates_are_dates(value: object) -> None:
    with pytest.raises(StrawberryInputCoercionError, match="RFC 3339 full-date"):
        parse_date(value)


@pytest.mark.parametrize("value", ["2025-03-01T01:20:00", "2025-03-01", "20250301T012000Z", 1])
def test_only_date_times_with_offsets_are_date_times(value: object) -> None:
    with pytest.raises(StrawberryInputCoercionError, match="RFC 3339 date-time"):
        parse_date_time(value)
    assert parse_date_time("2025-03-01t01:20:00.5z") == dt.datetime(2025, 3, 1, 1, 20, 0, 500000, dt.UTC)


def test_a_date_time_for_a_date_says_what_to_send(client: Client) -> None:
    body = client.query(DATED, d="2025-02-01T00:00:00.000Z")
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "not a date-time: send '2025-02-01'" in error["message"]
    literal = client.query('{ meetings(filter: {dateFrom: "20250201"}) { totalCount } }')
    assert "RFC 3339 full-date" in literal["errors"][0]["message"]
    assert client.query(DATED, d="2025-02-01")["data"]["meetings"]["totalCount"] == 4  # the follow-up: 2025-03-01/..


def test_scalars_are_documented_and_specified(client: Client) -> None:
    query = '{ d: __type(name: "Date") { description specifiedByURL } t: __type(name: "DateTime") { description } }'
    data = client.query(query)["data"]
    assert "RFC 3339 full-date" in data["d"]["description"]
    assert data["d"]["specifiedByURL"].startswith("https://www.rfc-editor.org/rfc/rfc3339")
    assert "offset is kept" in data["t"]["description"]


def test_country_is_a_node(client: Client) -> None:
    countries = client.query("{ countries { id code } }")["data"]["countries"]
    russia = next(c for c in countries if c["code"] == "RU")
    found = client.query("query ($id: ID!) { node(id: $id) { id ... on Country { code name } } }", id=russia["id"])
    assert found["data"]["node"] == {"id": russia["id"], "code": "RU", "name": "Russian Federation"}
    from diplo.graphql.types import global_id

    unknown = client.query("query ($id: ID!) { node(id: $id) { id } }", id=global_id("Country", "ZZ"))
    assert unknown["data"]["node"] is None
