import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cliAsync, client, harness, readRecords, type Tmp } from './helpers/daemon.js';
import { tempDb } from './helpers/services.js';

// Two hosts write through their postgres sinks into one database; `query --postgres`
// must find exactly what `query` finds in each host's data directory, filter for filter.

const h = harness();
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

const shapes = readFileSync(join(import.meta.dirname, '../../test/fixtures/event-shapes.jsonl'), 'utf8')
  .trim()
  .split('\n');

function events(host: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < 120; i++) {
    const e = JSON.parse(shapes[i % shapes.length]!) as Record<string, unknown>;
    Object.assign(e, { correlation_id: `c-${i % 5}`, n: i, host, meta: { ok: i % 3 === 0, tags: [i % 2] }, level: ['info', 'warn', 'error', 'debug'][i % 4] });
    if (i % 10 === 0) e.contact = { email: 'ann@example.com' };
    out.push(JSON.stringify(e));
  }
  return out;
}

test('query --postgres returns the same records as query on each host, for every filter combination', async () => {
  const db = await tempDb();
  cleanups.push(db.drop);
  const hosts: { name: string; t: Tmp }[] = [];
  for (const name of ['east', 'west']) {
    const t = h.fresh();
    const d = await h.start(t, `origin: q/${name}\nsinks:\n  - name: db\n    type: postgres\n    url: ${db.url}\n`);
    const c = await client(t.socket);
    await c.send(events(name));
    await c.waitFor(() => c.committed >= 120, '120 commits');
    await c.end();
    assert.equal(await d.stop(), 0);
    hosts.push({ name, t });
  }
  for (const { name, t } of hosts) {
    const n = readRecords(t).length;
    const end = Date.now() + 30_000;
    while ((await db.pool.query('SELECT count(*)::int AS n FROM sealog_records WHERE origin = $1', [`q/${name}`])).rows[0].n !== n) {
      assert.ok(Date.now() < end, `the postgres sink delivered ${name}'s ${n} records`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const local = readRecords(hosts[0]!.t);
  const tsAt = (i: number) => local[i]!.ts as string;
  const combos: string[][] = [
    [],
    ['--stream', 'audit'],
    ['--stream', 'security', '--stream', 'application'],
    ['--type', 'GAMP*'],
    ['--type', '*Event', '--type', 'tool_*'],
    ['--type', 'Agent?equestEvent'],
    ['--type', 'tool_start'],
    ['--level', 'warn'],
    ['--level', 'error', '--stream', 'application'],
    ['--field', 'event.correlation_id=c-1'],
    ['--field', 'event.n=3'],
    ['--field', 'event.n="3"'],
    ['--field', 'event.meta.ok=true'],
    ['--field', 'event.meta.tags.0=1'],
    ['--field', 'event.meta.tags=[1]'],
    ['--field', 'source.kind=socket'],
    ['--field', 'event.missing=1'],
    ['--text', 'ValidationEvent'],
    ['--text', 'c-2', '--stream', 'audit'],
    ['--seq', '10..20'],
    ['--seq', '50..'],
    ['--since', tsAt(30), '--until', tsAt(70)],
    ['--until', tsAt(12)],
    ['--stream', 'audit', '--level', 'info', '--field', 'event.correlation_id=c-0', '--seq', '0..80'],
    ['--type', '*Event', '--text', '"n":1', '--reverse'],
    ['--limit', '7', '--level', 'debug'],
  ];
  let nonTrivial = 0;
  for (const { name, t } of hosts) {
    for (const f of [...combos, ['--pseudonym', 'email:ann@example.com']]) {
      const hmac = f[0] === '--pseudonym' ? ['--hmac-key', join(t.data, 'keys/hmac.key')] : [];
      const [a, b] = await Promise.all([
        cliAsync(['query', '--data', t.data, '--format', 'jsonl', ...f]),
        cliAsync(['query', '--postgres', db.url, '--origin', `q/${name}`, '--format', 'jsonl', ...hmac, ...f]),
      ]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(b.stdout, a.stdout, `query ${f.join(' ')} on ${name}`);
      const found = a.stdout.split('\n').filter(Boolean).length;
      if (found > 0 && found < local.length) nonTrivial++;
    }
  }
  assert.ok(nonTrivial >= 30, `most combinations select some records but not all (${nonTrivial})`);
  // Across origins: both hosts' records, ordered by origin then seq.
  const all = await cliAsync(['query', '--postgres', db.url, '--format', 'jsonl', '--field', 'event.correlation_id=c-3']);
  const each = await Promise.all(hosts.map(({ t }) => cliAsync(['query', '--data', t.data, '--format', 'jsonl', '--field', 'event.correlation_id=c-3'])));
  assert.equal(all.stdout, each.map((r) => r.stdout).join(''));
});
