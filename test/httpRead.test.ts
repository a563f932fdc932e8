import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, cliAsync, harness, ROOT } from './helpers/daemon.js';
import { call, roleTokens } from './helpers/http.js';

// The read side of the API against the real daemon and the real CLI: what the API
// says is what `sealog query`, `check-proof` and `tiles` say about the same data.

const h = harness();
const SHAPES = readFileSync(join(ROOT, 'test/fixtures/event-shapes.jsonl'), 'utf8').split('\n').filter(Boolean);
const STREAM_TYPES = ['AgentRequestEvent', 'ValidationEvent', 'omninode.logging.audit.v1', 'SecurityAlert', 'tool_start'];

function events(n: number): string {
  const out: string[] = [...SHAPES];
  for (let i = 0; i < n; i++) {
    out.push(
      JSON.stringify({
        event_type: STREAM_TYPES[i % 5],
        correlation_id: `corr-${i % 13}`,
        tenant_id: `t${i % 3}`,
        level: ['debug', 'info', 'warn', 'error'][i % 4],
        message: i % 17 === 0 ? `needle ${i}` : `hay ${i}`,
        n: i,
        user: { email: i % 50 === 0 ? 'ann@example.com' : `u${i}@example.com` },
      }),
    );
  }
  return `${out.join('\n')}\n`;
}

async function setup() {
  const t = h.fresh();
  const tokens = roleTokens(t);
  // No access-log record may land between the API's answer and the CLI's (both read the live log).
  const d = await h.start(t, 'checkpoint: { every_records: 50 }\nhttp: { access_log_flush_ms: 600000 }');
  const r = await call(d.http!, '/api/v1/events', { token: tokens.producer, body: events(1500), type: 'application/x-ndjson' });
  assert.equal(r.status, 200, r.text);
  return { t, d, tokens };
}

/** [API query string, the same filter as sealog query flags] */
const COMBOS: [string, string[]][] = [
  ['', []],
  ['stream=audit', ['--stream', 'audit']],
  ['stream=security&stream=application', ['--stream', 'security', '--stream', 'application']],
  ['type=ValidationEvent', ['--type', 'ValidationEvent']],
  ['type=*Event', ['--type', '*Event']],
  ['type=tool_*&type=Security*', ['--type', 'tool_*', '--type', 'Security*']],
  ['level=warn', ['--level', 'warn']],
  ['level=error&stream=audit', ['--level', 'error', '--stream', 'audit']],
  ['field=event.correlation_id=corr-7', ['--field', 'event.correlation_id=corr-7']],
  ['field=event.tenant_id=t1&field=event.correlation_id=corr-2', ['--field', 'event.tenant_id=t1', '--field', 'event.correlation_id=corr-2']],
  ['field=event.n=42', ['--field', 'event.n=42']],
  ['text=needle', ['--text', 'needle']],
  ['text=needle&level=info', ['--text', 'needle', '--level', 'info']],
  ['seq_from=100&seq_to=180', ['--seq', '100..180']],
  ['seq_from=1400', ['--seq', '1400..']],
  ['seq_to=20&type=*', ['--seq', '..20', '--type', '*']],
  ['since=1h', ['--since', '1h']],
  ['until=2000-01-01', ['--until', '2000-01-01']],
  [
    'since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z&stream=audit',
    ['--since', '2000-01-01T00:00:00Z', '--until', '2999-01-01T00:00:00Z', '--stream', 'audit'],
  ],
  ['pseudonym=email:ann@example.com', ['--pseudonym', 'email:ann@example.com']],
  ['pseudonym=email:ann@example.com&level=debug', ['--pseudonym', 'email:ann@example.com', '--level', 'debug']],
  ['reverse=true&stream=security', ['--reverse', '--stream', 'security']],
  ['limit=7&level=error', ['--limit', '7', '--level', 'error']],
  ['stream=nothing-here', ['--stream', 'nothing-here']],
];

test('search equals sealog query: the same stored lines for 24 filter combinations, streamed as NDJSON and paged as JSON', async () => {
  const { t, d, tokens } = await setup();
  let nonEmpty = 0;
  for (const [qs, flags] of COMBOS) {
    const want = (await cliAsync(['query', '--data', t.data, '--format', 'jsonl', ...flags])).stdout;
    const streamed = await call(d.http!, `/api/v1/records?${qs}`, { token: tokens.auditor, headers: { accept: 'application/x-ndjson' } });
    assert.equal(streamed.status, 200, `${qs}: ${streamed.text.slice(0, 300)}`);
    assert.equal(streamed.headers.get('content-type')?.split(';')[0], 'application/x-ndjson');
    assert.equal(streamed.text, want, `NDJSON for ${qs || '(no filter)'}`);
    if (want) nonEmpty++;

    // JSON pages of 97 following next_cursor: the same records, in the same order.
    if (qs.includes('limit=')) continue;
    const paged: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof call>> = await call(d.http!, `/api/v1/records?${qs}${qs ? '&' : ''}limit=97${cursor ? `&cursor=${cursor}` : ''}`, {
        token: tokens.auditor,
      });
      assert.equal(page.status, 200, page.text.slice(0, 300));
      for (const r of page.json.records) paged.push(JSON.stringify(r));
      cursor = page.json.next_cursor;
      pages++;
    } while (cursor && pages < 100);
    const wantLines = want.split('\n').filter(Boolean);
    assert.deepEqual(
      paged,
      wantLines.map((l) => JSON.stringify(JSON.parse(l))),
      `JSON pages for ${qs || '(no filter)'}`,
    );
  }
  assert.ok(nonEmpty >= 20, `${nonEmpty} of the combinations found records`);
  assert.equal(await d.stop(), 0);
});

test('a record with its proof passes sealog check-proof; the tiles are the bytes sealog tiles writes, full ones immutable', async () => {
  const { t, d, tokens } = await setup();
  // The commit answers the POST; the checkpoint covering it is written just after.
  let one = await call(d.http!, '/api/v1/records/1234', { token: tokens.auditor });
  for (let i = 0; i < 200 && one.json.proof === null; i++) {
    await new Promise((r) => setTimeout(r, 25));
    one = await call(d.http!, '/api/v1/records/1234', { token: tokens.auditor });
  }
  assert.equal(one.status, 200, one.text);
  assert.equal(one.json.record.seq, 1234);
  assert.equal(JSON.stringify(one.json.record), JSON.stringify(JSON.parse(one.json.line)));
  const bundleFile = join(t.dir, 'bundle.json');
  writeFileSync(bundleFile, JSON.stringify(one.json.proof));
  const checked = cli(['check-proof', bundleFile, '--key', t.pub]);
  assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  assert.equal((await call(d.http!, '/api/v1/records/99999', { token: tokens.auditor })).json.error.code, 'E_HTTP_NOT_FOUND');

  const out = join(t.dir, 'tiles');
  const cp = await call(d.http!, '/api/v1/checkpoint', { token: tokens.auditor });
  assert.equal(cli(['tiles', '--out', out, '--data', t.data]).code, 0);
  assert.equal(cp.text, readFileSync(join(out, 'checkpoint'), 'utf8'));
  const size = Number(cp.text.split('\n')[1]);
  // The level-0 tile of the newest leaf: partial (width 1..255) unless the size is a multiple of 256.
  const [last, width] = [Math.floor((size - 1) / 256), ((size - 1) % 256) + 1];
  for (const path of [
    'tile/0/000',
    'tile/0/001',
    'tile/entries/000',
    `tile/0/${String(last).padStart(3, '0')}${width === 256 ? '' : `.p/${width}`}`,
    'tile/1/000.p/' + Math.floor(size / 256),
  ]) {
    const res = await fetch(`${d.http}/api/v1/${path}`, { headers: { authorization: `Bearer ${tokens.auditor}` } });
    assert.equal(res.status, 200, path);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), readFileSync(join(out, path)), path);
    assert.equal(res.headers.get('cache-control'), path.includes('.p/') ? 'public, max-age=60' : 'public, max-age=31536000, immutable', path);
  }
  assert.equal((await call(d.http!, '/api/v1/tile/0/999', { token: tokens.auditor })).status, 404);
  assert.equal((await call(d.http!, '/api/v1/tile/../etc/passwd', { token: tokens.auditor })).status, 404);
  assert.equal(await d.stop(), 0);
});

test('bad search input: negative limit, huge cursor, bad filter, unknown field, oversized page: 400 with a code; the daemon serves on', async () => {
  const { d, tokens } = await setup();
  for (const qs of [
    'limit=-1',
    'limit=0',
    `cursor=${'9'.repeat(400)}`,
    'cursor=abc',
    'since=yesterday',
    'level=loud',
    'field=noequals',
    'colour=red',
    'limit=5000',
    'seq_from=-3',
    'seq_from=9&seq_to=3',
    'reverse=maybe',
  ]) {
    const r = await call(d.http!, `/api/v1/records?${qs}`, { token: tokens.auditor });
    assert.equal(r.status, 400, `${qs}: ${r.text}`);
    assert.equal(r.json.error.code, 'E_HTTP_BAD_REQUEST', qs);
    assert.ok(!r.json.error.message.includes('--'), `the message speaks of parameters, not CLI flags: ${r.json.error.message}`);
  }
  for (const seq of ['-1', 'abc', '1.5', '99999999999999999999'])
    assert.equal((await call(d.http!, `/api/v1/records/${seq}`, { token: tokens.auditor })).status, 400, seq);
  assert.equal((await call(d.http!, '/api/v1/records?limit=3', { token: tokens.auditor })).json.records.length, 3);
  assert.equal(await d.stop(), 0);
});

test('reports: the JSON report of the API has the counts of sealog report for the same data; HTML too; an unknown standard is a 400', async () => {
  const { t, d, tokens } = await setup();
  const api = await call(d.http!, '/api/v1/reports/part11?format=json', { token: tokens.auditor });
  assert.equal(api.status, 200, api.text.slice(0, 300));
  const mine = cli(['report', '--standard', 'part11', '--data', t.data, '--format', 'json']);
  const want = JSON.parse(mine.stdout);
  assert.deepEqual(api.json.counts, want.counts);
  assert.equal(api.json.integrity.verdict, 'intact');
  const html = await call(d.http!, '/api/v1/reports/alcoa?format=html&from=1d', { token: tokens.operator });
  assert.equal(html.status, 200);
  assert.match(html.headers.get('content-type')!, /^text\/html/);
  assert.equal((await call(d.http!, '/api/v1/reports/iso9001', { token: tokens.auditor })).status, 400);
  assert.equal((await call(d.http!, '/api/v1/reports/part11', { token: tokens.producer })).status, 403);
  assert.equal(await d.stop(), 0);
});

test('reads through the API are sealed into the trail: who read what, batched into sealog.http.access records', async () => {
  const t = h.fresh();
  const tokens = roleTokens(t);
  const d = await h.start(t, 'http: { access_log_flush_ms: 200 }');
  await call(d.http!, '/api/v1/events', { token: tokens.producer, body: '{"a":1}\n', type: 'application/x-ndjson' });
  for (let i = 0; i < 5; i++) assert.equal((await call(d.http!, `/api/v1/records?field=event.a=1&limit=${i + 1}`, { token: tokens.auditor })).status, 200);
  let found: any[] = [];
  for (let tries = 0; tries < 100 && found.length < 5; tries++) {
    const r = await call(d.http!, '/api/v1/records?type=sealog.http.access&limit=100', { token: tokens.admin });
    found = r.json.records.flatMap((x: any) => x.event.reads).filter((x: any) => x.caller === 'test-auditor');
    if (found.length < 5) await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(found.length, 5);
  assert.deepEqual(
    found.map((x) => [x.route, x.role, x.status, x.query.limit]),
    [1, 2, 3, 4, 5].map((n) => ['/api/v1/records', 'auditor', 200, n]),
  );
  assert.equal(await d.stop(), 0);
});
