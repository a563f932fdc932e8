"""Stand-ins for the parts of LlamaIndex that sealog.llamaindex uses, written to its documented
interface (llama_index.core.instrumentation: BaseEventHandler.handle, BaseSpanHandler's
new_span / prepare_to_exit_span / prepare_to_drop_span called from span_enter / span_exit /
span_drop, SimpleSpan, get_dispatcher; workflow events are pydantic models streamed by
WorkflowHandler.stream_events()). LlamaIndex itself cannot be installed on these machines.
"""

import sys
import types
import uuid
from datetime import datetime
from typing import Any, Dict, Generic, List, Optional, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class BaseEvent(BaseModel):
    timestamp: datetime = datetime(2026, 12, 7, 10, 0, 0)
    id_: str = "evt"
    span_id: Optional[str] = None

    @classmethod
    def class_name(cls) -> str:
        return "BaseEvent"


class BaseEventHandler(BaseModel):
    @classmethod
    def class_name(cls) -> str:
        return "BaseEventHandler"

    def handle(self, event: BaseEvent, **kwargs: Any) -> Any:
        raise NotImplementedError


class SimpleSpan(BaseModel):
    id_: str
    parent_id: Optional[str] = None
    tags: Dict[str, Any] = {}


class BaseSpanHandler(BaseModel, Generic[T]):
    open_spans: Dict[str, Any] = {}

    def span_enter(self, id_: str, bound_args: Any, instance: Any = None, parent_id: Optional[str] = None, tags: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
        span = self.new_span(id_=id_, bound_args=bound_args, instance=instance, parent_span_id=parent_id, tags=tags)
        if span:
            self.open_spans[id_] = span

    def span_exit(self, id_: str, bound_args: Any, instance: Any = None, result: Any = None, **kwargs: Any) -> None:
        self.prepare_to_exit_span(id_=id_, bound_args=bound_args, instance=instance, result=result)
        self.open_spans.pop(id_, None)

    def span_drop(self, id_: str, bound_args: Any, instance: Any = None, err: Optional[BaseException] = None, **kwargs: Any) -> None:
        self.prepare_to_drop_span(id_=id_, bound_args=bound_args, instance=instance, err=err)
        self.open_spans.pop(id_, None)


class Dispatcher:
    def __init__(self) -> None:
        self.event_handlers: List[Any] = []
        self.span_handlers: List[Any] = []

    def add_event_handler(self, h: Any) -> None:
        self.event_handlers.append(h)

    def add_span_handler(self, h: Any) -> None:
        self.span_handlers.append(h)

    def event(self, e: BaseEvent) -> None:
        for h in self.event_handlers:
            h.handle(e)

    def call_in_span(self, name: str, fn, parent: Optional[str] = None):
        id_ = f"{name}-{uuid.uuid4()}"
        for h in self.span_handlers:
            h.span_enter(id_=id_, bound_args=None, parent_id=parent)
        try:
            result = fn(id_)
        except Exception as err:
            for h in self.span_handlers:
                h.span_drop(id_=id_, bound_args=None, err=err)
            raise
        for h in self.span_handlers:
            h.span_exit(id_=id_, bound_args=None, result=result)
        return result


ROOT = Dispatcher()


def install() -> None:
    """Registers the stand-ins under the module names sealog.llamaindex imports."""
    mods = {
        "llama_index": {},
        "llama_index.core": {},
        "llama_index.core.instrumentation": {"get_dispatcher": lambda name=None: ROOT},
        "llama_index.core.instrumentation.event_handlers": {"BaseEventHandler": BaseEventHandler},
        "llama_index.core.instrumentation.span_handlers": {"BaseSpanHandler": BaseSpanHandler},
        "llama_index.core.instrumentation.span": {},
        "llama_index.core.instrumentation.span.simple": {"SimpleSpan": SimpleSpan},
    }
    for name, attrs in mods.items():
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m


def uninstall() -> None:
    for name in [n for n in sys.modules if n == "llama_index" or n.startswith("llama_index.")]:
        del sys.modules[name]


# --- workflows: events are pydantic models; the handler streams them ---------


class Event(BaseModel):
    pass


class GAMPCategorizationEvent(Event):
    agent_id: str
    confidence_score: float
    category: int


class StopEvent(Event):
    result: str


class WorkflowHandler:
    def __init__(self, events: List[Event]) -> None:
        self.run_id = "run-" + uuid.uuid4().hex[:8]
        self._events = events

    async def stream_events(self):
        for e in self._events:
            yield e
