"""sealog.Client: a producer thread hands events to a background thread that owns the socket.

send() serializes the event and appends it to a bounded queue: it never waits for
the network. The background thread writes what gathered, reads the acks, and keeps
every event until sealog says it is durable, so that it can resend after a
reconnect (safe: each event carries an event_id that sealog's dedupe recognizes).
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from typing import Any, Optional

from ._options import ClientOptions
from ._protocol import (
    E_CLOSED,
    E_CONNECTION_LOST,
    HANDSHAKE,
    FlushResult,
    SealogError,
    encode,
)

DEFAULT_SOCKET = "var/sealog.sock"
WRITE_CHUNK = 256 * 1024


class Client(ClientOptions):
    """A thread-safe client. Use as a context manager, or call close() when done.

    socket_path: the daemon's socket (`socket.path` in its config). The other options
    are keyword-only, with these defaults: max_pending=10000, on_full="block",
    spool_dir=None, spool_after=1.0, reconnect_timeout=10.0, event_ids=True.
    max_pending: events kept until acknowledged; when full, `on_full` decides:
      "block" (send waits for room), "raise" (SealogError E_QUEUE_FULL), "drop"
      (counted, reported by the next flush as `dropped`: never silent).
    spool_dir: when set, events that cannot be delivered for `spool_after` seconds
      are written to this spool directory instead (tmp-and-rename), so nothing is
      lost while sealog restarts. Otherwise, after `reconnect_timeout` seconds
      without a connection they are reported as E_CONNECTION_LOST.
    event_ids: give each event without an `event_id` one (`<uuid>:<n>`), which makes
      a resend after a reconnect safe. With False nothing is resent: what was in
      flight when a connection broke is reported as E_CONNECTION_LOST.
    """

    def __init__(self, socket_path: str = DEFAULT_SOCKET, **options: Any) -> None:
        self._init_options(socket_path, **options)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # settled, room, or closed
        self._closing = False
        self._closed = False
        self._idle = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._thread = threading.Thread(target=self._run, name="sealog-client", daemon=True)
        self._thread.start()

    # --- the producer's side -------------------------------------------------

    def send(self, event: Any) -> None:
        """Queues one event (a dict). Raises TypeError for anything else, SealogError when closed or full."""
        line, eid = encode(event, self._ids)
        with self._lock:
            if self._closing:
                raise SealogError(E_CLOSED, "the client is closed")
            t = self._tracker
            if t.pending >= self._max_pending:
                if not self._wait_for_room():
                    return
                while t.pending >= self._max_pending and not self._closing:
                    self._changed.wait()
            t.add(line, eid)
            wake = self._idle
            self._idle = False
        if wake:
            self._wake()

    def flush(self, timeout: Optional[float] = None) -> FlushResult:
        """Waits until every event sent so far is settled (or the timeout passes) and reports
        what became of the events not reported by an earlier flush."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            target = self._tracker.sent
            self._idle = False
            self._wake()
            while self._tracker.settled_through < target and self._thread.is_alive():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._changed.wait(left)
            return self._tracker.take_report()

    def close(self, timeout: Optional[float] = 30.0) -> FlushResult:
        """Flushes, then ends the connection and the background thread. Safe to call twice."""
        result = self.flush(timeout)
        with self._lock:
            self._closing = True
            self._changed.notify_all()
        self._wake()
        self._thread.join(timeout)
        with self._lock:
            if not self._closed:
                self._closed = True
                self._wake_r.close()
                self._wake_w.close()
            later = self._tracker.take_report()
        _merge(result, later)
        return result

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def pending(self) -> int:
        with self._lock:
            return self._tracker.pending

    # --- the background thread ----------------------------------------------

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except (BlockingIOError, OSError):
            pass  # already awake (buffer full) or closing

    def _run(self) -> None:
        down_since: Optional[float] = None
        backoff = 0.02
        while True:
            with self._lock:
                if self._closing and (self._tracker.pending == 0 or down_since is not None):
                    return
            sock = self._connect()
            if sock is None:
                now = time.monotonic()
                down_since = down_since or now
                self._while_down(now - down_since)
                with self._lock:
                    if self._closing:
                        return
                    self._changed.wait(backoff)
                backoff = min(backoff * 2, 0.5)
                continue
            backoff = 0.02
            try:
                self._serve(sock)
                down_since = None
            finally:
                sock.close()
                with self._lock:
                    t = self._tracker
                    if self._ids is None:
                        # Without event ids a resend could seal an event twice: report instead.
                        t.fail_in_flight(E_CONNECTION_LOST, "the connection to sealog ended before this event was acknowledged; it may or may not be in the log")
                    t.connection_lost()
                    self._changed.notify_all()
            if down_since is None:
                down_since = time.monotonic()

    def _connect(self) -> Optional[socket.socket]:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(2.0)
            s.connect(self.socket_path)
            s.sendall(HANDSHAKE)
            s.setblocking(False)
            return s
        except OSError as err:
            self.last_error = f"{type(err).__name__}: {err}"
            s.close()
            return None

    def _while_down(self, for_seconds: float) -> None:
        with self._lock:
            t = self._tracker
            if not t.pending:
                return
            if self._spool is not None and for_seconds >= self._spool_after:
                try:
                    self._spool.write(t.spooled_all())
                except OSError as err:
                    self.last_error = f"spool: {err}"
                    t.connection_lost()  # nothing was settled by a failed write: stays pending
                self._changed.notify_all()
            elif self._spool is None and for_seconds >= self._reconnect_timeout:
                t.fail_all(E_CONNECTION_LOST, f"sealog could not be reached for {self._reconnect_timeout:g} s: {self.last_error}")
                self._changed.notify_all()

    def _serve(self, sock: socket.socket) -> None:
        sel = selectors.DefaultSelector()
        sel.register(sock, selectors.EVENT_READ)
        sel.register(self._wake_r, selectors.EVENT_READ)
        out = b""
        acks = b""
        half_closed = False
        try:
            while True:
                with self._lock:
                    if not out:
                        out = self._tracker.take(WRITE_CHUNK)
                    done = self._closing and not out and self._tracker.pending == 0
                    self._idle = not out
                if done and not half_closed:
                    sock.shutdown(socket.SHUT_WR)
                    half_closed = True
                sel.modify(sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if out else 0))
                for key, mask in sel.select(0.5):
                    if key.fileobj is self._wake_r:
                        try:
                            while self._wake_r.recv(4096):
                                pass
                        except (BlockingIOError, OSError):
                            pass
                        continue
                    if mask & selectors.EVENT_WRITE and out:
                        try:
                            n = sock.send(out)
                        except BlockingIOError:
                            n = 0
                        except OSError as err:
                            self.last_error = f"send: {err}"
                            return
                        out = out[n:]
                    if mask & selectors.EVENT_READ:
                        try:
                            chunk = sock.recv(65536)
                        except BlockingIOError:
                            continue
                        except OSError as err:
                            self.last_error = f"recv: {err}"
                            return
                        if not chunk:
                            self.last_error = "sealog closed the connection"
                            return
                        acks += chunk
                        *lines, acks = acks.split(b"\n")
                        with self._lock:
                            for line in lines:
                                if line:
                                    refused = self._tracker.on_ack(line.decode("utf-8", "replace"))
                                    if refused:
                                        self.last_error = refused
                            self._changed.notify_all()
        finally:
            sel.close()


def _merge(into: FlushResult, more: FlushResult) -> None:
    into.committed += more.committed
    into.duplicates += more.duplicates
    into.spooled += more.spooled
    into.rejected.extend(more.rejected)
    into.dropped += more.dropped
    into.unacknowledged = more.unacknowledged

