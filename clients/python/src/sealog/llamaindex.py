"""sealog for LlamaIndex: workflow events and instrumentation into the audit trail.

LlamaIndex is imported lazily, only by what needs its classes, so `import sealog`
works without it. Two ways in:

1. Workflow streams: `await forward_events(handler, client)` forwards every event
   of `handler.stream_events()` (a WorkflowHandler from `workflow.run(...)`), with
   the event's class name as `event_type` and the run id as `correlation_id`.
2. Instrumentation: `instrument(client)` adds an event handler and a span handler
   to LlamaIndex's root dispatcher: every instrumentation event is sent, and each
   span's start and end are sent as `tool_start` / `tool_end` events.

`client` is a sealog.Client or a sealog.AsyncClient.
"""

from __future__ import annotations

import inspect
import json
import time
from datetime import datetime, timezone
from typing import Any, Dict, Optional


def event_to_dict(event: Any, *, run_id: Optional[str] = None) -> Dict[str, Any]:
    """A LlamaIndex event (a pydantic model) as a JSON object sealog classifies well."""
    data = _dump(event)
    out: Dict[str, Any] = {"event_type": type(event).__name__}
    if run_id is not None:
        out["correlation_id"] = str(run_id)
    # The event's own fields stay at the top level (confidence_score, agent_id, ...), as
    # handler.stream_events() producers write them; the names above win on a clash.
    for k, v in data.items():
        out.setdefault(k, v)
    out.setdefault("timestamp", datetime.now(timezone.utc).isoformat())
    return out


def _dump(model: Any) -> Dict[str, Any]:
    if hasattr(model, "model_dump"):  # pydantic v2
        return model.model_dump(mode="json")
    if hasattr(model, "json"):  # pydantic v1
        return json.loads(model.json())
    return {k: v for k, v in vars(model).items() if not k.startswith("_")}


async def _send(client: Any, event: Dict[str, Any]) -> None:
    result = client.send(event)
    if inspect.isawaitable(result):
        await result


def _send_now(client: Any, event: Dict[str, Any]) -> None:
    """From synchronous callbacks (instrumentation handlers): an AsyncClient's send is scheduled."""
    result = client.send(event)
    if inspect.isawaitable(result):
        import asyncio

        asyncio.ensure_future(result)


def _run_id(handler: Any) -> Optional[str]:
    run_id = getattr(handler, "run_id", None)
    if run_id is None:
        ctx = getattr(handler, "ctx", None)
        run_id = getattr(ctx, "run_id", None) if ctx is not None else None
    return None if run_id is None else str(run_id)


async def forward_events(handler: Any, client: Any, *, correlation_id: Optional[str] = None) -> int:
    """Sends every event of `handler.stream_events()`; returns how many. Await the handler
    afterwards for the workflow's result, and `client.flush()` to know they are durable."""
    run_id = correlation_id or _run_id(handler)
    n = 0
    async for ev in handler.stream_events():
        await _send(client, event_to_dict(ev, run_id=run_id))
        n += 1
    return n


def event_handler(client: Any) -> Any:
    """A `BaseEventHandler` for `dispatcher.add_event_handler(...)`: sends each instrumentation event."""
    from llama_index.core.instrumentation.event_handlers import BaseEventHandler

    class SealogEventHandler(BaseEventHandler):
        @classmethod
        def class_name(cls) -> str:
            return "SealogEventHandler"

        def handle(self, event: Any, **kwargs: Any) -> Any:
            out = event_to_dict(event)
            span_id = getattr(event, "span_id", None)
            if span_id is not None:
                out.setdefault("span_id", str(span_id))
            _send_now(client, out)

    return SealogEventHandler()


def span_handler(client: Any, *, agent_name: Optional[str] = None) -> Any:
    """A `BaseSpanHandler` for `dispatcher.add_span_handler(...)`: span start and end as
    `tool_start` / `tool_end` events (tool_name = the span's method, trace_id = the root span)."""
    from llama_index.core.instrumentation.span.simple import SimpleSpan
    from llama_index.core.instrumentation.span_handlers import BaseSpanHandler

    started: Dict[str, tuple] = {}

    def common(id_: str) -> Dict[str, Any]:
        trace_id, parent, t0 = started.get(id_, (id_, None, None))
        out: Dict[str, Any] = {"tool_name": id_.split("-")[0], "span_id": id_, "trace_id": trace_id}
        if parent:
            out["parent_span_id"] = parent
        if agent_name:
            out["agent_name"] = agent_name
        return out

    def end(id_: str, success: bool, error: Optional[BaseException]) -> None:
        out = {"event_type": "tool_end", **common(id_), "success": success}
        t0 = started.pop(id_, (None, None, None))[2]
        if t0 is not None:
            out["execution_time"] = round(time.monotonic() - t0, 6)
        if error is not None:
            out["error"] = f"{type(error).__name__}: {error}"
        _send_now(client, out)

    class SealogSpanHandler(BaseSpanHandler[SimpleSpan]):
        @classmethod
        def class_name(cls) -> str:
            return "SealogSpanHandler"

        def new_span(self, id_: str, bound_args: Any, instance: Any = None, parent_span_id: Optional[str] = None, tags: Optional[Dict[str, Any]] = None, **kwargs: Any) -> Optional[SimpleSpan]:
            trace_id = started[parent_span_id][0] if parent_span_id in started else (parent_span_id or id_)
            started[id_] = (trace_id, parent_span_id, time.monotonic())
            _send_now(client, {"event_type": "tool_start", **common(id_)})
            return SimpleSpan(id_=id_, parent_id=parent_span_id, tags=tags or {})

        def prepare_to_exit_span(self, id_: str, bound_args: Any, instance: Any = None, result: Any = None, **kwargs: Any) -> Optional[SimpleSpan]:
            end(id_, True, None)
            return self.open_spans.get(id_)

        def prepare_to_drop_span(self, id_: str, bound_args: Any, instance: Any = None, err: Optional[BaseException] = None, **kwargs: Any) -> Optional[SimpleSpan]:
            end(id_, False, err)
            return self.open_spans.get(id_)

    return SealogSpanHandler()


def instrument(client: Any, *, dispatcher: Any = None, agent_name: Optional[str] = None) -> None:
    """Adds sealog's event and span handlers to the dispatcher (the root one by default)."""
    if dispatcher is None:
        from llama_index.core.instrumentation import get_dispatcher

        dispatcher = get_dispatcher()
    dispatcher.add_event_handler(event_handler(client))
    dispatcher.add_span_handler(span_handler(client, agent_name=agent_name))
