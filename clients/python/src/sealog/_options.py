"""The options both clients take, with their defaults and checks in one place."""

from __future__ import annotations

from typing import Optional

from ._protocol import E_QUEUE_FULL, ON_FULL, EventIds, SealogError, Tracker
from ._spool import SpoolWriter


class ClientOptions:
    """Base of Client and AsyncClient: the options (see Client's docstring) and the event state."""

    def _init_options(
        self,
        socket_path: str,
        *,
        max_pending: int = 10000,
        on_full: str = "block",
        spool_dir: Optional[str] = None,
        spool_after: float = 1.0,
        reconnect_timeout: float = 10.0,
        event_ids: bool = True,
    ) -> None:
        if on_full not in ON_FULL:
            raise ValueError(f"on_full must be one of {ON_FULL}")
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self.socket_path = socket_path
        self._max_pending = max_pending
        self._on_full = on_full
        self._spool = SpoolWriter(spool_dir) if spool_dir else None
        self._spool_after = spool_after
        self._reconnect_timeout = reconnect_timeout
        self._ids = EventIds() if event_ids else None
        self._tracker = Tracker()
        self.last_error: Optional[str] = None

    def _wait_for_room(self) -> bool:
        """With the queue full: False when on_full drops the event (counted), an error when it
        raises, True when it blocks (the caller waits for room in its own way)."""
        if self._on_full == "drop":
            self._tracker.drop()
            return False
        if self._on_full == "raise":
            raise SealogError(E_QUEUE_FULL, f"{self._tracker.pending} events wait for sealog's acknowledgement")
        return True
