"""Fallback while the daemon cannot be reached: events go to its spool directory.

The daemon's spool protocol: write `name.jsonl.tmp`, then rename it to `name.jsonl`
(the daemon ignores `.tmp` files and ingests each `.jsonl` file exactly once).
Every line carries its event_id, so an event that sealog had committed before the
connection broke is recognized as a duplicate when the file is ingested.
"""

from __future__ import annotations

import os
import uuid
from typing import List


class SpoolWriter:
    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._prefix = f"sealog-client-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._n = 0

    def write(self, lines: List[bytes]) -> str:
        """Writes the lines durably under a final name; returns it. Raises OSError on failure."""
        self._n += 1
        final = os.path.join(self.directory, f"{self._prefix}-{self._n}.jsonl")
        tmp = final + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o640)
        try:
            with os.fdopen(fd, "wb") as f:
                for line in lines:
                    f.write(line)
                f.flush()
                os.fsync(f.fileno())
            os.rename(tmp, final)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        dfd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        return final
