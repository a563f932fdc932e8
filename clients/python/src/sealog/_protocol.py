"""The wire protocol and the bookkeeping both clients share (no I/O here).

A connection starts with the handshake line; the daemon numbers every line it
reads from 1, so the n-th event written on a connection is line n + 1. It
answers, only after the batch holding them is durable:
  {"ack":"commit","count":N,"through_line":L,"last_seq":S}
  {"ack":"rejected","line":L,"seq":S,"code":"E_...","reason":"..."}
  {"ack":"duplicate","line":L,"event_id":...,"seq":FIRST}
Lines are sealed in the order they were read, so a commit through line L
settles every earlier line that has no ack of its own.
"""

from __future__ import annotations

import collections
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Deque, Dict, List, Optional, Tuple

HANDSHAKE = b'{"$sealog":{"ack":true}}\n'

# Codes the client itself reports (the daemon's own codes, e.g. E_INVALID_JSON, pass through).
E_CONNECTION_LOST = "E_CONNECTION_LOST"
E_QUEUE_FULL = "E_QUEUE_FULL"
E_CLOSED = "E_CLOSED"

ON_FULL = ("block", "raise", "drop")

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


class SealogError(Exception):
    """An error with a stable code; callers branch on `code`, never on the message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{message} [{code}]")
        self.code = code


@dataclass
class Rejected:
    """One event sealog did not commit as an event: its id, the code and the reason."""

    event_id: Any
    code: str
    reason: str


@dataclass
class FlushResult:
    """What became of the events sent before a flush, each reported by one flush only."""

    committed: int = 0
    duplicates: int = 0
    spooled: int = 0
    rejected: List[Rejected] = field(default_factory=list)
    dropped: int = 0
    unacknowledged: int = 0

    @property
    def ok(self) -> bool:
        """Every event is durable: committed by sealog (duplicates are), or written to the spool."""
        return not self.rejected and not self.dropped and not self.unacknowledged


class EventIds:
    """`<uuid4>:<n>`: unique per client, cheap per event, stable across resends."""

    def __init__(self) -> None:
        self._prefix = uuid.uuid4().hex
        self._n = 0

    def next(self) -> str:
        self._n += 1
        return f"{self._prefix}:{self._n}"


def encode(event: Any, ids: Optional[EventIds]) -> Tuple[bytes, Any]:
    """One event as one line, with an event_id when it has none (so a resend is safe)."""
    if not isinstance(event, dict):
        raise TypeError(f"an event is a dict (a JSON object), not {type(event).__name__}")
    # json.dumps escapes every newline inside strings (default=str output included): one line.
    text = _dumps(event)
    eid = event.get("event_id")
    if eid is None and ids is not None:
        eid = ids.next()
        # Spliced into the text: no copy of the caller's dict, and the caller's dict is untouched.
        text = f'{text[:-1]}{"," if len(text) > 2 else ""}"event_id":"{eid}"}}\n'
    else:
        text += "\n"
    return text.encode("utf-8"), eid


class Entry:
    """One event until it is settled (a plain slotted class: one is made per send)."""

    __slots__ = ("index", "line", "event_id")

    def __init__(self, index: int, line: bytes, event_id: Any) -> None:
        self.index = index  # global, in send order
        self.line = line
        self.event_id = event_id


class Tracker:
    """Events not yet settled: queued (not written on this connection) and in flight (written, no ack).

    Settled events are counted into the report that the next flush hands out.
    Thread safety is the caller's (the sync client holds its lock around every call).
    """

    def __init__(self) -> None:
        self.queued: Deque[Entry] = collections.deque()
        self.in_flight: "collections.OrderedDict[int, Entry]" = collections.OrderedDict()  # line number -> entry
        self.sent = 0  # events accepted by send(), global index of the next one
        self.settled_through = 0  # every event with index < this is settled (acks settle in order)
        self._settled_out_of_order: set = set()
        self.report = FlushResult()
        self._next_line = 2

    @property
    def pending(self) -> int:
        return len(self.queued) + len(self.in_flight)

    def add(self, line: bytes, event_id: Any) -> Entry:
        e = Entry(self.sent, line, event_id)
        self.sent += 1
        self.queued.append(e)
        return e

    def drop(self) -> None:
        """An event refused because the queue was full (on_full='drop'): counted, and settled now."""
        self._settle(self.sent)
        self.sent += 1
        self.report.dropped += 1

    def take(self, max_bytes: int) -> bytes:
        """Queued events to write on the connection (at least one when any), now in flight."""
        out = []
        size = 0
        while self.queued and (not out or size + len(self.queued[0].line) <= max_bytes):
            e = self.queued.popleft()
            self.in_flight[self._next_line] = e
            self._next_line += 1
            out.append(e.line)
            size += len(e.line)
        return b"".join(out)

    def connection_lost(self) -> None:
        """What was in flight goes back to the front of the queue, in order, for the next connection."""
        self.queued.extendleft(reversed(list(self.in_flight.values())))
        self.in_flight.clear()
        self._next_line = 2

    def on_ack(self, text: str) -> Optional[str]:
        """Applies one ack line; returns the daemon's error code if it refused the connection."""
        try:
            a = json.loads(text)
        except ValueError:
            return None
        if not isinstance(a, dict):
            return None
        if "error" in a:
            return str(a["error"])
        kind = a.get("ack")
        if kind == "commit":
            through = a.get("through_line")
            if isinstance(through, int):
                while self.in_flight:
                    line = next(iter(self.in_flight))
                    if line > through:
                        break
                    self._settle(self.in_flight.pop(line).index)
                    self.report.committed += 1
        elif kind in ("rejected", "duplicate"):
            e = self.in_flight.pop(a.get("line"), None)
            if e is not None:
                self._settle(e.index)
                if kind == "duplicate":
                    self.report.committed += 1
                    self.report.duplicates += 1
                else:
                    self.report.rejected.append(Rejected(e.event_id, str(a.get("code")), str(a.get("reason"))))
        return None

    def spooled_all(self) -> List[bytes]:
        """Every unsettled event, to be written to the spool: settled as spooled."""
        entries = list(self.in_flight.values()) + list(self.queued)
        self.in_flight.clear()
        self.queued.clear()
        self._next_line = 2
        for e in entries:
            self._settle(e.index)
        self.report.spooled += len(entries)
        return [e.line for e in entries]

    def fail_in_flight(self, code: str, reason: str) -> None:
        """What was in flight is reported as failed with this code (it is not resent)."""
        self._fail(list(self.in_flight.values()), code, reason)
        self.in_flight.clear()

    def fail_all(self, code: str, reason: str) -> None:
        """Every unsettled event is reported as failed with this code (nothing resent after this)."""
        self.fail_in_flight(code, reason)
        self._fail(list(self.queued), code, reason)
        self.queued.clear()
        self._next_line = 2

    def _fail(self, entries: List[Entry], code: str, reason: str) -> None:
        for e in entries:
            self._settle(e.index)
            self.report.rejected.append(Rejected(e.event_id, code, reason))

    def _settle(self, index: int) -> None:
        if index == self.settled_through:
            self.settled_through += 1
            while self.settled_through in self._settled_out_of_order:
                self._settled_out_of_order.discard(self.settled_through)
                self.settled_through += 1
        else:
            self._settled_out_of_order.add(index)

    def take_report(self) -> FlushResult:
        r = self.report
        r.unacknowledged = self.pending
        self.report = FlushResult()
        return r
