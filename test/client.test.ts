import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ClientCode, NotCommittedError, SealogClient, type ClientOptions } from '../src/client/index.js';
import { harness, readRecords, ROOT, verify, waitUntil, type Running, type Tmp } from './helpers/daemon.js';

// sealog/client against the real daemon on a real socket; the log is checked
// with the real `sealog verify` and by decoding its records.

const { fresh, start } = harness();

const event = (run: string, k: number) => ({ run, k, type: 'tool_call', agent_id: 'categorizer', msg: `step ${k} of the workflow` });

/** How many times each k of a run is in the log (application records only). */
function countsOf(t: Tmp, run: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const r of readRecords(t)) if (r.stream !== 'rejected' && r.event?.run === run) m.set(r.event.k, (m.get(r.event.k) ?? 0) + 1);
  return m;
}

function assertExactlyOnce(t: Tmp, run: string, ks: number[]): void {
  const m = countsOf(t, run);
  const missing = ks.filter((k) => !m.has(k));
  const doubled = [...m].filter(([, n]) => n > 1).map(([k]) => k);
  assert.deepEqual({ missing: missing.slice(0, 10), doubled: doubled.slice(0, 10) }, { missing: [], doubled: [] });
  assert.equal(m.size, ks.length);
}

async function stopAndVerify(t: Tmp, d: Running): Promise<void> {
  assert.equal(await d.stop(), 0, d.stderr());
  const v = verify(t);
  assert.equal(v.ok, true, JSON.stringify(v.failure));
}

async function rejection(p: Promise<unknown>): Promise<NotCommittedError> {
  const err = await p.then(
    () => assert.fail('expected flush() to reject'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof NotCommittedError, String(err));
  assert.equal(err.code, ClientCode.NOT_COMMITTED);
  return err;
}

const countOf = (err: NotCommittedError, code: string) => err.failures.find((f) => f.code === code)?.count ?? 0;

test('every event sent is in the log exactly once, with an event_id; flush() resolves once all are acknowledged', async () => {
  const t = fresh();
  const d = await start(t);
  const c = await SealogClient.connect({ socket: t.socket });
  const n = 20_000;
  for (let k = 0; k < n; k++) c.send(event('a', k));
  await c.flush();
  assert.deepEqual(c.counts, { written: n, settled: n, unsentBytes: 0 });
  await c.close();
  await stopAndVerify(t, d);
  assertExactlyOnce(
    t,
    'a',
    Array.from({ length: n }, (_, k) => k),
  );
  const ids = readRecords(t)
    .filter((r) => r.event?.run === 'a')
    .map((r) => r.event.event_id as string);
  assert.match(ids[0]!, /^[0-9a-f-]{36}:0$/);
  assert.equal(new Set(ids).size, n);
});

test('flush() resolves only after the commit: a SIGKILL right after it loses nothing', async () => {
  const t = fresh();
  let d = await start(t);
  const c = await SealogClient.connect({ socket: t.socket, lingerMs: 50 });
  for (let k = 0; k < 3000; k++) c.send(event('b', k));
  await c.flush();
  await d.kill();
  d = await start(t); // the restart cuts any torn tail; what was acknowledged must be there
  await c.close();
  await stopAndVerify(t, d);
  assertExactlyOnce(
    t,
    'b',
    Array.from({ length: 3000 }, (_, k) => k),
  );
});

test('lines the daemon rejects make flush() reject with their code, once; the others are committed', async () => {
  const t = fresh();
  const d = await start(t);
  const c = await SealogClient.connect({ socket: t.socket });
  c.send(event('c', 0));
  c.send(42); // not an object: E_NOT_OBJECT
  c.send(event('c', 1));
  c.send(['an', 'array']);
  c.send(event('c', 2));
  const err = await rejection(c.flush());
  assert.deepEqual(
    err.failures.map((f) => [f.code, f.count]),
    [['E_NOT_OBJECT', 2]],
  );
  assert.match(err.message, /2 event\(s\) not committed: 2 E_NOT_OBJECT/);
  // Reported once: the next flush covers only what came after.
  c.send(event('c', 3));
  await c.flush();
  await c.close();
  await stopAndVerify(t, d);
  assertExactlyOnce(t, 'c', [0, 1, 2, 3]);
  assert.equal(readRecords(t).filter((r) => r.stream === 'rejected').length, 2);
});

test('daemon SIGKILLed mid-stream and restarted: the client resends what was not acknowledged, each event lands once', async () => {
  const t = fresh();
  let d = await start(t);
  // reconnectMs well above a restart on a loaded machine: this test is about the resend, not giving up.
  const c = await SealogClient.connect({ socket: t.socket, ringBytes: 64 << 20, reconnectMs: 120_000 });
  const n = 40_000;
  for (let k = 0; k < n / 2; k++) c.send(event('d', k));
  // Killed while the worker is still sending and acks are in flight.
  await d.kill();
  for (let k = n / 2; k < n; k++) c.send(event('d', k));
  d = await start(t);
  await c.flush();
  await c.close();
  await stopAndVerify(t, d);
  assertExactlyOnce(
    t,
    'd',
    Array.from({ length: n }, (_, k) => k),
  );
});

test('daemon gone for good: flush() rejects with E_CONNECTION_LOST for the events never committed', async () => {
  const t = fresh();
  const d = await start(t);
  const c = await SealogClient.connect({ socket: t.socket, reconnectMs: 300 });
  c.send(event('e', 0));
  await c.flush();
  process.kill(d.pid, 'SIGSTOP'); // nothing more is acknowledged
  for (let k = 1; k <= 100; k++) c.send(event('e', k));
  await d.kill();
  const err = await rejection(c.flush());
  assert.deepEqual(
    err.failures.map((f) => [f.code, f.count]),
    [[ClientCode.CONNECTION_LOST, 100]],
  );
  await c.close(); // nothing left to flush: what was lost has been reported
});

test('a daemon that refuses the connection (too many connections) is given up on after reconnectMs, not retried forever', async () => {
  const t = fresh();
  const d = await start(t, 'socket:\n  max_connections: 1\n');
  const first = await SealogClient.connect({ socket: t.socket });
  const second = await SealogClient.connect({ socket: t.socket, reconnectMs: 500 }); // accepted, told E_TOO_MANY_CONNECTIONS, closed
  second.send(event('r', 0));
  const err = await rejection(second.flush());
  assert.deepEqual(
    err.failures.map((f) => [f.code, f.count]),
    [[ClientCode.CONNECTION_LOST, 1]],
  );
  first.send(event('r', 1));
  await first.close();
  await second.close();
  await stopAndVerify(t, d);
  assertExactlyOnce(t, 'r', [1]);
});

test('without event ids, what was in flight at a lost connection is reported, not resent', async () => {
  const t = fresh();
  let d = await start(t);
  const c = await SealogClient.connect({ socket: t.socket, eventIds: false });
  c.send(event('f', 0));
  await c.flush();
  process.kill(d.pid, 'SIGSTOP');
  for (let k = 1; k <= 50; k++) c.send(event('f', k));
  // Written to the socket (the stopped daemon cannot ack them) before the kill.
  await waitUntil(() => c.counts.unsentBytes === 0, 'the worker to send');
  await d.kill();
  d = await start(t);
  const err = await rejection(c.flush());
  assert.equal(countOf(err, ClientCode.CONNECTION_LOST), 50);
  c.send(event('f', 51));
  await c.close();
  await stopAndVerify(t, d);
  const m = countsOf(t, 'f');
  assert.equal(m.get(51), 1);
  assert.ok([...m.values()].every((x) => x === 1));
});

async function withStoppedDaemon(
  opts: Partial<ClientOptions>,
  fill: (c: SealogClient) => number,
): Promise<{ t: Tmp; d: Running; c: SealogClient; sent: number }> {
  const t = fresh();
  const d = await start(t);
  const c = await SealogClient.connect({ socket: t.socket, ringBytes: 4096, ...opts });
  process.kill(d.pid, 'SIGSTOP'); // no acks: the ring fills
  const sent = fill(c);
  process.kill(d.pid, 'SIGCONT');
  return { t, d, c, sent };
}

test("onFull 'error': a full ring throws E_RING_FULL; what was accepted is committed", async () => {
  const { t, d, c, sent } = await withStoppedDaemon({ onFull: 'error' }, (c) => {
    let k = 0;
    assert.throws(
      () => {
        for (; k < 1000; k++) c.send(event('g', k));
      },
      { code: ClientCode.RING_FULL },
    );
    return k;
  });
  assert.ok(sent > 5 && sent < 1000, `${sent}`);
  await c.flush();
  await c.close();
  await stopAndVerify(t, d);
  assertExactlyOnce(
    t,
    'g',
    Array.from({ length: sent }, (_, k) => k),
  );
});

test("onFull 'drop': dropped events are counted and flush() reports them as E_DROPPED", async () => {
  const { t, d, c } = await withStoppedDaemon({ onFull: 'drop' }, (c) => {
    for (let k = 0; k < 1000; k++) c.send(event('h', k));
    return 1000;
  });
  const accepted = c.counts.written;
  assert.ok(accepted > 5 && accepted < 1000, `${accepted}`);
  const err = await rejection(c.flush());
  assert.deepEqual(
    err.failures.map((f) => [f.code, f.count]),
    [[ClientCode.DROPPED, 1000 - accepted]],
  );
  await c.close();
  await stopAndVerify(t, d);
  assertExactlyOnce(
    t,
    'h',
    Array.from({ length: accepted }, (_, k) => k),
  );
});

test("onFull 'block': a ring far smaller than the stream; send() waits for room and nothing is lost", async () => {
  const t = fresh();
  const d = await start(t);
  const c = await SealogClient.connect({ socket: t.socket, ringBytes: 4096, onFull: 'block' });
  const n = 5000; // ~100 bytes each: the ring holds ~40 of them
  for (let k = 0; k < n; k++) c.send(event('i', k));
  await c.flush();
  await c.close();
  await stopAndVerify(t, d);
  assertExactlyOnce(
    t,
    'i',
    Array.from({ length: n }, (_, k) => k),
  );
});

test('an event larger than the ring throws E_EVENT_TOO_LARGE; send() after close() throws E_CLIENT_CLOSED', async () => {
  const t = fresh();
  const d = await start(t);
  const c = await SealogClient.connect({ socket: t.socket, ringBytes: 4096 });
  assert.throws(() => c.send({ blob: 'x'.repeat(5000) }), { code: ClientCode.EVENT_TOO_LARGE });
  await c.close();
  assert.throws(() => c.send(event('j', 0)), { code: ClientCode.CLOSED });
  await assert.rejects(c.flush(), { code: ClientCode.CLOSED });
  await assert.rejects(SealogClient.connect({ socket: `${t.socket}.none` }), { code: ClientCode.CONNECT });
  assert.equal(await d.stop(), 0);
});

/** test/fixtures/client-producer.mjs (it imports sealog/client, the package export) in its own process. */
function producer(...args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(ROOT, 'test/fixtures/client-producer.mjs'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.on('close', (code) => resolve({ code, stderr }));
  });
}

test('a producer process exits after close(), and one that forgets close() still has its events flushed at exit', async () => {
  const t = fresh();
  const d = await start(t);
  const closes = await producer(t.socket, 'k', 'close');
  assert.equal(closes.code, 0, closes.stderr);
  const forgets = await producer(t.socket, 'l', 'forget');
  assert.equal(forgets.code, 0, forgets.stderr);
  await stopAndVerify(t, d);
  assertExactlyOnce(
    t,
    'k',
    Array.from({ length: 500 }, (_, k) => k),
  );
  assertExactlyOnce(
    t,
    'l',
    Array.from({ length: 500 }, (_, k) => k),
  );
});
