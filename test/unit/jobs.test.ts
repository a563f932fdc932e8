import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { holdCovers, type Hold } from '../../src/jobs/holds.js';
import { parseDuration } from '../../src/jobs/retention.js';
import { Jobs, type Job } from '../../src/jobs/scheduler.js';
import { Status } from '../../src/status.js';

const silent = pino({ level: 'silent' });

/** A job whose runs end when the test says so. */
function gatedJob(name: string, lock?: string) {
  const gates: (() => void)[] = [];
  let aborted = 0;
  const job: Job = {
    name,
    lock,
    schedule: '0 0 1 1 *', // never during the test: ticks are driven by hand
    run: (signal) =>
      new Promise((resolve) => {
        gates.push(() => resolve('done'));
        signal.addEventListener('abort', () => {
          aborted++;
          resolve('stopped');
        });
      }),
  };
  return { job, open: () => gates.shift()?.(), aborted: () => aborted };
}

test('a tick that finds its own job running or waiting is skipped and counted in status', async () => {
  const status = new Status();
  const jobs = new Jobs(silent, status);
  const a = gatedJob('a');
  jobs.add(a.job);
  const first = jobs.tick(a.job);
  await jobs.tick(a.job); // skipped at once
  const figures = status.report().jobs as Record<string, { runs: number; skipped: number; running: boolean }>;
  assert.deepEqual([figures.a!.running, figures.a!.skipped, figures.a!.runs], [true, 1, 0]);
  a.open();
  await first;
  const after = status.report().jobs as Record<string, { runs: number; running: boolean; last_result: unknown }>;
  assert.deepEqual([after.a!.runs, after.a!.running, after.a!.last_result], [1, false, 'done']);
  await jobs.stop();
});

test('jobs sharing a lock take turns: a tick waits for the other job, so neither starves the other', async () => {
  // The daemon's requests and retention jobs share a lock and may share a schedule: when one
  // skipped the other's ticks, retention could wait indefinitely behind requests.
  const status = new Status();
  const jobs = new Jobs(silent, status);
  const a = gatedJob('a', 'shared');
  const b = gatedJob('b', 'shared');
  jobs.add(a.job);
  jobs.add(b.job);
  const order: string[] = [];
  const ranA = jobs.tick(a.job).then(() => order.push('a'));
  const ranB = jobs.tick(b.job).then(() => order.push('b'));
  await jobs.tick(b.job); // b already waits its turn: this tick is skipped, not stacked
  const waiting = status.report().jobs as Record<string, { running: boolean; skipped: number }>;
  assert.deepEqual([waiting.a!.running, waiting.b!.running, waiting.b!.skipped], [true, false, 0 + 1]);
  a.open();
  await ranA;
  await new Promise((r) => setImmediate(r));
  assert.equal((status.report().jobs as Record<string, { running: boolean }>).b!.running, true, 'b runs once a is done');
  b.open();
  await ranB;
  assert.deepEqual(order, ['a', 'b']);
  const after = status.report().jobs as Record<string, { runs: number }>;
  assert.deepEqual([after.a!.runs, after.b!.runs], [1, 1]);
  await jobs.stop();
});

test('stop also ends a tick still waiting for its lock, without running it', async () => {
  const jobs = new Jobs(silent, new Status());
  const a = gatedJob('a', 'shared');
  const b = gatedJob('b', 'shared');
  jobs.add(a.job);
  jobs.add(b.job);
  void jobs.tick(a.job);
  const waiting = jobs.tick(b.job);
  await jobs.stop();
  await waiting;
  assert.deepEqual([a.aborted(), b.aborted()], [1, 0], 'the waiting job never started');
});

test('stop aborts a running job and waits for it; no tick runs after', async () => {
  const jobs = new Jobs(silent, new Status());
  const a = gatedJob('a');
  jobs.add(a.job);
  let ended = false;
  void jobs.tick(a.job).then(() => (ended = true));
  await jobs.stop();
  assert.equal(ended, true, 'stop resolved only after the run ended');
  assert.equal(a.aborted(), 1);
  await jobs.tick(a.job);
  assert.equal(a.aborted(), 1, 'no new run after stop');
});

test('an invalid cron expression is refused', () => {
  const jobs = new Jobs(silent, new Status());
  assert.throws(() => jobs.add({ name: 'x', schedule: 'every day', run: async () => 0 }), /invalid cron expression/);
});

test('retention periods: s, m, h, d', () => {
  assert.equal(parseDuration('2s'), 2000);
  assert.equal(parseDuration('15m'), 900_000);
  assert.equal(parseDuration('12h'), 43_200_000);
  assert.equal(parseDuration('2555d'), 2555 * 86_400_000);
  for (const bad of ['0d', '1y', '1.5d', 'd', '']) assert.throws(() => parseDuration(bad));
});

test('a hold covers a record only when every criterion it names matches', () => {
  const base = { reason: 'r', requested_at: '2026-01-01T00:00:00Z' };
  const r = { stream: 'audit', ts: '2026-03-01T10:00:00.000000Z', event: { correlation_id: 'c1', tenant_id: 't1' } };
  const covers = (h: Partial<Hold>) => holdCovers({ id: 'h', ...base, ...h }, r);
  assert.ok(covers({ stream: 'audit' }));
  assert.ok(!covers({ stream: 'application' }));
  assert.ok(covers({ from: '2026-03-01T10:00:00Z', to: '2026-03-02T00:00:00Z' }));
  assert.ok(!covers({ to: '2026-03-01T10:00:00Z' }), 'to is exclusive');
  assert.ok(covers({ correlation_id: 'c1', tenant_id: 't1' }));
  assert.ok(!covers({ correlation_id: 'c1', tenant_id: 't2' }));
});

test('a failed run makes its job degraded in status until a run succeeds', async () => {
  const status = new Status();
  const jobs = new Jobs(silent, status);
  let fail = true;
  const job: Job = {
    name: 'flaky',
    schedule: '0 0 1 1 *',
    run: async () => {
      if (fail) throw new Error('disk full');
      return 'ok';
    },
  };
  jobs.add(job);
  await jobs.tick(job);
  assert.deepEqual(
    status.health().conditions.map((c) => [c.component, c.level, c.reason]),
    [['job:flaky', 'degraded', 'last run failed: disk full']],
  );
  fail = false;
  await jobs.tick(job);
  assert.equal(status.health().level, 'ok');
  await jobs.stop();
});

test('config: job schedules must be cron expressions, retention periods durations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealog-jobs-cfg-'));
  try {
    const f = join(dir, 'c.yaml');
    writeFileSync(f, 'retention:\n  enabled: true\n  schedule: "0 30 3 * * *"\n  streams: { application: 2s }\n');
    const ok = loadConfig(f);
    assert.deepEqual(
      [ok.retention.enabled, ok.retention.streams, ok.integrity.enabled, ok.requests.schedule],
      [true, { application: '2s' }, true, '*/10 * * * * *'],
    );
    writeFileSync(f, 'retention:\n  streams: { application: 30 days }\n');
    assert.throws(
      () => loadConfig(f),
      (err: any) => err.code === 'E_CONFIG_INVALID' && /retention\.streams\.application/.test(err.message),
    );
    writeFileSync(f, 'integrity:\n  full_schedule: "every sunday"\n');
    assert.throws(
      () => loadConfig(f),
      (err: any) => err.code === 'E_CONFIG_INVALID' && /integrity\.full_schedule: "every sunday" is not a cron expression/.test(err.message),
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});
