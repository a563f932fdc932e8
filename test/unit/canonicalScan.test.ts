import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { jcs } from '../../src/crypto/canonical.js';
import { noSpans } from '../../src/crypto/canonicalScan.js';
import { openLine, sealedLine } from '../../src/store/recordLine.js';
import { jsonObjects, trickyString } from '../helpers/arbitraries.js';

// sealedLine's byte scan may only ever pass a line where the reference library
// (openLine: JSON.parse + jcs) finds a canonical record with that very hash; when
// it is not sure, openLine decides, so it may pass fewer lines, never more.
const PREV = '0'.repeat(64);

/** A stored line from a body text (an object's JSON text), sealed with its true hash. */
const line = (body: string) => seal(Buffer.from(body.slice(0, -1), 'utf8'));
/** The same from the body's bytes without its closing brace. */
function seal(b: Buffer): Buffer {
  const hash = createHash('sha256')
    .update(Buffer.from([0]))
    .update(b)
    .update('}')
    .digest('hex');
  return Buffer.concat([b, Buffer.from(`,"hash":"${hash}"}`)]);
}

/** sealedLine says yes only where openLine says canonical, with the same seq, prev and hash. */
function agree(l: Buffer): boolean {
  const out = new Uint8Array(32);
  const spans = noSpans();
  const seq = sealedLine(l, out, spans);
  if (seq < 0) return false;
  const ref = openLine(l);
  assert.notEqual(typeof ref, 'string', `sealedLine passed a line openLine rejects: ${l.toString('utf8')}`);
  const r = ref as Exclude<typeof ref, string>;
  assert.equal(r.canonical, true, `sealedLine passed a line that is not canonical: ${l.toString('utf8')}`);
  const prev = l.toString('latin1', spans.prevStart + 1, spans.prevEnd - 1);
  assert.deepEqual([seq, prev, Buffer.from(out).toString('hex')], [r.seq, r.prev, r.hash.toString('hex')]);
  assert.equal(r.claimed, r.hash.toString('hex'));
  if (typeof r.record.type === 'string') assert.equal(l.toString('utf8', spans.typeStart + 1, spans.typeEnd - 1), r.record.type);
  return true;
}

test('the byte scan takes the fast path on canonical records and agrees with openLine', () => {
  const rec = {
    seq: 7,
    prev: PREV,
    type: 'sealog.key.transition',
    event: { a: [1, -2, 0.5, 1e21, 1e-7, true, false, null, {}, []], e: 'é ü 日本 😀 \u2028 \u007f', s: 'q"\\\n\t\b\f\r' },
  };
  assert.equal(agree(line(jcs(rec))), true, 'a canonical line takes the fast path');
});

test('tricky lines: fast check ⇔ the reference library', () => {
  const base = (inner: string) => `{"event":${inner},"prev":"${PREV}","seq":3}`;
  const cases = [
    // numbers: only the ECMAScript form is canonical
    '1',
    '-0',
    '0',
    '1.0',
    '1.5',
    '1e21',
    '1e+21',
    '1E+21',
    '1e-7',
    '0.0000001',
    '100000000000000000000',
    '1000000000000000000000',
    '9007199254740993',
    '123456789012345',
    '1234567890123456',
    '-5',
    '01',
    '1.',
    '.5',
    '2e400',
    '0.1',
    '0.10',
    // strings: JSON.stringify's escapes only, well-formed UTF-8
    '"\\u2028"',
    '"\u2028"',
    '"\\u007f"',
    '"\u007f"',
    '"\\u0001"',
    '"\\/"',
    '"\\n"',
    '"\\ud800"',
    '"\\ud83d\\ude00"',
    '"😀"',
    '"\\"\\\\"',
    '"\t"',
    // keys: UTF-16 order (U+E000 sorts after a surrogate pair), duplicates, escapes
    '{"a":1,"b":2}',
    '{"b":2,"a":1}',
    '{"a":1,"a":2}',
    '{"\uE000":1,"😀":2}',
    '{"😀":2,"\uE000":1}',
    '{"\\u0061":1}',
    '{"__proto__":1}',
    '{"aa":1,"a":2}',
    '{"a":1,"aa":2}',
    // structure
    '[]',
    '{}',
    '[1,2]',
    '[1, 2]',
    '{"a" :1}',
    'true',
    'nul',
    '[[[[[]]]]]',
  ];
  let fast = 0;
  for (const c of cases) if (agree(line(base(c)))) fast++;
  assert.ok(fast > 10, 'the fast path decides the plain cases');
  // Invalid UTF-8 and CESU-8 surrogates: the reference sees U+FFFD, never canonical.
  for (const bytes of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe0, 0x80, 0x80], [0xff]]) {
    const l = seal(Buffer.concat([Buffer.from(`{"event":"`), Buffer.from(bytes), Buffer.from(`","prev":"${PREV}","seq":3`)]));
    assert.equal(agree(l), false);
  }
  // A "hash" in the body, seq that is not a safe integer, a truncated body.
  for (const l of [
    `{"hash":"x","prev":"${PREV}","seq":1}`,
    `{"prev":"${PREV}","seq":-1}`,
    `{"prev":"${PREV}","seq":1.5}`,
    `{"prev":"${PREV}","seq":9007199254740993}`,
    `{"prev":"${'AB'.repeat(32)}","seq":1}`,
    `{"seq":1}`,
    `{}`,
  ]) {
    assert.equal(agree(line(l)), false, l);
  }
  assert.equal(agree(Buffer.concat([line(`{"prev":"${PREV}","seq":1}`), Buffer.from('x')])), false);
});

const objects = jsonObjects({ strings: trickyString(['\uE000', '__proto__', 'hash', 'seq']), finite: true, maxKeys: 5 });

test('property: checkLine agrees with openLine on generated records, canonical or not', () => {
  fc.assert(
    fc.property(objects, fc.nat(1e6), fc.boolean(), (event, seq, sorted) => {
      const rec = { event, prev: PREV, seq, stream: 'audit' };
      let body: string;
      try {
        body = sorted ? jcs(rec) : JSON.stringify({ seq, event, prev: PREV });
      } catch {
        body = JSON.stringify(rec); // lone surrogates: the library refuses them
      }
      agree(line(body));
    }),
    { numRuns: 2000 },
  );
});

test('property: one byte of a canonical body changed (and sealed anew), sealedLine still agrees with openLine', () => {
  fc.assert(
    fc.property(objects, fc.nat(), fc.integer({ min: 0, max: 255 }), (event, at, byte) => {
      let body: string;
      try {
        body = jcs({ event, prev: PREV, seq: 5 });
      } catch {
        return;
      }
      const b = Buffer.from(body.slice(0, -1), 'utf8');
      b[at % b.length] = byte;
      agree(seal(b));
    }),
    { numRuns: 3000 },
  );
});

test('a hash member that is not the hash, or a broken suffix, is never passed', () => {
  const good = line(jcs({ prev: PREV, seq: 1, x: 'y' }));
  assert.equal(agree(good), true);
  for (const [at, byte] of [
    [good.length - 3, 0x30],
    [good.length - 3, 0x41],
    [good.length - 1, 0x20],
    [good.length - 2, 0x27],
    [good.length - 70, 0x3b],
  ] as const) {
    const bad = Buffer.from(good);
    bad[at] = bad[at] === byte ? byte + 1 : byte;
    assert.equal(sealedLine(bad, new Uint8Array(32), noSpans()), -1, `byte ${at} changed`);
  }
});
