import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AckPolicy, connect } from 'nats';
import { cliAsync, client, harness, readRecords, verify, waitUntil, type Tmp } from './helpers/daemon.js';
import { jetstreamSink, NATS_URL, tcpProxy, tempStream } from './helpers/services.js';

// A sink whose NATS is away: local ingest is unaffected, status shows the sink's error and
// lag and turns degraded past its limit, and once NATS answers the sink catches up by itself.

const h = harness();
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function status(t: Tmp): Promise<Record<string, any>> {
  const r = await cliAsync(['status', '--control', t.socket.replace(/\.sock$/, '.ctl'), '--json']);
  return JSON.parse(r.stdout) as Record<string, any>;
}

async function statusUntil(t: Tmp, pred: (r: Record<string, any>) => boolean, what: string): Promise<Record<string, any>> {
  const end = Date.now() + 60_000;
  for (;;) {
    const r = await status(t);
    if (pred(r)) return r;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(r.sinks)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

test('NATS down: commits go on, status says so (degraded past max_lag_records), the sink catches up when NATS is back', async () => {
  const s = tempStream();
  cleanups.push(s.drop);
  // A port nothing listens on yet; later a proxy to the real NATS takes it.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const t = h.fresh();
  const d = await h.start(t, `origin: s/down\n${jetstreamSink(s, `nats://127.0.0.1:${port}`, '    max_lag_records: 50\n')}`);
  const c = await client(t.socket);
  await c.send(Array.from({ length: 200 }, (_, i) => JSON.stringify({ event_type: 'PlanningEvent', i })));
  await c.waitFor(() => c.committed >= 200, '200 commits with NATS away');
  await c.end();

  const down = await statusUntil(t, (r) => r.sinks?.central?.last_error && r.health.level === 'degraded', 'the sink to report its error');
  assert.equal(down.sinks.central.type, 'jetstream');
  assert.equal(down.sinks.central.cursor, -1);
  assert.ok(down.sinks.central.lag_records >= 200);
  assert.ok(down.health.conditions.some((x: { component: string; reason: string }) => x.component === 'sink:central' && /records behind/.test(x.reason)));

  const proxy = await tcpProxy(4222, port);
  cleanups.push(proxy.close);
  const up = await statusUntil(t, (r) => r.sinks.central.lag_records === 0 && r.health.level === 'ok', 'the sink to catch up');
  assert.equal(up.sinks.central.last_error, null);
  const cursor = JSON.parse(readFileSync(join(t.data, 'sinks/central.cursor'), 'utf8')) as { seq: number };
  assert.equal(cursor.seq, up.log.tree_size - 1, 'the durable cursor is the last seq acknowledged');
  assert.equal(await d.stop(), 0);

  const nc = await connect({ servers: NATS_URL });
  cleanups.push(() => nc.close());
  const jsm = await nc.jetstreamManager();
  const n = readRecords(t).length;
  const consumer = await jsm.consumers.add(s.stream, { durable_name: 'check', ack_policy: AckPolicy.None, filter_subject: `${s.root}.*.records.>` });
  assert.equal(consumer.num_pending, n, 'each record once in the stream (JetStream dropped any resend by Nats-Msg-Id)');
});

test('retention keeps the segments a sink has not acknowledged, and removes them once it has', async () => {
  const s = tempStream();
  cleanups.push(s.drop);
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const t = h.fresh();
  const retention =
    'batch: { max_records: 5, linger_ms: 1 }\nsegment: { max_bytes: 4096, max_age_seconds: 1 }\n' +
    'retention: { enabled: true, schedule: "* * * * * *", streams: { application: 1s, audit: 1h } }\nrequests: { schedule: "* * * * * *" }\n';
  const d = await h.start(t, `origin: s/keep\n${retention}${jetstreamSink(s, `nats://127.0.0.1:${port}`)}`);
  const c = await client(t.socket);
  await c.send(Array.from({ length: 120 }, (_, i) => JSON.stringify({ msg: `event ${i} ${'x'.repeat(60)}` })));
  await c.waitFor(() => c.committed >= 120, '120 commits');
  await c.end();
  await waitUntil(() => /expired segment kept until the sinks have sent it/.test(d.stderr()), 'retention to keep a segment for the sink', 30_000);
  assert.doesNotMatch(d.stderr(), /segment removed by retention/);
  assert.ok(existsSync(join(t.data, 'segments', '0000000001.seg.lz4')));

  const proxy = await tcpProxy(4222, port);
  cleanups.push(proxy.close);
  await waitUntil(() => /segment removed by retention/.test(d.stderr()), 'retention to remove what the sink sent', 60_000);
  assert.equal(await d.stop(), 0);
  const verdict = verify(t);
  assert.equal(verdict.exit, 0, JSON.stringify(verdict.failure));
});
