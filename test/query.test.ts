import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import fc from 'fast-check';
import { compressFrameSync } from 'lz4-napi';
import { jcs } from '../src/crypto/canonical.js';
import { parseHmacKey } from '../src/crypto/pseudonym.js';
import { emptyFilter, pseudonymFor, type Filter } from '../src/read/filter.js';
import { query } from '../src/read/query.js';
import { decodeIndex, encodeIndex, type SegmentIndex } from '../src/read/segmentIndex.js';
import { openTrail } from '../src/read/trail.js';
import { BIN, cli, client, harness, type Tmp } from './helpers/daemon.js';

// One log of several segments sent through a real daemon (so sanitize writes real
// pseudonyms); every query is compared with a brute-force scan of `lz4 -dc` output,
// filtered by a reference predicate written here, apart from src/read/filter.ts.
const h = harness();
let t: Tmp;
let lines: string[];
let records: Record<string, any>[];
let hmacKey: Buffer;
const N = 2400;
const STREAMS = ['application', 'audit', 'security'];
const TYPES = ['AgentRequestEvent', 'PlanningEvent', 'ValidationEvent', 'tool_start', 'GAMPCategorizationEvent'];
const LEVELS = ['debug', 'info', 'warn', 'error'];

function eventOf(i: number): Record<string, unknown> {
  const e: Record<string, unknown> = {
    event_type: TYPES[i % TYPES.length],
    level: LEVELS[(i * 7) % 4],
    correlation_id: `corr-${i % 37}`,
    session_id: `sess-${i % 11}`,
    n: i % 5,
    note: `word${i % 13} text`,
  };
  if (i % 9 === 0) e.email = `User${i % 6}@Example.com`;
  if (i % 15 === 0) e.action = 'login';
  return e;
}

before(async () => {
  t = h.fresh();
  const d = await h.start(t, 'batch:\n  max_records: 40\n  linger_ms: 1\nsegment:\n  max_bytes: 32768\ncheckpoint:\n  every_records: 100\n');
  const c = await client(t.socket);
  await c.send(Array.from({ length: N }, (_, i) => JSON.stringify(eventOf(i))));
  await c.waitFor(() => c.committed === N, 'all committed');
  await c.end();
  assert.equal(await d.stop(), 0);
  lines = lz4Lines(t.data);
  records = lines.map((l) => JSON.parse(l));
  hmacKey = parseHmacKey(readFileSync(join(t.data, 'keys/hmac.key'), 'utf8'));
  // sealog's own records (an integrity sweep falling due) may sit among them.
  assert.equal(records.filter((r) => r.source.kind === 'socket').length, N);
  assert.ok(readdirSync(join(t.data, 'segments')).filter((f) => f.endsWith('.seg.lz4')).length >= 5, 'several segments');
});

function lz4Lines(data: string): string[] {
  const r = spawnSync('sh', ['-c', `cat "${data}"/segments/*.seg.lz4 | lz4 -dc`], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

const RANK = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
/** The reference predicate, from DESIGN §10's words. */
function reference(f: Filter, line: string, r: Record<string, any>): boolean {
  if (f.seqFrom !== undefined && r.seq < f.seqFrom) return false;
  if (f.seqTo !== undefined && r.seq > f.seqTo) return false;
  const us = Date.parse(`${r.ts.slice(0, 23)}Z`) * 1000 + Number(r.ts.slice(23, 26));
  if (f.since !== undefined && us < f.since * 1000) return false;
  if (f.until !== undefined && us >= f.until * 1000) return false;
  if (f.streams.length && !f.streams.includes(r.stream)) return false;
  if (
    f.types.length &&
    !f.types.some((g) =>
      new RegExp(
        `^${g
          .split('*')
          .map((p) =>
            p
              .split('?')
              .map((q) => q.replace(/[.+^${}()|[\]\\]/g, '\\$&'))
              .join('.'),
          )
          .join('.*')}$`,
      ).test(r.type),
    )
  )
    return false;
  if (f.level && RANK.indexOf(r.level) < RANK.indexOf(f.level)) return false;
  for (const { path, value } of f.fields) {
    let v: any = r;
    for (const k of path.split('.')) v = v && typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, k) ? v[k] : undefined;
    if (v === undefined || jcs(v) !== jcs(value)) return false;
  }
  if (f.text !== undefined && !line.includes(f.text)) return false;
  if (f.pseudonyms.length && !f.pseudonyms.some((p) => line.includes(p))) return false;
  return true;
}

// Each criterion is present in about one combination in three, so that ANDed together they still match something.
const maybe = <T>(a: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 2 }, { arbitrary: a, weight: 1 });
const some = <T>(xs: T[]) =>
  fc.oneof({ arbitrary: fc.constant([] as T[]), weight: 2 }, { arbitrary: fc.subarray(xs, { minLength: 1, maxLength: 2 }), weight: 1 });
function filters(): fc.Arbitrary<Filter> {
  const tsMs = (r: Record<string, any>) => Date.parse(`${r.ts.slice(0, 23)}Z`) + Number(r.ts.slice(23, 26)) / 1000;
  const at = fc.integer({ min: 0, max: N - 1 });
  return fc
    .record({
      seq: maybe(fc.tuple(at, at)),
      time: maybe(fc.tuple(at, at)),
      streams: some(STREAMS),
      types: some([...TYPES, 'Agent*', '*Event', 'tool_?tart', 'nothing*']),
      level: maybe(fc.constantFrom(...RANK)),
      corr: maybe(fc.integer({ min: 0, max: 40 })),
      sess: maybe(fc.integer({ min: 0, max: 11 })),
      n: maybe(fc.integer({ min: 0, max: 5 })),
      text: maybe(fc.constantFrom('word3 ', 'word1', '"action":"login"', 'absent-text')),
      emails: some([0, 1, 2, 3, 4, 5, 6]),
    })
    .map((o) => {
      const f = emptyFilter();
      if (o.seq) [f.seqFrom, f.seqTo] = [Math.min(...o.seq), Math.max(...o.seq)];
      if (o.time) [f.since, f.until] = [tsMs(records[Math.min(...o.time)]!), tsMs(records[Math.max(...o.time)]!)];
      f.streams = o.streams;
      f.types = o.types;
      if (o.level) f.level = o.level as Filter['level'];
      if (o.corr !== undefined) f.fields.push({ path: 'event.correlation_id', value: `corr-${o.corr}` });
      if (o.sess !== undefined) f.fields.push({ path: 'event.session_id', value: `sess-${o.sess}` });
      if (o.n !== undefined) f.fields.push({ path: 'event.n', value: o.n });
      f.text = o.text;
      f.pseudonyms = o.emails.map((k) => pseudonymFor(`email:user${k}@example.com`, hmacKey));
      return f;
    });
}

const run = async (f: Filter, o: { reverse?: boolean; limit?: number; after?: number } = {}) => {
  const out: string[] = [];
  for await (const r of query(openTrail(t.data, { onWarning: () => {} }), { filter: f, ...o })) out.push(r.line.toString('utf8'));
  return out;
};

test('query equals a brute-force scan of lz4 -dc for 60 seeded filter combinations, forward, reverse, limited and resumed', async () => {
  let nonEmpty = 0;
  await fc.assert(
    fc.asyncProperty(filters(), fc.integer({ min: 1, max: 30 }), async (f, limit) => {
      const want = lines.filter((l, i) => reference(f, l, records[i]!));
      assert.deepEqual(await run(f), want);
      assert.deepEqual(await run(f, { reverse: true, limit }), want.slice().reverse().slice(0, limit));
      if (want.length > 2) {
        const cursor = JSON.parse(want[1]!).seq;
        assert.deepEqual(await run(f, { after: cursor, limit }), want.slice(2, 2 + limit));
        nonEmpty++;
      }
    }),
    { numRuns: 60, seed: Number(process.env.SEALOG_QUERY_SEED ?? 20261207) },
  );
  assert.ok(nonEmpty >= 10, `only ${nonEmpty} combinations matched more than 2 records: the generator is too narrow`);
});

test('the CLI prints the stored lines byte for byte (jsonl), and every filter flag reaches the same Filter', () => {
  const ann = pseudonymFor('email:user2@example.com', hmacKey);
  const cases: [string[], (l: string, r: Record<string, any>) => boolean][] = [
    [[], () => true],
    [['--stream', 'audit', '--stream', 'security'], (_l, r) => r.stream === 'audit' || r.stream === 'security'],
    [['--type', 'Agent*', '--level', 'warn'], (_l, r) => r.type.startsWith('Agent') && RANK.indexOf(r.level) >= 3],
    [['--field', 'event.correlation_id=corr-5', '--field', 'event.n=0'], (_l, r) => r.event.correlation_id === 'corr-5' && r.event.n === 0],
    [['--pseudonym', 'email:USER2@example.com', '--seq', '100..2000'], (l, r) => l.includes(ann) && r.seq >= 100 && r.seq <= 2000],
    [
      ['--text', 'word7 ', '--since', records[500]!.ts, '--until', records[1500]!.ts],
      (l, r) => l.includes('word7 ') && r.ts >= records[500]!.ts && r.ts < records[1500]!.ts,
    ],
  ];
  for (const [flags, pred] of cases) {
    const r = cli(['query', '--data', t.data, '--format', 'jsonl', ...flags]);
    assert.equal(r.code, 0, `${flags.join(' ')}: ${r.stderr}`);
    const want = lines.filter((l, i) => pred(l, records[i]!));
    assert.equal(r.stdout, want.length ? `${want.join('\n')}\n` : '', flags.join(' '));
  }
  const rev = cli(['query', '--data', t.data, '--reverse', '--limit', '3', '--format', 'jsonl']);
  assert.equal(rev.stdout, `${lines.slice(-3).reverse().join('\n')}\n`);
  const table = cli(['query', '--data', t.data, '--format', 'table', '--limit', '2']);
  assert.match(table.stdout.split('\n')[0]!, /SEQ\s+TS\s+STREAM\s+LEVEL\s+TYPE\s+WHO\s+SUMMARY/);
  assert.equal(table.stdout.trim().split('\n').length, 3);
  const csv = cli(['query', '--data', t.data, '--format', 'csv', '--limit', '1']);
  assert.match(csv.stdout, /^seq,ts,stream,level,type,who,summary\n0,/);
  const json = cli(['query', '--data', t.data, '--format', 'json', '--seq', '3..4']);
  assert.deepEqual(JSON.parse(json.stdout), records.slice(3, 5));
  for (const bad of [['--level', 'loud'], ['--seq', '5..1'], ['--format', 'xml'], ['--since', 'yesterday'], ['--bogus']]) {
    assert.equal(cli(['query', '--data', t.data, ...bad]).code, 2, bad.join(' '));
  }
  assert.match(cli(['query', '--help']).stdout, /--pseudonym KIND:VALUE/);
});

test('index deleted, truncated or with flipped bytes: the same results, a warning, and a rebuilt index', () => {
  const flags = ['query', '--data', t.data, '--format', 'jsonl', '--field', 'event.correlation_id=corr-3', '--level', 'info'];
  const baseline = cli(flags);
  assert.equal(baseline.code, 0);
  assert.ok(baseline.stdout.length > 0);
  const dir = join(t.data, 'index');
  const idx = readdirSync(dir).filter((f) => f.endsWith('.idx'));
  assert.ok(idx.length >= 4, 'an index per closed segment');
  rmSync(dir, { recursive: true });
  assert.equal(cli(flags).stdout, baseline.stdout, 'deleted');
  truncateSync(join(dir, idx[1]!), 20);
  const truncated = cli(flags);
  assert.equal(truncated.stdout, baseline.stdout, 'truncated');
  assert.match(truncated.stderr, new RegExp(`index of segment ${idx[1]!.replace('.idx', '')}.seg.lz4 is damaged .*ignored and rebuilt`));
  const path = join(dir, idx[2]!);
  const bytes = readFileSync(path);
  for (const at of [12, bytes.length >> 1, bytes.length - 6]) bytes[at]! ^= 0x5a;
  writeFileSync(path, bytes);
  const flipped = cli(flags);
  assert.equal(flipped.stdout, baseline.stdout, 'flipped');
  assert.match(flipped.stderr, /is damaged/);
  const again = cli(flags);
  assert.equal(again.stdout, baseline.stdout);
  assert.equal(again.stderr, '', 'rebuilt: no warning the second time');
  assert.equal(cli(['index', 'rebuild', '--data', t.data]).code, 0);
  assert.equal(cli(flags).stdout, baseline.stdout, 'after index rebuild');
});

test('a well-formed index that lies about its segment (frames shifted, seqs off) is dropped, and the answers stay the same', async () => {
  const flags = ['query', '--data', t.data, '--format', 'jsonl', '--text', 'word5 '];
  const baseline = cli(flags).stdout;
  const trail = openTrail(t.data, { onWarning: () => {} });
  const [, seg] = await trail.segments();
  const path = join(t.data, 'index', seg!.name.replace('.seg.lz4', '.idx'));
  const original = readFileSync(path);
  const ix = decodeIndex(original, seg!);
  assert.ok(typeof ix !== 'string' && ix.frames.length > 2);
  const lie = (change: (f: SegmentIndex['frames']) => void) => {
    const copy = decodeIndex(original, seg!) as SegmentIndex;
    change(copy.frames);
    writeFileSync(path, encodeIndex(copy));
    const r = cli(flags);
    assert.equal(r.stdout, baseline);
    assert.match(r.stderr, /does not match the segment/);
  };
  lie((f) => (f[1]!.first += 1)); // other seqs
  lie((f) => {
    // frame 1 said to start a few bytes in: it no longer decodes there
    f[1]!.offset += 4;
    f[1]!.length -= 4;
    f[0]!.length += 4;
  });
});

test('a record edited on disk (its hash no longer matches): exit 1 naming seq, segment and offset, and it is never printed', () => {
  const copy = h.fresh();
  cpSync(t.data, copy.data, { recursive: true });
  const segs = readdirSync(join(copy.data, 'segments')).filter((f) => f.endsWith('.seg.lz4'));
  const seg = segs[2]!;
  const path = join(copy.data, 'segments', seg);
  const text = spawnSync('lz4', ['-dc', path], { encoding: 'utf8' }).stdout.split('\n');
  const k = 5;
  const victim = JSON.parse(text[k]!);
  text[k] = text[k]!.replace('"n":', '"n":1');
  assert.notEqual(JSON.parse(text[k]!).event.n, victim.event.n);
  writeFileSync(path, compressFrameSync(Buffer.from(text.join('\n'))));
  const r = cli(['query', '--data', copy.data, '--format', 'jsonl']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`seq ${victim.seq}, segment ${seg}, byte 0`));
  assert.match(r.stderr, /V_HASH_MISMATCH/);
  const printed = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).seq);
  assert.deepEqual(
    printed,
    Array.from({ length: victim.seq }, (_, i) => i),
    'every record before it, checked, and nothing from it on',
  );
  // A query whose frames do not include it still answers.
  assert.equal(cli(['query', '--data', copy.data, '--seq', '0..10', '--format', 'jsonl']).code, 0);
  // Re-sealed with a fresh hash of its own: the record checks, the next one's prev does not.
  const body = `${text[k]!.slice(0, -75)}}`;
  text[k] = `${body.slice(0, -1)},"hash":"${createHash('sha256')
    .update(Buffer.concat([Buffer.from([0]), Buffer.from(body)]))
    .digest('hex')}"}`;
  writeFileSync(path, compressFrameSync(Buffer.from(text.join('\n'))));
  const chain = cli(['query', '--data', copy.data, '--format', 'jsonl']);
  assert.equal(chain.code, 1);
  assert.match(chain.stderr, new RegExp(`V_CHAIN_BROKEN: [^]* seq ${victim.seq + 1}, segment ${seg}`));
  assert.equal(chain.stdout.trim().split('\n').length, victim.seq + 1, 'the re-sealed record itself checks');
});

test('--follow prints records as they commit, in order, none missed across segment rotations', async () => {
  const live = h.fresh();
  const d = await h.start(live, 'batch:\n  max_records: 7\n  linger_ms: 1\nsegment:\n  max_bytes: 4096\ncheckpoint:\n  every_records: 50\n');
  const c = await client(live.socket);
  await c.send(Array.from({ length: 30 }, (_, i) => JSON.stringify(eventOf(i))));
  await c.waitFor(() => c.committed === 30, 'first commits');
  const child = spawn(process.execPath, [BIN, 'query', '--data', live.data, '--follow', '--format', 'jsonl'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  const exited = new Promise((res) => child.once('exit', res));
  try {
    await c.waitFor(() => out.split('\n').length > 30, 'the records from before follow started');
    for (let b = 0; b < 10; b++) {
      await c.send(Array.from({ length: 40 }, (_, i) => JSON.stringify(eventOf(1000 + b * 40 + i))));
      await c.waitFor(() => c.committed === 30 + (b + 1) * 40, 'commit');
    }
    const total = 30 + 400;
    await c.waitFor(() => out.split('\n').length > total, 'every record followed', 30000);
    const seen = out.trim().split('\n');
    // (An integrity sweep falling due may add a record of sealog's own.)
    assert.deepEqual(
      seen.map((l) => JSON.parse(l).seq),
      Array.from({ length: seen.length }, (_, i) => i),
    );
    assert.equal(seen.filter((l) => JSON.parse(l).source.kind === 'socket').length, total);
    assert.deepEqual(seen, lz4Lines(live.data).slice(0, seen.length), 'the stored lines, byte for byte');
    assert.ok(readdirSync(join(live.data, 'segments')).filter((f) => f.endsWith('.seg.lz4')).length >= 5, 'it rotated while following');
  } finally {
    child.kill('SIGTERM');
    await exited;
    await c.end();
    await d.stop();
  }
});
