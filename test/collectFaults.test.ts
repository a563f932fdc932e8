import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cli, client, harness, readRecords, type Running, type Tmp } from './helpers/daemon.js';
import { jetstreamSink, keysFile, prng, startCollect, tcpProxy, tempDb, tempStream } from './helpers/services.js';

// Faults at seeded random moments while two hosts send: SIGKILL of a daemon, SIGKILL of
// `sealog collect`, and every NATS connection cut (a proxy between both of them and NATS).
// Afterwards every committed record is in PostgreSQL exactly once, nothing is quarantined,
// and each origin verifies. SEALOG_FAULT_SEED replays a schedule.

const h = harness();
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

const SEED = Number(process.env.SEALOG_FAULT_SEED ?? Date.now() % 1_000_000);

/** Sends n events; settles when they are committed or the daemon went away (SIGKILL). */
async function sendRound(t: Tmp, round: number, n: number): Promise<void> {
  let c;
  try {
    c = await client(t.socket);
  } catch {
    return; // the daemon is down right now
  }
  await c.send(Array.from({ length: n }, (_, i) => JSON.stringify({ event_type: 'ToolEvent', round, i })));
  await c.waitFor(() => c.committed >= n || c.sock.destroyed, 'commits or the end of the connection', 60_000);
  if (!c.sock.destroyed) await c.end();
}

test(`faults at random moments (seed ${SEED}): still exactly once, nothing lost, nothing quarantined`, async () => {
  const rand = prng(SEED);
  const db = await tempDb();
  cleanups.push(db.drop);
  const s = tempStream();
  cleanups.push(s.drop);
  const proxy = await tcpProxy(4222);
  cleanups.push(proxy.close);
  const hosts = ['one', 'two'].map((name) => ({ name, t: h.fresh() }));
  const yaml = (name: string) =>
    `origin: f/${name}\ncheckpoint: { every_records: 64, every_seconds: 1 }\n${jetstreamSink(s, proxy.url, '    batch_records: 100\n    max_in_flight: 64\n')}`;
  const daemons = new Map<string, Running>();
  for (const { name, t } of hosts) daemons.set(name, await h.start(t, yaml(name)));
  const keys = keysFile(
    hosts[0]!.t.dir,
    hosts.map((x) => x.t.pub),
  );
  const collectArgs = [
    '--nats',
    proxy.url,
    '--postgres',
    db.url,
    '--keys',
    keys,
    '--stream',
    s.stream,
    '--subject-root',
    s.root,
    '--batch',
    '150',
    '--ack-wait',
    '2s',
  ];
  let collect = await startCollect(collectArgs);
  cleanups.push(async () => collect.proc.exitCode === null && collect.kill());

  const faults: string[] = [];
  for (let round = 0; round < 6; round++) {
    const sending = hosts.map(({ t }) => sendRound(t, round, 150 + Math.floor(rand() * 150)));
    await sleep(Math.floor(rand() * 250));
    const kind = ['daemon', 'collect', 'cut'][Math.floor(rand() * 3)]!;
    faults.push(kind);
    if (kind === 'daemon') {
      const host = hosts[Math.floor(rand() * hosts.length)]!;
      await daemons.get(host.name)!.kill();
      await Promise.all(sending);
      daemons.set(host.name, await h.start(host.t, yaml(host.name)));
    } else if (kind === 'collect') {
      await collect.kill();
      await Promise.all(sending);
      collect = await startCollect(collectArgs);
    } else {
      proxy.cut();
      await Promise.all(sending);
    }
  }

  const lines = (t: Tmp) =>
    spawnSync('sh', ['-c', `cat "${t.data}"/segments/*.seg.lz4 | lz4 -dc`], { encoding: 'utf8', maxBuffer: 1 << 30 })
      .stdout.split('\n')
      .filter(Boolean);
  for (const { name, t } of hosts) {
    const n = readRecords(t).length;
    const end = Date.now() + 60_000;
    for (;;) {
      const got = (await db.pool.query('SELECT count(*)::int AS n FROM sealog_records WHERE origin = $1', [`f/${name}`])).rows[0].n as number;
      if (got === n) break;
      assert.ok(
        Date.now() < end,
        `seed ${SEED}, faults ${faults.join(',')}: ${name} has ${got} of ${n} records in PostgreSQL\ncollect: ${collect.stderr().slice(-3000)}\ndaemon: ${[
          ...daemons.values(),
        ]
          .map((d) =>
            d
              .stderr()
              .split('\n')
              .filter((l) => /sink/.test(l))
              .slice(-10)
              .join('\n'),
          )
          .join('\n')}`,
      );
      await sleep(100);
    }
  }
  // The sinks caught up by themselves while the daemons ran; a clean stop sends the final checkpoints.
  for (const d of daemons.values()) assert.equal(await d.stop(), 0);
  for (const { name, t } of hosts) {
    const stored = (await db.pool.query<{ line: string }>('SELECT line FROM sealog_records WHERE origin = $1 ORDER BY seq', [`f/${name}`])).rows.map(
      (r) => r.line,
    );
    assert.deepEqual(stored, lines(t), `${name}: every line once, byte for byte`);
    const v = cli(['verify', '--postgres', db.url, '--origin', `f/${name}`, '--key', t.pub]);
    assert.equal(v.code, 0, v.stdout);
  }
  const q = await db.pool.query('SELECT reason FROM sealog_quarantine');
  assert.deepEqual(q.rows, [], `seed ${SEED}: nothing quarantined`);
  assert.equal(await collect.stop(), 0);
});
