import assert from 'node:assert/strict';
import { test } from 'node:test';
import { client, harness, readRecords, verify, waitUntil } from './helpers/daemon.js';

const { fresh, start } = harness();

test('graceful stop under load: SIGTERM while clients send flat out; every line the daemon read is committed and acked, exit 0', async () => {
  const t = fresh();
  const d = await start(t);
  const clients = await Promise.all(Array.from({ length: 4 }, () => client(t.socket)));
  const closed = clients.map((c) => new Promise((r) => (c.sock.closed ? r(null) : c.sock.once('close', r))));
  // More than the daemon can take before the stop: the clients are still writing when it comes.
  const sending = clients.map((c, ci) => c.send(Array.from({ length: 300_000 }, (_, i) => JSON.stringify({ client: ci, i }))));
  await waitUntil(() => clients.every((c) => c.committed >= 2000), 'every client under way');
  assert.equal(await d.stop(), 0, d.stderr());
  await Promise.all(closed);
  await Promise.all(sending);
  const records = readRecords(t);
  for (const [ci, c] of clients.entries()) {
    const mine = records.filter((r) => r.event.client === ci).map((r) => r.event.i as number);
    assert.ok(c.committed < 300_000, `client ${ci} was cut off mid-stream (${c.committed})`);
    // Line 1 is the handshake: line n holds event n-2. Acked exactly what is in the log, a gap-free prefix.
    assert.equal(c.committed, mine.length, `client ${ci}: acked count = committed count`);
    assert.equal(c.throughLine, mine.length + 1, `client ${ci}: the last ack covers the last line read`);
    assert.deepEqual(
      mine,
      mine.map((_, i) => i),
      `client ${ci}: a gap-free prefix, in order`,
    );
    assert.equal(c.acks.filter((a) => a.ack !== 'commit').length, 0);
  }
  const v = verify(t, ['--strict']);
  assert.equal(v.exit, 0, JSON.stringify(v.failure));
  assert.equal(v.records, records.length);
});
