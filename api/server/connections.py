"""Bounding slow clients: uvicorn closes idle keep-alive connections but has no time limit on reading a request,
so a client sending its headers a byte at a time would hold a connection (and its memory) for ever."""

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection that has not sent a whole request (headers and body) within
    `read_seconds` of opening or of its previous response."""

    read_seconds = 10.0  # set from the `request_read_seconds` limit before serving
    read_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self.start_read_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.start_read_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.read_timer is not None:
            self.read_timer.cancel()
        super().connection_lost(exc)

    def start_read_timer(self) -> None:
        if self.read_timer is not None:
            self.read_timer.cancel()
        self.read_timer = self.loop.call_later(self.read_seconds, self.read_timed_out)

    def read_timed_out(self) -> None:
        if self.conn.their_state is not h11.DONE and not self.transport.is_closing():
            self.transport.close()
