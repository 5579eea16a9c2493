"""Operations run off the event loop: a bounded pool of threads, one deadline and one size budget per operation.

The event loop parses requests and writes responses, and runs an operation itself only for a slice of at most
`inline_seconds` (`GraphQLEndpoint.inline`), so a heavy query never stalls `/healthz` or the other requests of its
worker. The deadline holds for the whole operation: the progress handler stops SQL, the budget
stops Python work between fields, and the request is answered `TIMEOUT` at the deadline whatever the thread is
still doing (it stops at its next check and its read transaction ends).
"""

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from graphql import GraphQLResolveInfo
from strawberry.extensions import SchemaExtension

from ..graphql.errors import QUERY_TOO_COMPLEX, TIMEOUT

# Operations one worker process executes at once; the others wait their turn within their deadline. Python runs one
# thread at a time, so a second thread adds little throughput, and with two the GIL is often handed to the other one
# rather than to the event loop: /healthz's p99 under heavy queries was 50-90 ms with two, 15 ms with one.
THREADS = 1
T = TypeVar("T")


class Stopped(BaseException):
    """An operation stopped past its deadline or its size budget. A BaseException, because graphql-core turns a
    resolver's Exception into a field error and goes on; this must end the whole operation."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"data": None, "errors": [{"message": self.message, "extensions": {"code": self.code}}]}


def timed_out(seconds: float) -> Stopped:
    return Stopped(TIMEOUT, f"the operation took longer than {seconds:g} s; ask for less")


def too_large(limit: int) -> Stopped:
    return Stopped(
        QUERY_TOO_COMPLEX,
        f"the response is over the limit of {limit} bytes; lower `first` on nested connections or select fewer fields",
    )


@dataclass
class Budget:
    """What one operation may still spend: time until `deadline` (monotonic), and response bytes."""

    deadline: float
    seconds: float
    max_bytes: int
    spent: int = 0

    @classmethod
    def start(cls, seconds: float, max_bytes: int) -> "Budget":
        return cls(time.monotonic() + seconds, seconds, max_bytes)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def charge(self, size: int) -> None:
        """Count `size` bytes of the response being built; `OverBudget` past either limit."""
        self.spent += size
        if self.spent > self.max_bytes or time.monotonic() > self.deadline:
            raise OverBudget

    def spend_all(self) -> None:
        """The answer is larger than it may be, found before its bytes were counted (by SQLite's memory)."""
        self.spent = max(self.spent, self.max_bytes + 1)

    def stopped(self) -> Stopped | None:
        """Which limit the operation went past, if any."""
        if time.monotonic() > self.deadline:
            return timed_out(self.seconds)
        if self.spent > self.max_bytes:
            return too_large(self.max_bytes)
        return None


class OverBudget(Exception):
    """Raised by every field resolved once the budget is spent: graphql-core makes each a field error and winds the
    operation down quickly (awaiting what it started); the answer is then replaced by `Budget.stopped()`."""


class Budgeted(SchemaExtension):
    """Charges each resolved field to the operation's budget: its name and punctuation, and a string's length (the
    bulk of Diplo's responses), so an answer too large to send is stopped while it is being built."""

    def resolve(
        self, _next: Callable[..., Any], root: Any, info: GraphQLResolveInfo[Any], *args: Any, **kwargs: Any
    ) -> Any:
        budget: Budget | None = getattr(info.context, "budget", None)
        if budget is None:
            return _next(root, info, *args, **kwargs)
        budget.charge(len(info.field_name) + 4)  # before the resolver, so a spent budget skips its work
        result = _next(root, info, *args, **kwargs)
        if isinstance(result, str):
            budget.charge(len(result))
        return result


class Worker:
    """A bounded pool of threads for operations, each awaited no longer than its budget allows."""

    def __init__(self, threads: int = THREADS) -> None:
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="diplo-operation")

    async def run(self, work: Callable[[], T], budget: Budget) -> T:
        """`work()` in a thread; `Stopped` (TIMEOUT) at the deadline even if the thread has not stopped yet."""
        future = asyncio.wrap_future(self.pool.submit(work))
        try:
            return await asyncio.wait_for(future, timeout=max(budget.remaining(), 0))
        except TimeoutError:
            raise timed_out(budget.seconds) from None
