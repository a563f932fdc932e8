import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { cli, client, harness, readRecords, waitUntil, type Running, type Tmp } from './helpers/daemon.js';
import { jetstreamSink, keysFile, startCollect, tempDb, tempStream } from './helpers/services.js';

// Three hosts (three daemons, three origins) → JetStream → sealog collect → PostgreSQL,
// against the machine's real NATS and PostgreSQL.

const h = harness();
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function send(t: Tmp, from: number, n: number, tag: string): Promise<void> {
  const c = await client(t.socket);
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      event_type: 'AgentRequestEvent',
      correlation_id: `${tag}-${(from + i) % 7}`,
      n: from + i,
      host: tag,
      note: 'tab\there back\\slash\nnew line é 😀 "q"',
    }),
  );
  await c.send(lines);
  await c.waitFor(() => c.committed >= n, `${n} commits on ${tag}`);
  await c.end();
}

test('three daemons send concurrently; every record reaches PostgreSQL exactly once, verified, byte for byte', async () => {
  const db = await tempDb();
  cleanups.push(db.drop);
  const s = tempStream();
  cleanups.push(s.drop);
  const hosts = ['alpha', 'beta', 'gamma'];
  const tmps = hosts.map(() => h.fresh());
  const daemons: Running[] = [];
  for (const [i, t] of tmps.entries())
    daemons.push(
      await h.start(
        t,
        `origin: test/${hosts[i]}\ncheckpoint: { every_records: 50 }\nsegment: { max_bytes: 4096 }\nbatch: { max_records: 16 }\n${jetstreamSink(s)}`,
      ),
    );
  const keys = keysFile(
    tmps[0]!.dir,
    tmps.map((t) => t.pub),
  );
  const collect = await startCollect([
    '--nats',
    'nats://127.0.0.1:4222',
    '--postgres',
    db.url,
    '--keys',
    keys,
    '--stream',
    s.stream,
    '--subject-root',
    s.root,
    '--batch',
    '200',
  ]);
  cleanups.push(async () => collect.proc.exitCode === null && collect.kill());

  await Promise.all(tmps.map((t, i) => send(t, 0, 400, hosts[i]!)));
  for (const d of daemons) assert.equal(await d.stop(), 0);
  const expected = tmps.map((t) => readRecords(t).length);
  const count = async () =>
    (await db.pool.query('SELECT origin, count(*)::int AS n FROM sealog_records GROUP BY origin')).rows as { origin: string; n: number }[];
  let rows: { origin: string; n: number }[] = [];
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    rows = await count();
    if (hosts.every((o, i) => rows.find((r) => r.origin === `test/${o}`)?.n === expected[i])) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const [i, o] of hosts.entries()) assert.equal(rows.find((r) => r.origin === `test/${o}`)?.n, expected[i], `records of ${o}`);

  // The stored line is the segment's line, byte for byte; seqs are 0..n-1 without a gap.
  for (const [i, o] of hosts.entries()) {
    const { rows: stored } = await db.pool.query<{ seq: string; line: string }>('SELECT seq, line FROM sealog_records WHERE origin = $1 ORDER BY seq', [
      `test/${o}`,
    ]);
    const local = readRecords(tmps[i]!);
    assert.deepEqual(
      stored.map((r) => Number(r.seq)),
      local.map((r) => r.seq),
    );
    const { spawnSync } = await import('node:child_process');
    const raw = spawnSync('sh', ['-c', `cat "${tmps[i]!.data}"/segments/*.seg.lz4 | lz4 -dc`], { encoding: 'utf8', maxBuffer: 1 << 30 })
      .stdout.split('\n')
      .filter(Boolean);
    assert.deepEqual(
      stored.map((r) => r.line),
      raw,
    );
  }
  const { readdirSync } = await import('node:fs');
  assert.ok(readdirSync(`${tmps[0]!.data}/segments`).filter((f) => f.endsWith('.seg.lz4')).length > 5, 'the sinks read across many segments');
  const q = await db.pool.query('SELECT count(*)::int AS n FROM sealog_quarantine');
  assert.equal(q.rows[0].n, 0, 'nothing quarantined');
  const cps = await db.pool.query('SELECT origin, max(tree_size)::int AS n FROM sealog_checkpoints GROUP BY origin');
  for (const [i, o] of hosts.entries()) assert.equal(cps.rows.find((r) => r.origin === `test/${o}`)?.n, expected[i], `the final checkpoint of ${o} is stored`);

  for (const [i, o] of hosts.entries()) {
    const v = cli(['verify', '--postgres', db.url, '--origin', `test/${o}`, '--key', tmps[i]!.pub]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  }
  assert.equal(await collect.stop(), 0);
  await waitUntil(() => true, 'noop');
});
