"""The producer thread's CPU per event for sealog.Client.send(), against json.dumps alone.

python3 benchmarks/python-producer.py SOCKET EVENTS.jsonl RATE
Paces the events at RATE per second (the issue's 10k/s), measures time.thread_time()
around each call on the producer thread only (the client's background thread, which
owns the socket, is not counted: that is the point of it), once for json.dumps of the
event and once for Client.send of the same event, then flushes and checks every event
was committed. Prints one JSON line.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python", "src"))
import sealog  # noqa: E402


def paced(events, rate, fn):
    cpu = 0.0
    start = time.monotonic()
    for i, ev in enumerate(events):
        wait = start + i / rate - time.monotonic()
        if wait > 0.001:
            time.sleep(wait)
        t0 = time.thread_time()
        fn(ev)
        cpu += time.thread_time() - t0
    return cpu / len(events) * 1e6


def main():
    socket_path, events_file, rate = sys.argv[1], sys.argv[2], float(sys.argv[3])
    with open(events_file) as f:
        events = [json.loads(line) for line in f if line.strip()]
    dumps_us = paced(events, rate, lambda ev: json.dumps(ev, ensure_ascii=False, separators=(",", ":")))
    client = sealog.Client(socket_path, max_pending=len(events) + 1)
    send_us = paced(events, rate, client.send)
    result = client.close(timeout=120)
    print(json.dumps({"events": len(events), "rate": rate, "dumps_us": round(dumps_us, 2), "send_us": round(send_us, 2), "ratio": round(send_us / dumps_us, 2), "committed": result.committed, "ok": result.ok}))


if __name__ == "__main__":
    main()
