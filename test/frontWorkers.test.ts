import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { client, harness, readRecords, verify } from './helpers/daemon.js';

const { fresh, start } = harness();

/** The daemon's 'front worker threads ready' log line. */
const workersLogged = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.includes('front worker threads ready'))
    .map((l) => (JSON.parse(l) as { workers: number }).workers);

test('front.workers: 3: many connections sending interleaved numbered events keep their order, each committed exactly once, and the log verifies', async () => {
  const t = fresh();
  const d = await start(t, 'front:\n  workers: 3\n');
  assert.deepEqual(workersLogged(d.stderr()), [3]);
  const connections = 12;
  const perConnection = 3000;
  const clients = await Promise.all(Array.from({ length: connections }, () => client(t.socket)));
  // Slices of different sizes from every connection in turn: some small enough to run inline,
  // most filling chunks that go to different workers, all arriving interleaved.
  const sent = clients.map(() => 0);
  for (let round = 0; sent.some((n) => n < perConnection); round++) {
    await Promise.all(
      clients.map((c, ci) => {
        const size = Math.min(perConnection - sent[ci]!, [1, 7, 40, 300, 900][(round + ci) % 5]!);
        const lines = Array.from({ length: size }, (_, k) => JSON.stringify({ c: ci, i: sent[ci]! + k, pad: 'x'.repeat((ci * 37 + k) % 200) }));
        sent[ci]! += size;
        return c.send(lines);
      }),
    );
  }
  // Line 1 is the handshake: events are lines 2 .. perConnection + 1.
  await Promise.all(clients.map((c) => c.waitFor(() => c.throughLine === perConnection + 1, 'every event acknowledged', 120_000)));
  for (const c of clients) assert.equal(c.committed, perConnection);
  await Promise.all(clients.map((c) => c.end()));
  assert.equal(await d.stop(), 0);

  const records = readRecords(t).filter((r) => r.source?.kind === 'socket');
  assert.equal(records.length, connections * perConnection, 'every event committed, once');
  const byConnection = new Map<number, { i: number; line: number; seq: number }[]>();
  for (const r of records) {
    const list = byConnection.get(r.event.c) ?? [];
    list.push({ i: r.event.i, line: r.source.line, seq: r.seq });
    byConnection.set(r.event.c, list);
  }
  assert.equal(byConnection.size, connections);
  for (const [c, list] of byConnection) {
    // In seq order (the log's order), each connection's events are 0, 1, 2, ... with their line numbers.
    list.forEach((e, k) => {
      assert.equal(e.i, k, `connection ${c}: event ${e.i} at position ${k}`);
      assert.equal(e.line, k + 2, `connection ${c}: line ${e.line} at position ${k}`);
    });
  }
  // Interleaved: the connections' records are mixed in the log, not one connection after the other.
  const switches = records.slice(1).filter((r, k) => r.event.c !== records[k]!.event.c).length;
  assert.ok(switches > connections * 4, `connections interleaved in the log (${switches} switches)`);
  const v = verify(t, ['--strict']);
  assert.equal(v.exit, 0, JSON.stringify(v.failure));
  assert.equal(v.ok, true);
});

test('front.workers: auto starts one worker per core less one, at least one', async () => {
  const t = fresh();
  const d = await start(t);
  assert.deepEqual(workersLogged(d.stderr()), [Math.max(1, availableParallelism() - 1)]);
  const c = await client(t.socket);
  await c.send(['{"n":1}', '{"n":2}']);
  await c.waitFor(() => c.committed === 2, 'both acknowledged');
  await c.end();
  assert.equal(await d.stop(), 0);
  assert.equal(verify(t, ['--strict']).ok, true);
});
