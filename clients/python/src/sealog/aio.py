"""sealog.AsyncClient: the same semantics as Client, for asyncio programs.

One task owns the connection: it writes what gathered, reads the acks, reconnects
and resends what was not acknowledged, or falls back to the spool directory.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Optional

from ._options import ClientOptions
from ._protocol import E_CLOSED, E_CONNECTION_LOST, HANDSHAKE, FlushResult, SealogError, encode
from .client import DEFAULT_SOCKET, WRITE_CHUNK


class AsyncClient(ClientOptions):
    """Create inside a running loop; `await client.close()` when done (or `async with`).

    The options are Client's. `send` is a coroutine only because on_full="block" may
    wait for room; with room it returns without yielding to the network.
    """

    def __init__(self, socket_path: str = DEFAULT_SOCKET, **options: Any) -> None:
        self._init_options(socket_path, **options)
        self._changed = asyncio.Condition()
        self._work = asyncio.Event()
        self._closing = False
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def send(self, event: Any) -> None:
        line, eid = encode(event, self._ids)
        if self._closing:
            raise SealogError(E_CLOSED, "the client is closed")
        t = self._tracker
        if t.pending >= self._max_pending:
            if not self._wait_for_room():
                return
            async with self._changed:
                await self._changed.wait_for(lambda: t.pending < self._max_pending or self._closing)
        t.add(line, eid)
        self._work.set()

    async def flush(self, timeout: Optional[float] = None) -> FlushResult:
        t = self._tracker
        target = t.sent
        self._work.set()
        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(lambda: t.settled_through >= target or self._task.done()), timeout)
        except asyncio.TimeoutError:
            pass
        return t.take_report()

    async def close(self, timeout: Optional[float] = 30.0) -> FlushResult:
        result = await self.flush(timeout)
        self._closing = True
        self._work.set()
        async with self._changed:
            self._changed.notify_all()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except asyncio.TimeoutError:
            self._task.cancel()
        later = self._tracker.take_report()
        result.committed += later.committed
        result.duplicates += later.duplicates
        result.spooled += later.spooled
        result.rejected.extend(later.rejected)
        result.dropped += later.dropped
        result.unacknowledged = later.unacknowledged
        return result

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    @property
    def pending(self) -> int:
        return self._tracker.pending

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _run(self) -> None:
        t = self._tracker
        down_since: Optional[float] = None
        backoff = 0.02
        while not (self._closing and (t.pending == 0 or down_since is not None)):
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(self.socket_path), 2.0)
                writer.write(HANDSHAKE)
            except (OSError, asyncio.TimeoutError) as err:
                self.last_error = f"{type(err).__name__}: {err}"
                now = time.monotonic()
                down_since = down_since or now
                await self._while_down(now - down_since)
                if self._closing:
                    return
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 0.5)
                continue
            backoff = 0.02
            down_since = None
            try:
                await self._serve(reader, writer)
            finally:
                writer.close()
                if self._ids is None:
                    t.fail_in_flight(E_CONNECTION_LOST, "the connection to sealog ended before this event was acknowledged; it may or may not be in the log")
                t.connection_lost()
                await self._notify()
            down_since = time.monotonic()

    async def _while_down(self, for_seconds: float) -> None:
        t = self._tracker
        if not t.pending:
            return
        if self._spool is not None and for_seconds >= self._spool_after:
            lines = t.spooled_all()
            try:
                await asyncio.get_running_loop().run_in_executor(None, self._spool.write, lines)
            except OSError as err:
                self.last_error = f"spool: {err}"
                raise
            await self._notify()
        elif self._spool is None and for_seconds >= self._reconnect_timeout:
            t.fail_all(E_CONNECTION_LOST, f"sealog could not be reached for {self._reconnect_timeout:g} s: {self.last_error}")
            await self._notify()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        t = self._tracker

        async def read_acks() -> None:
            while True:
                line = await reader.readline()
                if not line:
                    self.last_error = "sealog closed the connection"
                    return
                refused = t.on_ack(line.decode("utf-8", "replace").strip())
                if refused:
                    self.last_error = refused
                await self._notify()

        acks = asyncio.ensure_future(read_acks())
        try:
            half_closed = False
            while not acks.done():
                out = t.take(WRITE_CHUNK)
                if out:
                    writer.write(out)
                    await writer.drain()
                    continue
                if self._closing and t.pending == 0 and not half_closed:
                    writer.write_eof()
                    half_closed = True
                self._work.clear()
                waiter = asyncio.ensure_future(self._work.wait())
                await asyncio.wait({acks, waiter}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
        except (ConnectionError, OSError) as err:
            self.last_error = f"{type(err).__name__}: {err}"
        finally:
            acks.cancel()
