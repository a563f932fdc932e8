"""sealog: send events to the sealog daemon with durable acknowledgements.

    import sealog
    with sealog.Client("/run/sealog/sealog.sock") as log:
        log.send({"event_type": "ToolCall", "agent_id": "categorizer"})
        result = log.flush(timeout=5)   # FlushResult(committed=1, ...)

Standard library only; Python 3.9 or later.
"""

from ._protocol import (
    E_CLOSED,
    E_CONNECTION_LOST,
    E_QUEUE_FULL,
    FlushResult,
    Rejected,
    SealogError,
)
from .aio import AsyncClient
from .client import DEFAULT_SOCKET, Client

__version__ = "0.1.0"
__all__ = [
    "AsyncClient",
    "Client",
    "DEFAULT_SOCKET",
    "E_CLOSED",
    "E_CONNECTION_LOST",
    "E_QUEUE_FULL",
    "FlushResult",
    "Rejected",
    "SealogError",
]
