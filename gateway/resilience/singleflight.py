"""Single-flight: concurrent reads of the same data share one backend call.

`LocalFlights` coalesces the callers of one key inside a worker (an event, no Redis traffic),
so a burst of a thousand identical reads has one participant per worker; `SingleFlight` then
shares the fetch across workers through Redis. The first participant takes a lease
(`SET <cache key>:sf <token> NX PX <lease>`), fetches, writes the cache and frees the lease;
the others *join*: they poll the cache entry with short sleeps until a fresh value appears,
bounded by their own deadline. If the winner fails, it leaves a short failure mark in the
lease so the joiners fail fast instead of stampeding (unless it only ran out of its own time:
then a joiner with more time takes over), while a caller arriving after the failure may take
the lease and try again; if the winner dies, its lease expires and the next joiner takes over.

The lease key is the cache key plus `:sf`, inside the same hash tag (one cluster slot); the
leases themselves are `gateway.state.resilience.flights`'.

Errors:

    BackendTimeout      a joiner's deadline ran out before any answer (from backend_client)
    BackendUnavailable  the winner failed a moment ago (`code="singleflight-failed"`)
    (anything the fetch raises, for the winner)
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

from backend_client import Deadline
from backend_client.errors import BackendTimeout, BackendUnavailable
from gateway.state.connections import RedisClient
from gateway.state.keys import Keys
from gateway.state.resilience.flights import FAILED, FlightLeases

__all__ = ["LocalFlights", "SingleFlight"]

T = TypeVar("T")

_POLL_FIRST_S = 0.005
_POLL_MAX_S = 0.05


class _Flight:
    """One read in progress. Its event is made only when a follower waits: most reads have
    none (a warm turn's guardian read), and making an event costs a turn more than reading."""

    __slots__ = ("_event", "error", "finished", "value")

    def __init__(self) -> None:
        self.finished = False
        self.value: object = None
        self.error: BaseException | None = None
        self._event: anyio.Event | None = None

    async def wait(self) -> None:
        if not self.finished:
            if self._event is None:
                self._event = anyio.Event()
            await self._event.wait()

    def finish(self) -> None:
        self.finished = True
        if self._event is not None:
            self._event.set()


class LocalFlights:
    """In-process single-flight: `run(key, work, deadline)` runs `work` once per key at a time.

    Followers wait for the leader's outcome within their own deadline. When the leader only ran
    out of *its* time (`BackendTimeout`), a follower with time left runs `work` itself.
    """

    def __init__(self, on_join: Callable[[], None] | None = None) -> None:
        self._flights: dict[str, _Flight] = {}
        self._on_join = on_join

    async def run(self, key: str, work: Callable[[], Awaitable[T]], deadline: Deadline) -> T:
        while True:
            flight = self._flights.get(key)
            if flight is None:
                return await self._lead(key, work)
            if self._on_join is not None:
                self._on_join()
            with anyio.move_on_after(deadline.remaining()):
                await flight.wait()
            if not flight.finished:
                raise BackendTimeout(code="singleflight-wait")
            if flight.error is None:
                return flight.value  # type: ignore[return-value]
            if not isinstance(flight.error, BackendTimeout) or deadline.remaining() <= 0:
                raise flight.error

    async def _lead(self, key: str, work: Callable[[], Awaitable[T]]) -> T:
        flight = _Flight()
        self._flights[key] = flight
        try:
            flight.value = value = await work()
            return value
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            del self._flights[key]
            flight.finish()


class SingleFlight:
    """`run(key, fetch, read, deadline)`: one `fetch` per key at a time across all workers.

    `lease_s` bounds how long a dead winner blocks the others; `failure_mark_s` how long a
    failure is shared with the joiners. `on_join` is called once per joining caller (metrics).
    """

    def __init__(
        self,
        redis: RedisClient,
        *,
        lease_s: float = 3.0,
        failure_mark_s: float = 1.0,
        on_join: Callable[[], None] | None = None,
    ) -> None:
        if lease_s <= 0 or failure_mark_s <= 0:
            raise ValueError("lease_s and failure_mark_s must be positive")
        self.leases = FlightLeases(
            redis,
            lease_ms=max(1, round(lease_s * 1000)),
            failure_mark_ms=max(1, round(failure_mark_s * 1000)),
        )
        self._on_join = on_join

    async def run(
        self,
        key: str,
        fetch: Callable[[], Awaitable[T]],
        read: Callable[[], Awaitable[T | None]],
        deadline: Deadline,
    ) -> T:
        """`fetch()` if nobody else is fetching `key`, else wait for `read()` to give a value.

        `fetch` must store its result where `read` finds it (the cache) before returning.
        """
        lease = Keys.flight_lease(key)
        token = secrets.token_hex(8)
        joined = False
        pause = _POLL_FIRST_S
        while True:
            # A newcomer may replace a failure mark (and try again); a joiner may not.
            if await self.leases.acquire(lease, token, over_failure=not joined):
                return await self._lead(lease, token, fetch)
            if not joined:
                joined = True
                if self._on_join is not None:
                    self._on_join()
            while True:
                value = await read()
                if value is not None:
                    return value
                holder = await self.leases.holder(lease)
                if holder is None:
                    # Gone: the winner writes before it frees, so a second look settles
                    # whether it answered (between our two reads) or died.
                    value = await read()
                    if value is not None:
                        return value
                    break  # gone without an answer: try to take over
                if holder == FAILED:
                    raise BackendUnavailable(code="singleflight-failed")
                left = deadline.remaining()
                if left <= 0:
                    raise BackendTimeout(code="singleflight-wait")
                await anyio.sleep(min(pause, left))
                pause = min(pause * 2, _POLL_MAX_S)

    async def _lead(self, lease: str, token: str, fetch: Callable[[], Awaitable[T]]) -> T:
        try:
            value = await fetch()
        except BaseException as exc:
            # A timeout is the winner's own deadline: a joiner with more time may take over.
            shared = isinstance(exc, BackendUnavailable) and not isinstance(exc, BackendTimeout)
            await self._release(lease, token, failed=shared)
            raise
        await self._release(lease, token, failed=False)
        return value

    async def _release(self, lease: str, token: str, *, failed: bool) -> None:
        # Shielded: a cancelled winner still frees its lease; a lease not freed expires.
        with anyio.move_on_after(1.0, shield=True):
            await self.leases.release(lease, token, failed=failed)
