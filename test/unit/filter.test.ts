import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPseudonymizer } from '../../src/crypto/pseudonym.js';
import { compileFilter, filterFromFlags, filterFromParams, matches, parseTime, pseudonymFor, tsMicros } from '../../src/read/filter.js';
import { createRedactor } from '../../src/redact/redactor.js';
import { parseTilePath, tilePath, tilesOf, tileWidth } from '../../src/read/tiles.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const line = (r: object) => Buffer.from(JSON.stringify(r));

test('times: RFC 3339 to the µs, a date, relative units; anything else is a usage error', () => {
  assert.equal(parseTime('2026-11-23T10:00:00Z', NOW, '--since'), Date.UTC(2026, 10, 23, 10));
  assert.equal(parseTime('2026-11-23T10:00:00.123456Z', NOW, '--since'), Date.UTC(2026, 10, 23, 10) + 123.456);
  assert.equal(parseTime('2026-11-23T11:00:00+01:00', NOW, '--since'), Date.UTC(2026, 10, 23, 10));
  assert.equal(parseTime('2026-11-23', NOW, '--since'), Date.UTC(2026, 10, 23));
  assert.equal(parseTime('15m', NOW, '--since'), NOW - 15 * 60_000);
  assert.equal(parseTime('7d', NOW, '--since'), NOW - 7 * 86_400_000);
  for (const bad of ['yesterday', '15', '2026-13-01T00:00:00Z', '-5m', '2026-11-23T10:00:00'])
    assert.throws(
      () => parseTime(bad, NOW, '--since'),
      (e: any) => e.code === 'E_USAGE',
      bad,
    );
  assert.equal(tsMicros('2026-11-23T10:00:00.123456Z'), Date.UTC(2026, 10, 23, 10) * 1000 + 123456);
});

test('flags and HTTP parameters make the same plain Filter', () => {
  const a = filterFromFlags(
    { since: '2h', seq: '5..9', stream: ['audit'], type: ['Agent*'], level: 'warn', field: ['event.n=42', 'event.s=abc', 'event.q="42"'], text: 'x' },
    { now: NOW },
  );
  const b = filterFromParams(
    {
      since: '2h',
      seq_from: '5',
      seq_to: '9',
      stream: 'audit',
      type: ['Agent*'],
      level: 'warn',
      field: ['event.n=42', 'event.s=abc', 'event.q="42"'],
      text: 'x',
    },
    { now: NOW },
  );
  assert.deepEqual(a, b);
  assert.deepEqual(a.fields, [
    { path: 'event.n', value: 42 },
    { path: 'event.s', value: 'abc' },
    { path: 'event.q', value: '42' },
  ]);
  assert.deepEqual(JSON.parse(JSON.stringify(a)), a, 'plain data');
  assert.deepEqual(filterFromFlags({ seq: '7' }), { ...filterFromFlags({}), seqFrom: 7, seqTo: 7 });
  for (const bad of [
    { seq: '9..5' },
    { seq: 'a..b' },
    { level: 'loud' },
    { field: ['novalue'] },
    { field: ['a..b=1'] },
    { text: '' },
    { pseudonym: ['email:x'] },
  ]) {
    assert.throws(
      () => filterFromFlags(bad),
      (e: any) => e.code === 'E_USAGE',
      JSON.stringify(bad),
    );
  }
});

test('matching: OR within streams and types, AND across criteria, level or worse, since <= ts < until', () => {
  const r = {
    event: { correlation_id: 'c1', n: 42, nested: { k: [1, 2] } },
    level: 'error',
    seq: 12,
    stream: 'audit',
    ts: '2026-11-23T10:00:00.000500Z',
    type: 'AgentRequestEvent',
  };
  const yes = (flags: object) => matches(filterFromFlags(flags, { now: NOW }), r, line(r));
  assert.ok(yes({ stream: ['security', 'audit'], type: ['Nope', 'Agent*Event'] }));
  assert.ok(!yes({ stream: ['security'] }));
  assert.ok(yes({ type: ['Agent?equestEvent'] }) && !yes({ type: ['agent*'] }));
  assert.ok(yes({ level: 'warn' }) && yes({ level: 'error' }) && !yes({ level: 'fatal' }));
  assert.ok(yes({ field: ['event.correlation_id=c1', 'event.n=42'] }) && !yes({ field: ['event.n="42"'] }) && !yes({ field: ['event.correlation_id=c2'] }));
  assert.ok(yes({ field: ['event.nested={"k":[1,2]}'] }) && !yes({ field: ['event.nested.k.0=1'] }));
  assert.ok(yes({ since: '2026-11-23T10:00:00.000500Z' }) && !yes({ since: '2026-11-23T10:00:00.000501Z' }));
  assert.ok(yes({ until: '2026-11-23T10:00:00.000501Z' }) && !yes({ until: '2026-11-23T10:00:00.000500Z' }));
  assert.ok(yes({ seq: '12..12' }) && !yes({ seq: '13..' }));
  const bySeq = compileFilter(filterFromFlags({ seq: '10..20' }));
  assert.ok(bySeq.test(line(r), 12) && !bySeq.test(line(r), 21) && bySeq.test(line(r)), 'a known seq decides without parsing; else the line says');
  assert.ok(!bySeq.test(Buffer.from('not json'), 9) && bySeq.test(Buffer.from('not json'), 10), 'with the seq known, the line is not parsed');
  assert.ok(yes({ text: '"n":42' }) && !yes({ text: 'absent' }));
  assert.ok(!yes({ field: ['event.constructor=1'] }), 'no inherited properties');
});

test('--pseudonym finds exactly what sanitize wrote: same normalization, same keyed HMAC', () => {
  const key = Buffer.alloc(32, 7);
  const redactor = createRedactor({ kinds: {}, patterns: [], fields: [] } as any, createPseudonymizer(key));
  for (const [spec, raw] of [
    ['email:Ann.Lee@Example.com', 'ann.lee@example.com'],
    ['phone:+1 (555) 010-0199', '15550100199'],
  ] as const) {
    const p = pseudonymFor(spec, key);
    const scanned = redactor.scan(`contact ${spec.includes('@') ? spec.slice(6) : spec.slice(6)} now`, () => {});
    assert.ok(scanned.includes(p), `${spec} (${raw}): ${scanned} should hold ${p}`);
  }
  assert.match(pseudonymFor('pii:field:Custom Value', key), /^pii:field:[0-9a-f]{24}$/);
  assert.throws(
    () => pseudonymFor('nokind:x', key),
    (e: any) => e.code === 'E_USAGE',
  );
  const f = filterFromFlags({ pseudonym: ['email:ann.lee@example.com'] }, { hmacKey: () => key });
  const hit = { event: { to: pseudonymFor('email:ann.lee@example.com', key) }, seq: 1 };
  assert.ok(compileFilter(f).test(line(hit)));
  assert.ok(!compileFilter(f).test(line({ event: { to: pseudonymFor('email:bob@example.com', key) }, seq: 1 })));
});

test('tiles: paths as C2SP tlog-tiles writes them, and every tile of a tree', () => {
  assert.equal(tilePath(0, 0), 'tile/0/000');
  assert.equal(tilePath(1, 1234067, 17), 'tile/1/x001/x234/067.p/17');
  assert.equal(tilePath('entries', 5), 'tile/entries/005');
  assert.deepEqual(parseTilePath('tile/1/x001/x234/067.p/17'), { level: 1, n: 1234067, width: 17 });
  assert.deepEqual(parseTilePath('tile/entries/005'), { level: 'entries', n: 5, width: 256 });
  for (const bad of ['tile/0/5', 'tile/0/000.p/256', 'tile/0/000.p/0', 'tile/x/000', 'tile/0/x01/000']) assert.equal(parseTilePath(bad), undefined, bad);
  const t = tilesOf(300).map((x) => tilePath(x.level, x.n, x.width));
  assert.deepEqual(t, ['tile/entries/000', 'tile/entries/001.p/44', 'tile/0/000', 'tile/0/001.p/44', 'tile/1/000.p/1']);
  assert.equal(tileWidth(300, 0, 1), 44);
  assert.equal(tileWidth(300, 1, 0), 1);
  assert.equal(tileWidth(300, 0, 2), 0);
});
