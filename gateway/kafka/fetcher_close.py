"""A consumer's stop that cannot fail on its own cancelled fetch requests (aiokafka 0.14).

``Fetcher.close`` cancels its in-flight fetch requests and awaits each one.
A request that met a broker error sleeps out its retry backoff outside the
``try`` that turns cancellation into ``False``; awaiting it then raises that
``CancelledError`` out of ``consumer.stop()``. The stop ends half way (the
coordinator closed, the client's connections open), the caller's other
clients are never stopped, and ``gkt run`` ended a broker outage in a
traceback with ``Unclosed AIOKafka…`` lines instead of its ``exiting`` line.

This close does the same steps but gathers the requests it cancelled: their
cancellation is theirs. A cancellation of the caller still propagates.
"""

import asyncio
import contextlib
from typing import Any

from aiokafka.consumer import fetcher


async def _close(self: Any) -> None:
    self._closed = True
    self._fetch_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await self._fetch_task
    for waiter in self._fetch_waiters:  # fail pending fetchone/fetchall calls, as aiokafka does
        self._notify(waiter)
    pending = list(self._pending_tasks)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


def install() -> None:
    """Every aiokafka consumer of this process closes with ``_close`` (idempotent)."""
    fetcher.Fetcher.close = _close
