import os
import threading
import time
import unittest

from harness import Daemon, wait_for

import sealog


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.d = Daemon().start()
        self.addCleanup(self.d.cleanup)

    def test_acks_commit_every_event(self):
        with sealog.Client(self.d.socket) as c:
            for i in range(500):
                c.send({"event_type": "PlanningEvent", "n": i})
            r = c.flush(timeout=20)
        self.assertTrue(r.ok, r)
        self.assertEqual(r.committed, 500)
        self.assertEqual(self.d.events(), list(range(500)))
        # every event carries the event_id the client gave it, and ids are distinct
        ids = [x["event"]["event_id"] for x in self.d.records() if "n" in x["event"]]
        self.assertEqual(len(set(ids)), 500)

    def test_an_event_id_given_by_the_caller_is_kept(self):
        with sealog.Client(self.d.socket) as c:
            c.send({"event_id": "run-42/step-7", "n": 1})
            self.assertTrue(c.flush(timeout=20).ok)
        self.assertEqual([r["event"]["event_id"] for r in self.d.records() if "n" in r["event"]], ["run-42/step-7"])

    def test_rejections_come_back_with_their_code(self):
        # The daemon's schema check: a non-object can't be sent through send() (TypeError), so
        # a rejected event here is one the daemon refuses as too long.
        d = Daemon({"socket": {"max_line_bytes": 1024}}).start()
        self.addCleanup(d.cleanup)
        with sealog.Client(d.socket) as c:
            c.send({"n": 1})
            c.send({"n": 2, "blob": "x" * 4000})
            c.send({"n": 3})
            r = c.flush(timeout=20)
        self.assertEqual(r.committed, 2)
        self.assertEqual([x.code for x in r.rejected], ["E_LINE_TOO_LONG"])
        self.assertTrue(r.rejected[0].event_id)
        self.assertFalse(r.ok)
        self.assertEqual(d.events(), [1, 3])
        with self.assertRaises(TypeError):
            sealog.Client(d.socket).send(["not", "an", "object"])

    def test_each_flush_reports_only_what_is_new(self):
        with sealog.Client(self.d.socket) as c:
            c.send({"n": 1})
            self.assertEqual(c.flush(timeout=20).committed, 1)
            self.assertEqual(c.flush(timeout=20).committed, 0)

    def test_resend_after_sigkill_is_exactly_once(self):
        c = sealog.Client(self.d.socket, reconnect_timeout=60)
        self.addCleanup(c.close, 5)
        for i in range(2000):
            c.send({"n": i})
        # kill while events are in flight, then start again on the same data
        wait_for(lambda: c.pending < 2000, what="some events acknowledged")
        self.d.kill()
        for i in range(2000, 3000):
            c.send({"n": i})
        self.d.start()
        r = c.flush(timeout=60)
        self.assertTrue(r.ok, r)
        self.assertEqual(r.committed, 3000)
        self.assertEqual(sorted(self.d.events()), list(range(3000)))  # none lost, none twice
        self.d.stop()
        self.assertEqual(self.d.verify().returncode, 0, self.d.verify().stdout)

    def test_spool_fallback_while_the_daemon_is_down(self):
        self.d.stop()
        c = sealog.Client(self.d.socket, spool_dir=self.d.spool, spool_after=0.2)
        self.addCleanup(c.close, 5)
        for i in range(100):
            c.send({"n": i})
        r = c.flush(timeout=20)
        self.assertTrue(r.ok, r)
        self.assertEqual(r.spooled, 100)
        files = [f for f in os.listdir(self.d.spool) if f.endswith(".jsonl")]
        self.assertEqual(len(files), 1)
        self.assertFalse([f for f in os.listdir(self.d.spool) if f.endswith(".tmp")])
        # the daemon comes back: it ingests the spooled file, and new events go by the socket again
        self.d.start()
        c.send({"n": 100})
        self.assertEqual(c.flush(timeout=20).committed, 1)
        wait_for(lambda: sorted(self.d.events()) == list(range(101)), what="spooled events sealed")

    def test_without_spool_an_unreachable_daemon_is_reported_not_hidden(self):
        self.d.stop()
        c = sealog.Client(self.d.socket, reconnect_timeout=0.3)
        self.addCleanup(c.close, 5)
        c.send({"n": 1})
        r = c.flush(timeout=10)
        self.assertEqual([x.code for x in r.rejected], [sealog.E_CONNECTION_LOST])

    def test_on_full_raise_and_drop(self):
        self.d.stop()  # nothing is acknowledged, so the queue fills
        c = sealog.Client(self.d.socket, max_pending=3, on_full="raise", reconnect_timeout=60)
        self.addCleanup(c.close, 0.5)
        for i in range(3):
            c.send({"n": i})
        with self.assertRaises(sealog.SealogError) as e:
            c.send({"n": 3})
        self.assertEqual(e.exception.code, sealog.E_QUEUE_FULL)
        drop = sealog.Client(self.d.socket, max_pending=3, on_full="drop", reconnect_timeout=60)
        self.addCleanup(drop.close, 0.5)
        for i in range(5):
            drop.send({"n": i})
        r = drop.flush(timeout=0.2)
        self.assertEqual(r.dropped, 2)
        self.assertEqual(r.unacknowledged, 3)

    def test_on_full_block_waits_for_room(self):
        c = sealog.Client(self.d.socket, max_pending=4, on_full="block")
        self.addCleanup(c.close, 5)
        for i in range(200):  # far more than max_pending: each send waits for acks
            c.send({"n": i})
            self.assertLessEqual(c.pending, 4)
        self.assertTrue(c.flush(timeout=20).ok)
        self.assertEqual(self.d.events(), list(range(200)))

    def test_eight_threads_at_once(self):
        c = sealog.Client(self.d.socket)
        self.addCleanup(c.close, 5)

        def produce(t):
            for i in range(500):
                c.send({"n": t * 1000 + i, "thread": t})

        threads = [threading.Thread(target=produce, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        r = c.flush(timeout=30)
        self.assertTrue(r.ok, r)
        self.assertEqual(r.committed, 4000)
        got = self.d.events()
        self.assertEqual(sorted(got), sorted(t * 1000 + i for t in range(8) for i in range(500)))
        for t in range(8):  # each thread's events in the order it sent them
            mine = [n for n in got if n // 1000 == t]
            self.assertEqual(mine, sorted(mine))


if __name__ == "__main__":
    unittest.main()
