import { connect, type Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { ClientCode } from '../errors.js';
import { MAIN_WAITING, R, ringViews, SENT, SETTLED, used, W, WORKER_SLEEPING } from './ring.js';
import type { FailureCount, ToMain, ToWorker, WorkerConfig } from './protocol.js';

// The client's worker thread: owns the socket. It sends what the main thread
// put in the ring in large writes, reads the daemon's acks, and releases ring
// space only once the daemon has settled those lines (committed, rejected or
// duplicate), so unacknowledged bytes are still there to resend after a
// reconnect. The main thread hears from it only when it asks (flush, close).

const cfg = workerData as WorkerConfig;
const { ctrl, data, mask, capacity } = ringViews(cfg.sab);
const port = parentPort!;
const HANDSHAKE = '{"$sealog":{"ack":true}}\n';
const RETRY_MS = 100;

/** A run of events that will not be committed, by global event index. */
interface Failure {
  from: number;
  count: number;
  code: string;
  reason: string;
}

let sock: Socket | undefined;
let reconnecting = false;
/** When the daemon last stopped serving us: cleared by an ack, or by having nothing unacknowledged. */
let downSince: number | undefined;
let closing = false;
/** Byte counters: sent on the current connection up to `sent`; released up to `released`. */
let sent = 0;
let released = 0;
/** Events settled so far (global), and the global index of the current connection's line 2 (line 1 is the handshake). */
let settled = 0;
let base = 0;
let pendingAck = '';
let failures: Failure[] = [];
let waiters: { id: number; target: number }[] = [];
let writable = true;
let kick: () => void = () => {};
let urgent = false;

/** The counter just past the `lines`-th line break from counter `pos`, wrap-aware. */
function skipLines(pos: number, lines: number): number {
  let off = pos & mask;
  let moved = 0;
  while (lines > 0) {
    const nl = data.indexOf(10, off);
    if (nl < 0) {
      moved += capacity - off;
      off = 0;
      continue;
    }
    moved += nl + 1 - off;
    off = nl + 1 === capacity ? 0 : nl + 1;
    lines--;
  }
  return (pos + moved) | 0;
}

function countLines(from: number, to: number): number {
  let n = 0;
  const a = from & mask;
  const len = used(to, from);
  const count = (s: number, e: number) => {
    for (let i = data.indexOf(10, s); i >= 0 && i < e; i = data.indexOf(10, i + 1)) n++;
  };
  if (a + len <= capacity) count(a, a + len);
  else {
    count(a, capacity);
    count(0, a + len - capacity);
  }
  return n;
}

/** Lines up to counter `to` are settled: their ring space goes back to the main thread. */
function release(to: number, events: number): void {
  released = to;
  settled += events;
  Atomics.store(ctrl, R, released);
  Atomics.store(ctrl, SETTLED, settled);
  if (Atomics.load(ctrl, MAIN_WAITING) === 1) Atomics.notify(ctrl, R);
  answerFlushes();
}

/** Everything from the last released byte up to `to` will not be committed (or is not known to be). */
function fail(to: number, code: string, reason: string): void {
  const events = countLines(released, to);
  if (events > 0) failures.push({ from: settled, count: events, code, reason });
  release(to, events);
}

function answerFlushes(): void {
  if (waiters.length === 0) return;
  const ready = waiters.filter((w) => w.target <= settled);
  if (ready.length === 0) return;
  waiters = waiters.filter((w) => w.target > settled);
  for (const w of ready) {
    const report: FailureCount[] = [];
    const keep: Failure[] = [];
    for (const f of failures) {
      // A run reaching past the target is reported in part, the rest by a later flush.
      const n = Math.min(f.count, w.target - f.from);
      if (n <= 0) {
        keep.push(f);
        continue;
      }
      const c = report.find((r) => r.code === f.code);
      if (c) c.count += n;
      else report.push({ code: f.code, count: n, reason: f.reason });
      if (n < f.count) keep.push({ ...f, from: f.from + n, count: f.count - n });
    }
    failures = keep;
    post({ type: 'flushed', id: w.id, failures: report });
  }
}

function onAck(line: string): void {
  const a = JSON.parse(line) as { ack?: string; count?: number; line?: number; code?: string; reason?: string; error?: string };
  // Only an acknowledgement is service; an {"error":...} line (too many connections) keeps the reconnect clock running.
  if (a.ack) downSince = undefined;
  if (a.ack === 'commit') release(skipLines(released, a.count!), a.count!);
  else if (a.ack === 'duplicate')
    release(skipLines(released, 1), 1); // its first copy is durable: committed
  else if (a.ack === 'rejected') {
    failures.push({ from: base + a.line! - 2, count: 1, code: a.code!, reason: a.reason! });
    release(skipLines(released, 1), 1);
  }
  // {"error":...} (too many connections) is followed by the daemon's close: handled there.
}

function onData(chunk: string): void {
  pendingAck += chunk;
  let nl;
  while ((nl = pendingAck.indexOf('\n')) >= 0) {
    const line = pendingAck.slice(0, nl);
    pendingAck = pendingAck.slice(nl + 1);
    if (line) onAck(line);
  }
}

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(cfg.socket);
    s.once('error', reject);
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}

function attach(s: Socket): void {
  sock = s;
  writable = true;
  pendingAck = '';
  // Resent lines (eventIds: the daemon's dedupe answers "duplicate" for those it has) start at the first unsettled one.
  sent = released;
  base = settled;
  s.setEncoding('utf8');
  s.on('data', onData);
  s.on('drain', () => {
    writable = true;
    kick();
  });
  s.on('error', () => {}); // 'close' follows
  s.on('close', () => {
    if (sock !== s) return;
    sock = undefined;
    if (closing) return;
    // Without event ids a resend could seal an event twice: what was sent and not acknowledged is reported instead.
    if (!cfg.eventIds)
      fail(sent, ClientCode.CONNECTION_LOST, 'the connection to sealog ended before these events were acknowledged; they may or may not be in the log');
    void reconnect();
  });
  s.write(HANDSHAKE);
  kick();
}

/** Retries for reconnectMs; then what the ring holds is reported as not committed and freed. */
async function reconnect(): Promise<void> {
  if (reconnecting || closing) return;
  reconnecting = true;
  // Measured from the first loss, so a daemon that accepts and then drops (or refuses: too many connections) is given up on too.
  downSince ??= Date.now();
  const until = downSince + cfg.reconnectMs;
  while (!closing) {
    await new Promise((r) => setTimeout(r, RETRY_MS));
    if (Date.now() >= until) {
      fail(Atomics.load(ctrl, W), ClientCode.CONNECTION_LOST, `sealog did not serve a connection for ${cfg.reconnectMs} ms; these events were not committed`);
      sent = released;
      downSince = undefined;
      break;
    }
    try {
      attach(await open());
      break;
    } catch {
      // not there yet: try again
    }
  }
  reconnecting = false;
}

/** Writes ring bytes [sent, to) as at most two views of the ring (no copy: they stay put until released). */
function writeRange(to: number): void {
  const a = sent & mask;
  const len = used(to, sent);
  if (a + len <= capacity) writable = sock!.write(data.subarray(a, a + len));
  else {
    sock!.cork();
    sock!.write(data.subarray(a, capacity));
    writable = sock!.write(data.subarray(0, a + len - capacity));
    sock!.uncork();
  }
  sent = to;
  Atomics.store(ctrl, SENT, sent);
}

function kicked(): Promise<void> {
  return new Promise((r) => (kick = r));
}

async function pump(): Promise<void> {
  while (!closing) {
    const w = Atomics.load(ctrl, W);
    if (sock && writable && w !== sent) {
      // Let the producer's events gather into one large write (unless a flush waits).
      if (cfg.lingerMs > 0 && !urgent) await Promise.race([new Promise((r) => setTimeout(r, cfg.lingerMs)), kicked()]);
      urgent = false;
      if (sock && writable) writeRange(Atomics.load(ctrl, W));
      continue;
    }
    if (!sock && !reconnecting && w !== released) void reconnect();
    if (sock && w === released) downSince = undefined;
    // Asleep until the main thread writes (it notifies only while WORKER_SLEEPING is 1), or a socket event or message kicks.
    const woken = kicked();
    Atomics.store(ctrl, WORKER_SLEEPING, 1);
    const r = Atomics.waitAsync(ctrl, W, w);
    if (r.async) await Promise.race([r.value, woken]);
    Atomics.store(ctrl, WORKER_SLEEPING, 0);
  }
}

function post(m: ToMain): void {
  port.postMessage(m);
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'flush') {
    waiters.push({ id: m.id, target: m.target });
    urgent = true;
    kick();
    answerFlushes();
  } else if (m.type === 'close') {
    closing = true;
    kick();
    const s = sock;
    if (!s) return post({ type: 'closed' });
    // The daemon ends its side once every line is acknowledged.
    s.once('close', () => post({ type: 'closed' }));
    s.end();
  }
});

try {
  attach(await open());
  post({ type: 'ready' });
  void pump();
} catch (err) {
  post({ type: 'error', code: ClientCode.CONNECT, message: `cannot connect to sealog at ${cfg.socket}: ${(err as Error).message}` });
}
