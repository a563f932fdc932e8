"""The real daemon for the Python client's tests: `node bin/sealog.js start` in a temp dir.

SEALOG_ROOT names the repository (default: three folders up). Records are read
back from the segments with the `lz4` CLI, independent of the client.
"""

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.environ.get("SEALOG_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BIN = os.path.join(ROOT, "bin", "sealog.js")
NODE = os.environ.get("SEALOG_NODE", "node")
SRC = os.path.join(ROOT, "clients", "python", "src")
if SRC not in sys.path:
    sys.path.insert(0, SRC)


def wait_for(cond, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Daemon:
    """One data directory; start() and kill()/stop() as often as a test needs."""

    def __init__(self, extra=None):
        self.dir = tempfile.mkdtemp(prefix="sealog-py-")
        self.data = os.path.join(self.dir, "data")
        self.socket = os.path.join(self.dir, "s.sock")
        self.spool = os.path.join(self.dir, "spool")
        cfg = {"data_dir": self.data, "socket": {"path": self.socket}, "spool": {"dir": self.spool, "stability_ms": 50}, "log": {"level": "info"}}
        for k, v in (extra or {}).items():
            cfg[k] = {**cfg.get(k, {}), **v} if isinstance(v, dict) else v
        self.config = os.path.join(self.dir, "sealog.yaml")
        with open(self.config, "w") as f:
            json.dump(cfg, f)  # JSON is YAML
        self.proc = None
        self.stderr = ""

    def start(self):
        self.stderr = ""
        self.proc = subprocess.Popen([NODE, BIN, "start", "--config", self.config], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ready = threading.Event()

        def pump(p):
            for line in iter(p.stderr.readline, b""):
                self.stderr += line.decode("utf-8", "replace")
                if "sealog ready" in self.stderr:
                    ready.set()

        self._pump = threading.Thread(target=pump, args=(self.proc,), daemon=True)
        self._pump.start()
        deadline = time.monotonic() + 30
        while not ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"daemon did not become ready:\n{self.stderr}")
        return self

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        return self._reap(30)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self._reap(60)

    def _reap(self, timeout):
        code = self.proc.wait(timeout)
        self._pump.join(timeout)
        self.proc.stderr.close()
        return code

    def records(self):
        """Every record in the segments, decoded by the lz4 CLI."""
        segs = sorted(glob.glob(os.path.join(self.data, "segments", "*.seg.lz4")))
        if not segs:
            return []
        raw = b""
        for s in segs:
            with open(s, "rb") as f:
                raw += f.read()
        out = subprocess.run(["lz4", "-dc"], input=raw, stdout=subprocess.PIPE, check=True).stdout
        return [json.loads(l) for l in out.decode().splitlines() if l]

    def events(self, key="n"):
        """The events of stream != rejected that carry `key`, as a list of their values."""
        return [r["event"][key] for r in self.records() if isinstance(r.get("event"), dict) and key in r["event"]]

    def verify(self):
        pub = os.path.join(self.data, "keys", "signing.pub")
        return subprocess.run([NODE, BIN, "verify", "--data", self.data, "--key", pub, "--strict"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
