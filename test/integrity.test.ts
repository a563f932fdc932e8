import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { integritySweep } from '../src/jobs/integrity.js';
import { OwnType } from '../src/ownRecords.js';
import { layout } from '../src/store/layout.js';
import { Status } from '../src/status.js';
import type { JsonObject } from '../src/types.js';
import { client, harness, readRecords, verify, waitUntil, type Tmp } from './helpers/daemon.js';

// The integrity sweep on the real daemon: it re-verifies closed segments on a cron
// schedule (every second here), seals each result, and a byte flipped in an old
// segment makes it report the exact finding.

const h = harness();
const CONFIG =
  'log: { level: debug }\nspool: { enabled: false }\nbatch: { max_records: 5, linger_ms: 1 }\nsegment: { max_bytes: 4096, max_age_seconds: 1 }\n' +
  'integrity: { schedule: "* * * * * *", full_schedule: "*/2 * * * * *", sample_segments: 1 }\n';

async function send(t: Tmp, count: number): Promise<void> {
  const c = await client(t.socket);
  await c.send(Array.from({ length: count }, (_, i) => JSON.stringify({ msg: `event ${i} ${'y'.repeat(80)}` })));
  await c.waitFor(() => c.committed >= count, `${count} commits`);
  await c.end();
}

/** Flips one byte in the middle of a closed segment, as a bad disk would. */
function flip(t: Tmp, segment: string): void {
  const path = join(t.data, 'segments', segment);
  const buf = readFileSync(path);
  buf[buf.length >> 1] ^= 0xff;
  writeFileSync(path, buf);
}

const sweeps = (t: Tmp) => readRecords(t).filter((r) => r.type === OwnType.INTEGRITY_SWEEP);
/** The sweep records of a log whose segment 1 no longer decodes: every other segment, by the lz4 CLI. */
const sweepsAfterDamage = (t: Tmp) =>
  readdirSync(join(t.data, 'segments'))
    .filter((f) => f.endsWith('.seg.lz4') && f !== '0000000001.seg.lz4')
    .flatMap((f) =>
      spawnSync('lz4', ['-dc', join(t.data, 'segments', f)], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean),
    )
    .map((l) => JSON.parse(l) as Record<string, any>)
    .filter((r) => r.type === OwnType.INTEGRITY_SWEEP);

let damaged: Tmp;

test('sweeps are sealed; a byte flipped in an old segment is found, logged as an error and sealed', async () => {
  const t = h.fresh();
  const d = await h.start(t, CONFIG);
  await send(t, 100);
  // Debug logs say when a job run is done: wait for a full and an incremental sweep over closed segments.
  const ran = (job: string) =>
    d
      .stderr()
      .split('\n')
      .some((l) => l.includes(`"job":"${job}"`) && l.includes('"mode"') && l.includes('job done'));
  await waitUntil(() => ran('integrity-full') && ran('integrity'), 'a full and an incremental sweep', 30_000);
  assert.equal(await d.stop(), 0);
  const clean = sweeps(t);
  assert.ok(clean.length >= 1, 'sweep records sealed');
  assert.ok(
    clean.every((r) => r.event.ok === true && r.level === 'info'),
    JSON.stringify(clean.map((r) => r.event)),
  );
  assert.ok(clean.some((r) => r.event.mode === 'full'));

  flip(t, '0000000001.seg.lz4');
  const d2 = await h.start(t, CONFIG);
  await waitUntil(() => d2.stderr().includes('integrity sweep found damage'), 'the sweep to find the flipped byte', 30_000);
  const line = d2
    .stderr()
    .split('\n')
    .find((l) => l.includes('integrity sweep found damage'))!;
  const logged = JSON.parse(line) as { level: number; finding: { code: string; segment: string }; msg: string };
  assert.equal(logged.level, 50, 'logged as an error');
  assert.equal(logged.finding.segment, '0000000001.seg.lz4');
  // Still serving: new input is accepted while it reports the damage.
  await send(t, 3);
  assert.equal(await d2.stop(), 0);

  const failed = sweepsAfterDamage(t).filter((r) => r.event.ok === false);
  assert.ok(failed.length >= 1);
  assert.equal(failed[0]!.level, 'error');
  assert.equal(failed[0]!.event.failure.code, logged.finding.code);
  assert.equal(failed[0]!.event.failure.segment, '0000000001.seg.lz4');
  // The same finding as sealog verify (the same verifier).
  const v = verify(t);
  assert.equal(v.exit, 1);
  assert.equal(v.failure!.code, logged.finding.code);
  assert.equal(v.failure!.segment, '0000000001.seg.lz4');
  damaged = t;
});

test('the sweep job sets integrity unhealthy with the exact finding, and a passing full sweep clears it', async () => {
  assert.ok(damaged, 'needs the damaged log of the test before');
  const status = new Status();
  const sealed: { type: string; event: JsonObject; level?: string }[] = [];
  const sweep = integritySweep({
    layout: layout(damaged.data),
    ring: async () => ({ keys: [readFileSync(damaged.pub, 'utf8').trim()], retirements: [] }),
    origin: readFileSync(join(damaged.data, 'checkpoints', readdirSync(join(damaged.data, 'checkpoints'))[0]!), 'utf8').split('\n')[0]!,
    frameCap: 64 << 20,
    sampleSegments: 1,
    openSegment: () => undefined,
    seal: async (type, event, level) => (sealed.push({ type, event, level }), sealed.length),
    status,
    log: pino({ level: 'silent' }),
  });
  const r = await sweep('full', new AbortController().signal);
  assert.ok('ok' in r && !r.ok);
  const health = status.health();
  assert.equal(health.level, 'unhealthy');
  assert.equal(health.conditions[0]!.component, 'integrity');
  assert.match(health.conditions[0]!.reason, /^V_[A-Z_]+: .*segment 0000000001\.seg\.lz4/);
  assert.equal(sealed.length, 1);
  assert.equal(sealed[0]!.level, 'error');
  assert.equal((status.report().integrity as { ok: boolean }).ok, false);

  flip(damaged, '0000000001.seg.lz4'); // flipped back
  const again = await sweep('full', new AbortController().signal);
  assert.ok('ok' in again && again.ok, JSON.stringify(again));
  assert.equal(status.health().level, 'ok');
});
