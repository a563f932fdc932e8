import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClock } from '../../src/clock.js';
import { jcs } from '../../src/crypto/canonical.js';
import { leafHash } from '../../src/crypto/hash.js';
import { RejectCode } from '../../src/errors.js';
import { Batcher, batchStage } from '../../src/stages/batch.js';
import { createClassifier } from '../../src/stages/classify.js';
import { compress } from '../../src/stages/compress.js';
import { parse } from '../../src/stages/parse.js';
import { needsRotation } from '../../src/stages/rotate.js';
import { createSanitizer } from '../../src/stages/sanitize.js';
import { serialize } from '../../src/stages/serialize.js';
import { createSealer, Slabs, writeSourceJcs } from '../../src/stages/seal.js';
import { decompressFrameSync } from 'lz4-napi';
import type { Draft, RawLine, Sealed, Source } from '../../src/types.js';

const src = { kind: 'socket' as const, conn: 1, line: 1 };
const raw = (s: string | Buffer): RawLine => ({ bytes: Buffer.isBuffer(s) ? s : Buffer.from(s), source: src });
const draft = (event: Record<string, any>): Draft => ({ source: src, event, redactions: [] });

test('parse accepts a JSON object and rejects the rest with coded reasons, keeping the raw bytes', () => {
  assert.deepEqual(parse(raw('{"a":1}')).event, { a: 1 });
  const cases: [string | Buffer, string][] = [
    ['not json', RejectCode.INVALID_JSON],
    ['[1,2]', RejectCode.NOT_OBJECT],
    ['"str"', RejectCode.NOT_OBJECT],
    ['null', RejectCode.NOT_OBJECT],
    [Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), RejectCode.INVALID_UTF8],
  ];
  for (const [input, code] of cases) {
    const d = parse(raw(input));
    assert.equal(d.rejected?.code, code, String(input));
    assert.equal(d.event.code, code);
    const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input);
    const kept = d.event.raw_encoding === 'base64' ? Buffer.from(d.event.raw as string, 'base64') : Buffer.from(d.event.raw as string);
    assert.deepEqual(kept, bytes, 'raw bytes are kept exactly');
    assert.equal(d.event.raw_bytes, bytes.length);
  }
});

test('parse keeps an oversize line as its head with the full length, and no digest (its rest was never scanned)', () => {
  const d = parse({ bytes: Buffer.from('{"a":'), source: src, oversize: { length: 5_000_000, sha256: 'ab'.repeat(32) } });
  assert.equal(d.rejected?.code, RejectCode.LINE_TOO_LONG);
  assert.equal(d.event.raw_bytes, 5_000_000);
  assert.equal(d.event.truncated, true);
  assert.equal(d.event.raw_sha256, null);
});

test('sanitize neutralizes control characters and ANSI escapes and lists each change by path', () => {
  const s = createSanitizer({ maxDepth: 32, maxStringChars: 1000, maxItems: 100 });
  const out = s(draft({ msg: 'red \u001b[31mALERT\u001b[0m\r\nfake line\u0007', ok: 'tab\tand\nnewline stay', nested: [{ 'k\u001b': 1 }] }));
  assert.equal(out.event.msg, 'red ALERT\ufffd\nfake line\ufffd');
  assert.equal(out.event.ok, 'tab\tand\nnewline stay');
  assert.deepEqual(Object.keys((out.event.nested as any)[0]), ['k\ufffd']);
  assert.deepEqual(out.redactions, [
    { path: 'event.msg', kind: 'control_chars' },
    { path: 'event.nested[0]["k\\u001b"](key)', kind: 'control_chars' },
  ]);
});

test('sanitize returns a clean event untouched (same object, no redactions)', () => {
  const s = createSanitizer({ maxDepth: 32, maxStringChars: 1000, maxItems: 100 });
  const d = draft({ a: 'plain', b: [1, { c: 'ü ✓ 😀' }], n: null });
  assert.equal(s(d), d);
});

test('sanitize caps depth, width and string length, and fixes what JCS cannot carry', () => {
  const s = createSanitizer({ maxDepth: 3, maxStringChars: 8, maxItems: 3 });
  const plain = (v: unknown) => JSON.parse(JSON.stringify(v));
  const run = (event: Record<string, any>) => {
    const out = s(draft(event));
    return { event: plain(out.event), kinds: out.redactions.map((r) => `${r.path}:${r.kind}`) };
  };
  assert.deepEqual(run({ deep: { a: { b: { c: 1 } } } }), { event: { deep: { a: { b: '[sealog: depth cap]' } } }, kinds: ['event.deep.a.b:depth_cap'] });
  assert.deepEqual(run({ long: 'abcdefghijkl' }), { event: { long: 'abcdefgh' }, kinds: ['event.long:string_cap'] });
  assert.deepEqual(run({ arr: [1, 2, 3, 4] }), { event: { arr: [1, 2, 3] }, kinds: ['event.arr:items_cap'] });
  assert.deepEqual(run({ wide: { w: 1, x: 1, y: 2, z: 3 } }), { event: { wide: { w: 1, x: 1, y: 2 } }, kinds: ['event.wide:keys_cap'] });
  assert.deepEqual(run({ wide: { w: 1, x: '\u0007', y: 2, z: 3 } }), {
    event: { wide: { w: 1, x: '\ufffd', y: 2 } },
    kinds: ['event.wide.x:control_chars', 'event.wide:keys_cap'],
  });
  assert.deepEqual(run({ w: 1, x: 2, y: 3 }), { event: { w: 1, x: 2, y: 3 }, kinds: [] });
  assert.deepEqual(run({ lone: 'a\ud800' }), { event: { lone: 'a\ufffd' }, kinds: ['event.lone:lone_surrogate'] });
  assert.deepEqual(run({ big: Infinity }), { event: { big: null }, kinds: ['event.big:non_finite_number'] });
});

test('sanitize keeps __proto__ keys as inert data', () => {
  const s = createSanitizer({ maxDepth: 32, maxStringChars: 1000, maxItems: 100 });
  const event = JSON.parse('{"__proto__":{"polluted":true},"x":"\\u0007"}');
  const out = s(draft(event));
  assert.equal(({} as any).polluted, undefined);
  assert.equal(JSON.stringify(out.event), '{"__proto__":{"polluted":true},"x":"\ufffd"}');
  assert.ok(Object.hasOwn(out.event, '__proto__'));
});

test('sanitize walks the own keys of an object only, even when Object.prototype has an enumerable property', () => {
  const s = createSanitizer({ maxDepth: 32, maxStringChars: 1000, maxItems: 2 });
  Object.defineProperty(Object.prototype, 'injected', { value: '\u0007', enumerable: true, configurable: true, writable: true });
  try {
    const clean = draft(JSON.parse('{"a":"plain","b":{"c":1}}'));
    assert.equal(s(clean), clean);
    const out = s(draft(JSON.parse('{"a":"\\u0007","b":1}')));
    assert.deepEqual(Object.keys(out.event), ['a', 'b']);
    assert.deepEqual(
      out.redactions.map((r) => `${r.path}:${r.kind}`),
      ['event.a:control_chars'],
    );
  } finally {
    delete (Object.prototype as Record<string, unknown>).injected;
  }
});

const classify = createClassifier({ rules: [] });

test('the clock writes the text it returns, and a sealer whose clock writes seals the same bytes', () => {
  const clock = createClock();
  const buf = Buffer.alloc(29, 0x2e);
  const before = clock();
  clock.write!(buf, 1);
  const after = clock();
  const ts = buf.toString('latin1', 1, 28);
  assert.match(ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.ok(before <= ts && ts <= after, `${before} <= ${ts} <= ${after}`);
  assert.equal(buf.toString('latin1', 0, 1) + buf.toString('latin1', 28), '..');
  const TS = '2026-11-23T10:00:00.123456Z';
  const text = createSealer({ nextSeq: 3, prev: 'ab'.repeat(32) }, () => TS);
  const written = createSealer(
    { nextSeq: 3, prev: 'ab'.repeat(32) },
    Object.assign(() => 'unused', { write: (b: Buffer, at: number) => b.write(TS, at, 'latin1') }),
  );
  for (const event of [{ a: 1 }, { b: 'é' }]) {
    const d = serialize(classify(draft(event)), false);
    assert.deepEqual(written(d).line, text(d).line);
  }
});

test('seal chains records: seq from the head, prev = previous hash, hash over the line without hash', () => {
  const seal = createSealer({ nextSeq: 7, prev: 'ab'.repeat(32) }, () => '2026-11-23T10:00:00.000000Z');
  const a = seal(serialize(classify(draft({ z: 1, a: 'é' })), false));
  const b = seal(serialize(classify(draft({ b: 2 })), false));
  const ra = JSON.parse(a.line.toString());
  const rb = JSON.parse(b.line.toString());
  assert.equal(ra.seq, 7);
  assert.equal(rb.seq, 8);
  assert.equal(ra.prev, 'ab'.repeat(32));
  assert.equal(rb.prev, ra.hash);
  // The stored line is JCS text with hash appended last; removing it gives back the hashed text.
  const text = a.line
    .toString()
    .trimEnd()
    .replace(/,"hash":"[0-9a-f]{64}"\}$/, '}');
  assert.equal(leafHash(text).toString('hex'), ra.hash);
  assert.equal(a.hash.toString('hex'), ra.hash);
  assert.ok(text.startsWith('{"event":{"a":"é","z":1},"level":"info","meta":{'), 'keys in JCS order');
  const { hash: _, ...unsigned } = ra;
  assert.equal(text, jcs(unsigned), 'the stored line is exactly RFC 8785 JCS of the record without hash');
  assert.ok(a.line.toString().endsWith(`"hash":"${ra.hash}"}\n`));
});

test('seal uses a slab again only once every line in it is committed', () => {
  const slabs = new Slabs();
  const seal = createSealer({ nextSeq: 0, prev: 'ab'.repeat(32) }, () => '2026-11-23T10:00:00.000000Z', slabs);
  const record = serialize(classify(draft({ message: 'x'.repeat(300) })), false);
  let last = seal(record);
  /** Seals until a line lands in another slab: that line, and the line before it. */
  const nextSlab = () => {
    const from = last;
    let before = last;
    while (last.line.buffer === from.line.buffer) [before, last] = [last, seal(record)];
    return { sealed: last, before };
  };
  const first = last;
  const second = nextSlab().sealed;
  slabs.committed(second.seq - 2); // the first slab's last line is not committed yet
  const third = nextSlab().sealed;
  assert.notEqual(third.line.buffer, first.line.buffer, 'a slab with a line not yet committed is not written over');
  slabs.committed(second.seq - 1);
  const fourth = nextSlab();
  assert.equal(fourth.sealed.line.buffer, first.line.buffer, 'a slab whose lines are all committed is used again');
  assert.equal(JSON.parse(fourth.sealed.line.toString()).prev, fourth.before.hash.toString('hex'), 'the chain goes on into it');
});

/** Every Source field set (Required<Source>: a field added to Source fails to compile here until it is given). */
const FULL_SOURCE = {
  kind: 'spool',
  conn: 3,
  file: 'a "b"\u0001é.jsonl',
  fp: 'ab'.repeat(32),
  line: 12,
  peer: { pid: 4, uid: 1000, gid: 100 },
  owner: { uid: 1001, gid: 101 },
  continues: 'cd'.repeat(32),
  token: 'ann"é\\',
} satisfies Required<Source>;

test('writeSourceJcs writes exactly jcs() of a source, for every field and without the optional ones', () => {
  const written = (s: Source) => {
    const buf = Buffer.alloc(1024, 0x2a);
    const end = writeSourceJcs(buf, 3, s);
    assert.equal(buf[end], 0x2a, 'nothing written past the end it returns');
    return buf.toString('utf8', 3, end);
  };
  assert.equal(written(FULL_SOURCE), jcs(FULL_SOURCE));
  assert.equal(written({ kind: 'socket', conn: 1, line: 2 }), jcs({ kind: 'socket', conn: 1, line: 2 }));
  assert.equal(written({ kind: 'socket', conn: 0, line: 9_007_199_254_740_991 }), jcs({ kind: 'socket', conn: 0, line: 9_007_199_254_740_991 }));
  // Not a safe non-negative integer: the number's text all the same.
  assert.equal(written({ kind: 'http', conn: -7, line: 1.5 }), jcs({ kind: 'http', conn: -7, line: 1.5 }));
  assert.equal(written({ kind: 'sealog' }), '{"kind":"sealog"}');
});

test('seal writes every source exactly, whether it differs from the one before in line alone or in another field, and across slabs', () => {
  const other = {
    kind: 'http',
    conn: 4,
    file: 'b.jsonl',
    fp: 'ef'.repeat(32),
    line: 13,
    peer: { pid: 4, uid: 1000, gid: 101 },
    owner: { uid: 1002, gid: 101 },
    continues: '01'.repeat(32),
    token: 'bob',
  } satisfies Required<Source>;
  const sources: Source[] = [FULL_SOURCE, { kind: 'socket', conn: 1, line: 1 }, { kind: 'sealog' }, { ...FULL_SOURCE, peer: { ...FULL_SOURCE.peer } }];
  for (const key of Object.keys(FULL_SOURCE) as (keyof Source)[]) {
    sources.push({ ...FULL_SOURCE, [key]: other[key] });
    if (key !== 'kind') {
      const { [key]: _, ...without } = FULL_SOURCE;
      sources.push(without);
    }
  }
  const seal = createSealer({ nextSeq: 0, prev: 'ab'.repeat(32) }, () => '2026-11-23T10:00:00.000000Z');
  const record = serialize(classify(draft({ message: 'x'.repeat(600) })), false);
  const slabsSeen = new Set<ArrayBufferLike>();
  // Each source twice running (the second differs in line alone), over more than one 4 MiB slab.
  for (let i = 0; i < 12_000; i++) {
    const s = sources[Math.floor(i / 2) % sources.length]!;
    const source = s.line === undefined ? s : { ...s, line: s.line + i };
    const sealed = seal({ ...record, source });
    slabsSeen.add(sealed.line.buffer);
    const text = sealed.line.toString();
    assert.ok(text.includes(`,"source":${jcs(source)},`), `record ${i}: ${text.slice(0, 400)}`);
    assert.deepEqual(JSON.parse(text).source, source);
  }
  assert.ok(slabsSeen.size > 1, 'the records filled more than one slab');
});

test('batcher cuts by count and by bytes, and take() drains a partial batch', () => {
  const rec = (n: number): Sealed => ({ seq: n, hash: Buffer.alloc(32), line: Buffer.alloc(100), source: src });
  const byCount = new Batcher({ maxRecords: 3, maxBytes: 1 << 20, lingerMs: 5 });
  assert.equal(byCount.add(rec(0)), undefined);
  assert.equal(byCount.add(rec(1)), undefined);
  assert.deepEqual(
    byCount.add(rec(2))?.records.map((r) => r.seq),
    [0, 1, 2],
  );
  assert.equal(byCount.pending, 0);
  const byBytes = new Batcher({ maxRecords: 100, maxBytes: 250, lingerMs: 5 });
  byBytes.add(rec(0));
  byBytes.add(rec(1));
  assert.equal(byBytes.add(rec(2))?.bytes, 300);
  byBytes.add(rec(3));
  assert.deepEqual(
    byBytes.take()?.records.map((r) => r.seq),
    [3],
  );
  assert.equal(byBytes.take(), undefined);
});

test('batch: a partial batch leaves after linger_ms, but grows while frames wait for the disk further down', async () => {
  const rec = (n: number): Sealed => ({ seq: n, hash: Buffer.alloc(32), line: Buffer.alloc(100), source: src });
  let backlog = true;
  const stage = batchStage({ maxRecords: 100, maxBytes: 1 << 20, lingerMs: 2 }, () => backlog);
  const out: number[][] = [];
  stage.on('data', (b: { records: Sealed[] }) => out.push(b.records.map((r) => r.seq)));
  stage.write([rec(0)]);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(out, [], 'held while the disk is backlogged');
  stage.write([rec(1)]);
  backlog = false;
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(out, [[0, 1]], 'one batch of both, once the backlog is gone');
  stage.write([rec(2)]);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(out, [[0, 1], [2]], 'a partial batch leaves after linger_ms');
  // A chunk that fills a batch and starts the next: the full one leaves at once, the rest after linger_ms.
  stage.write(Array.from({ length: 150 }, (_, i) => rec(3 + i)));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    (out as number[][]).slice(2).map((b) => b.length),
    [100],
  );
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(
    (out as number[][]).slice(2).map((b) => b.length),
    [100, 50],
  );
  stage.destroy();
});

test('compress makes one standard LZ4 frame holding every line of the batch', async () => {
  const lines = ['{"a":1}\n', '{"b":2}\n'].map((s) => ({ seq: 0, hash: Buffer.alloc(32), line: Buffer.from(s), source: src }));
  const f = await compress({ records: lines, bytes: 16 });
  assert.equal(f.data.readUInt32LE(0), 0x184d2204);
  assert.equal(decompressFrameSync(f.data).toString(), '{"a":1}\n{"b":2}\n');
});

test('rotate closes a segment before it would overflow, or when it is too old, never an empty one', () => {
  const p = { maxBytes: 1000, maxAgeMs: 60_000 };
  assert.equal(needsRotation(p, undefined, 5000, 0), false);
  assert.equal(needsRotation(p, { bytes: 0, openedAt: 0 }, 5000, 0), false);
  assert.equal(needsRotation(p, { bytes: 900, openedAt: 0 }, 50, 1), false);
  assert.equal(needsRotation(p, { bytes: 900, openedAt: 0 }, 200, 1), true);
  assert.equal(needsRotation(p, { bytes: 10, openedAt: 0 }, 10, 60_000), true);
});

test('parse names a last line the input ended in the middle of as cut, and keeps a whole one', () => {
  const cut = parse({ ...raw('{"a":"hal'), unterminated: true });
  assert.equal(cut.rejected?.code, RejectCode.TRUNCATED_LINE);
  assert.equal(cut.event.raw, '{"a":"', 'without the partial token the cut fell in');
  // Cut inside a multi-byte character: still a cut line, not invalid UTF-8.
  assert.equal(parse({ ...raw(Buffer.from('{"a":"\u00e9"}').subarray(0, 7)), unterminated: true }).rejected?.code, RejectCode.TRUNCATED_LINE);
  assert.deepEqual(parse({ ...raw('{"a":1}'), unterminated: true }).event, { a: 1 });
  assert.equal(parse({ ...raw('[1,2]'), unterminated: true }).rejected?.code, RejectCode.NOT_OBJECT);
});
