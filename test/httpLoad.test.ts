import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { client, harness } from './helpers/daemon.js';
import { call, roleTokens } from './helpers/http.js';

// 200 API readers at once while the socket ingests as fast as it can: every read is
// answered without error, every event is committed, and the daemon's memory stays
// bounded. (How much the readers slow ingest is measured in benchmarks/http.mjs, not
// asserted here: timings belong in benchmarks.)

const h = harness();
const READERS = 200;
const EVENTS = 40_000;
const RSS_BOUND = 1024 * 1024 * 1024;

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

test(`${READERS} concurrent API readers during full-speed socket ingest: no error response, nothing lost, RSS bounded`, async () => {
  const t = h.fresh();
  const tokens = roleTokens(t);
  const d = await h.start(t, 'checkpoint: { every_records: 1000 }');
  const seed = await call(d.http!, '/api/v1/events', {
    token: tokens.producer,
    body: `${Array.from({ length: 2000 }, (_, i) => JSON.stringify({ correlation_id: `seed-${i % 50}`, n: i })).join('\n')}\n`,
    type: 'application/x-ndjson',
  });
  assert.equal(seed.json.committed, 2000);

  let ingesting = true;
  let maxRss = 0;
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssOf(d.pid))), 50);
  const failures: string[] = [];
  let reads = 0;
  const reader = async (i: number) => {
    const routes = [
      [`/api/v1/records?field=event.correlation_id=seed-${i % 50}&limit=20`, tokens.auditor],
      ['/api/v1/overview', tokens.auditor],
      [`/api/v1/records/${(i * 7) % 1000}`, tokens.auditor],
      ['/metrics', tokens.operator],
      [`/api/v1/records?stream=application&limit=50&reverse=true`, tokens.admin],
    ] as const;
    for (let k = 0; ingesting; k++) {
      const [path, token] = routes[(i + k) % routes.length]!;
      const r = await call(d.http!, path, { token }).catch((err: Error) => ({
        status: 0,
        text: `${err.message}: ${String((err.cause as Error)?.message ?? '')}`,
      }));
      reads++;
      if (r.status !== 200) failures.push(`${path}: ${r.status} ${r.text.slice(0, 200)}`);
      // Each reader polls (a dashboard, an auditor's script): 200 readers, a few hundred requests a second.
      await new Promise((res) => setTimeout(res, 250));
    }
  };
  const readers = Array.from({ length: READERS }, (_, i) => reader(i));

  const c = await client(t.socket);
  const lines = Array.from({ length: EVENTS }, (_, i) =>
    JSON.stringify({ event_type: 'LoadEvent', n: i, correlation_id: `load-${i % 100}`, payload: 'x'.repeat(200) }),
  );
  await c.send(lines);
  await c.waitFor(() => c.committed === EVENTS, 'every socket event committed', 120_000);
  ingesting = false;
  await Promise.all(readers);
  clearInterval(sampler);
  await c.end();

  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} error responses of ${reads}`);
  assert.ok(reads >= READERS, `${reads} reads`);
  assert.ok(maxRss < RSS_BOUND, `peak RSS ${(maxRss / 2 ** 20).toFixed(0)} MiB`);
  const events = (await call(d.http!, '/api/v1/overview', { token: tokens.admin })).json.events;
  assert.equal(events.rejected, 0);
  console.log(`# ${reads} reads by ${READERS} readers during the ingest of ${EVENTS} socket events; peak RSS ${(maxRss / 2 ** 20).toFixed(0)} MiB`);
  assert.equal(await d.stop(), 0);
});
