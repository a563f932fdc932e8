import asyncio
import importlib.util
import unittest

from harness import Daemon, wait_for

import sealog

HAVE_PYDANTIC = importlib.util.find_spec("pydantic") is not None


class AsyncClientTest(unittest.TestCase):
    def setUp(self):
        self.d = Daemon().start()
        self.addCleanup(self.d.cleanup)

    def test_acks_and_flush(self):
        async def main():
            async with sealog.AsyncClient(self.d.socket) as c:
                for i in range(300):
                    await c.send({"n": i})
                return await c.flush(timeout=20)

        r = asyncio.run(main())
        self.assertTrue(r.ok, r)
        self.assertEqual(r.committed, 300)
        self.assertEqual(self.d.events(), list(range(300)))

    def test_resend_after_sigkill_is_exactly_once(self):
        async def main():
            c = sealog.AsyncClient(self.d.socket, reconnect_timeout=60)
            for i in range(1000):
                await c.send({"n": i})
            while c.pending >= 1000:  # some acknowledged, the rest in flight
                await asyncio.sleep(0.005)
            self.d.kill()
            for i in range(1000, 1500):
                await c.send({"n": i})
            await asyncio.get_running_loop().run_in_executor(None, self.d.start)
            r = await c.flush(timeout=60)
            await c.close(5)
            return r

        r = asyncio.run(main())
        self.assertTrue(r.ok, r)
        self.assertEqual(sorted(self.d.events()), list(range(1500)))

    def test_spool_fallback_and_on_full(self):
        self.d.stop()

        async def main():
            c = sealog.AsyncClient(self.d.socket, spool_dir=self.d.spool, spool_after=0.2)
            for i in range(50):
                await c.send({"n": i})
            r = await c.flush(timeout=20)
            await c.close(1)
            raising = sealog.AsyncClient(self.d.socket, max_pending=2, on_full="raise", reconnect_timeout=60)
            await raising.send({"x": 1})
            await raising.send({"x": 2})
            with self.assertRaises(sealog.SealogError) as e:
                await raising.send({"x": 3})
            await raising.close(0.2)
            return r, e.exception.code

        r, code = asyncio.run(main())
        self.assertEqual(r.spooled, 50)
        self.assertEqual(code, sealog.E_QUEUE_FULL)
        self.d.start()
        wait_for(lambda: sorted(self.d.events()) == list(range(50)), what="spooled events sealed")


@unittest.skipUnless(HAVE_PYDANTIC, "pydantic is not installed (Debian: python3-pydantic)")
class LlamaIndexTest(unittest.TestCase):
    def setUp(self):
        import fake_llama_index as fake

        fake.install()
        self.addCleanup(fake.uninstall)
        self.fake = fake
        self.d = Daemon().start()
        self.addCleanup(self.d.cleanup)

    def test_forward_events_from_a_workflow_stream(self):
        from sealog.llamaindex import forward_events

        f = self.fake
        handler = f.WorkflowHandler([f.GAMPCategorizationEvent(agent_id="categorizer", confidence_score=0.92, category=5), f.StopEvent(result="done")])

        async def main():
            async with sealog.AsyncClient(self.d.socket) as c:
                n = await forward_events(handler, c)
                return n, await c.flush(timeout=20)

        n, r = asyncio.run(main())
        self.assertEqual(n, 2)
        self.assertTrue(r.ok, r)
        recs = [x for x in self.d.records() if x["source"]["kind"] == "socket"]
        self.assertEqual([x["event"]["event_type"] for x in recs], ["GAMPCategorizationEvent", "StopEvent"])
        self.assertEqual({x["event"]["correlation_id"] for x in recs}, {handler.run_id})
        self.assertEqual(recs[0]["event"]["confidence_score"], 0.92)
        self.assertEqual(recs[0]["type"], "GAMPCategorizationEvent")  # classified as the design's shape

    def test_instrumentation_events_and_spans(self):
        from sealog.llamaindex import instrument

        f = self.fake
        with sealog.Client(self.d.socket) as c:
            instrument(c, agent_name="planner")
            f.ROOT.event(f.BaseEvent(id_="e1", span_id="s1"))
            f.ROOT.call_in_span("QueryEngine.query", lambda sid: f.ROOT.call_in_span("Retriever.retrieve", lambda _: "ok", parent=sid))
            with self.assertRaises(ValueError):
                f.ROOT.call_in_span("LLM.chat", lambda _: (_ for _ in ()).throw(ValueError("rate limited")))
            r = c.flush(timeout=20)
        self.assertTrue(r.ok, r)
        evs = [x["event"] for x in self.d.records() if x["source"]["kind"] == "socket"]
        self.assertEqual([e["event_type"] for e in evs], ["BaseEvent", "tool_start", "tool_start", "tool_end", "tool_end", "tool_start", "tool_end"])
        self.assertEqual(evs[0]["span_id"], "s1")
        outer, inner = evs[1], evs[2]
        self.assertEqual(inner["parent_span_id"], outer["span_id"])
        self.assertEqual(inner["trace_id"], outer["trace_id"])
        self.assertEqual(evs[3]["tool_name"], "Retriever.retrieve")
        self.assertTrue(evs[3]["success"])
        self.assertIn("execution_time", evs[3])
        self.assertEqual(evs[6]["success"], False)
        self.assertIn("rate limited", evs[6]["error"])
        self.assertEqual(evs[6]["agent_name"], "planner")


class LazyImportTest(unittest.TestCase):
    def test_sealog_imports_without_llama_index(self):
        import sys

        self.assertFalse(any(n.startswith("llama_index") for n in sys.modules))
        import sealog.llamaindex as li

        self.assertTrue(callable(li.forward_events))
        with self.assertRaises(ImportError):
            li.event_handler(None)


if __name__ == "__main__":
    unittest.main()
