import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cachedShapes, jcs, jcsFast, jcsInto } from '../../src/crypto/canonical.js';
import { createSanitizer } from '../../src/stages/sanitize.js';
import type { JsonObject } from '../../src/types.js';
import { jsonObjects, trickyString } from '../helpers/arbitraries.js';

// The sealing hot path uses jcsFast; the reference RFC 8785 library must agree on
// everything sanitize lets through, or verify would (rightly) reject the lines.
const sanitize = createSanitizer({ maxDepth: 32, maxStringChars: 65536, maxItems: 10000 });
// Any double here, NaN and ±Infinity too: sanitize turns those into what JSON can carry.
const objects = jsonObjects({ strings: trickyString(), finite: false, maxKeys: 6 });

test('jcsFast equals the RFC 8785 reference on every sanitized event', () => {
  fc.assert(
    fc.property(objects, (obj) => {
      const { event } = sanitize({ source: { kind: 'socket' }, event: obj as JsonObject, redactions: [] });
      assert.equal(jcsFast(event), jcs(event));
    }),
    { numRuns: 3000 },
  );
});

// Keys and strings from characters whose orders disagree: digits (V8 lists integer-like keys
// first, in numeric order), characters sorting before digits, and BMP characters above the
// surrogates against characters past the BMP (UTF-16 code units order them the other way round).
const edgeChars = fc.constantFrom('0', '1', '9', '-', ' ', '!', 'a', 'é', '\u007f', '\ud7ff', '\ue000', '\uffff', '\u{10000}', '😀', '"', '\\', '\n');
const edgeText = fc.array(edgeChars, { maxLength: 4 }).map((cs) => cs.join(''));
const edgeKey = fc.oneof(edgeText, fc.nat().map(String), fc.constantFrom('__proto__', '4294967295', '4294967294', '01', '-0'));
const edgeNumber = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-0, 1e21, 1e-7, 5e-7, 999999999999999900000, 2 ** 53 + 2, Number.MIN_VALUE, -Number.MAX_VALUE, 0.1 + 0.2),
);
const edgeValues = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    edgeNumber,
    edgeText,
    fc.string({ unit: 'grapheme' }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    tie('object'),
  ),
  object: fc.dictionary(edgeKey, tie('value'), { maxKeys: 6 }),
})).object;

test('jcsFast equals the RFC 8785 reference on keys and numbers whose orders and forms disagree', () => {
  fc.assert(
    fc.property(edgeValues, (obj) => {
      // Through JSON text, as events arrive: `__proto__` is then an own key.
      const event = JSON.parse(JSON.stringify(obj)) as JsonObject;
      assert.equal(jcsFast(event), jcs(event));
    }),
    { numRuns: 3000 },
  );
});

test('jcsFast on values chosen for their canonical forms', () => {
  const cases: [unknown, string][] = [
    [{ b: -0, a: 1e21, c: 5e-7, d: 1e-7, e: 123456789012345680000 }, '{"a":1e+21,"b":0,"c":5e-7,"d":1e-7,"e":123456789012345680000}'],
    [JSON.parse('{"10":1,"9":2,"a":3,"-1":4,"":5," ":6}'), '{"":5," ":6,"-1":4,"10":1,"9":2,"a":3}'],
    [{ '\uffff': 1, '😀': 2, '\ue000': 3 }, '{"😀":2,"\ue000":3,"\uffff":1}'],
    [JSON.parse('{"__proto__":{"x":1},"a":[]}'), '{"__proto__":{"x":1},"a":[]}'],
    [{ s: '\u0000\u001f"\\/\u007f\u2028é😀' }, '{"s":"\\u0000\\u001f\\"\\\\/\u007f\u2028é😀"}'],
  ];
  for (const [value, text] of cases) {
    assert.equal(jcs(value), text, 'the reference itself');
    assert.equal(jcsFast(value), text);
  }
});

test('jcsFast past its buffer, on what JSON.stringify would handle, and after it throws', () => {
  const long = 'a'.repeat(300_000);
  const cases: unknown[] = [
    { long, wide: `${long}é`, escaped: `${long}\n"` }, // grows the buffer, falls back to JSON.stringify late
    { a: undefined, b: [undefined, 1], c: new Date(0) }, // members skipped, array holes as null, toJSON
    { small: 'after a big one' }, // the buffer given back
  ];
  for (const value of cases) assert.equal(jcsFast(value), jcs(value));
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, () => 1, 1n, Symbol('s')]) {
    assert.throws(() => jcsFast([1, { bad }]), TypeError);
    assert.equal(jcsFast({ b: 2, a: 1 }), '{"a":1,"b":2}', 'nothing left over from the failed call');
  }
  assert.throws(() => jcsFast(undefined), TypeError);
});

test('jcsFast writes every UTF-16 code unit as JSON.stringify does, lone surrogates too, after ASCII or not', () => {
  for (let c = 0; c <= 0xffff; c++) {
    const ch = String.fromCharCode(c);
    for (const s of [ch, `a${ch}`, `é${ch}z`]) assert.equal(jcsFast(s), JSON.stringify(s), `U+${c.toString(16)}`);
  }
  for (const s of ['😀', '\u{10ffff}', '\u{10000}', '\ud83d\ude00\ud83d', '\ude00\ud83d', 'x\udbff\udfff', '\ud800\ud800\udc00']) {
    assert.equal(jcsFast(s), JSON.stringify(s));
    assert.equal(jcsFast({ [s]: s }), `{${JSON.stringify(s)}:${JSON.stringify(s)}}`);
  }
});

test('jcsFast on integers at the edges of its digit path and on numbers past it', () => {
  const xs = [0, -0, 1, -1, 9, 10, -10, 99, 100, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 1e15, 1e21, 0.5, -1.5e-7];
  for (const x of xs) assert.equal(jcsFast([x, { x }]), jcs([x, { x }]), String(x));
  fc.assert(fc.property(fc.integer({ min: -(2 ** 33), max: 2 ** 33 }), (x) => jcsFast(x) === String(x)));
});

// Keys from a small pool, so shapes repeat, share first keys, lengths and prefixes, and
// differ only in order; integer-like keys (which V8 lists first) and ones past the cache's
// limits on key length and count. More shapes than the cache keeps, so it is emptied too.
const poolKey = fc.constantFrom('a', 'b', 'ab', 'ba', 'aa', 'a\u0000', 'é', '😀', '\ue000', '1', '10', '9', '__proto__', 'x'.repeat(64), 'x'.repeat(65));
const shapedObject = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.integer(), fc.string(), fc.constant(undefined), tie('object')),
  object: fc.oneof(
    fc.dictionary(poolKey, tie('value'), { maxKeys: 8 }),
    fc.dictionary(fc.string({ maxLength: 3 }), tie('value'), { maxKeys: 40 }),
    fc.array(fc.nat(200), { maxLength: 3 }).map((ns) => Object.fromEntries(ns.map((n) => [`k${n}`, n]))),
  ),
})).object;

test('cached object shapes give the bytes the reference gives, also after the cache is emptied', () => {
  fc.assert(
    fc.property(fc.array(shapedObject, { minLength: 1, maxLength: 20 }), (objs) => {
      for (const o of objs) {
        // Through JSON text for an own `__proto__`; the object itself for undefined members.
        const parsed = JSON.parse(JSON.stringify(o)) as JsonObject;
        assert.equal(jcsFast(parsed), jcs(parsed));
        assert.equal(jcsFast(o), jcs(o));
      }
    }),
    { numRuns: 2000 },
  );
});

test('the shape cache stays bounded however many shapes come, and is right for each again after', () => {
  const many = Array.from({ length: 5000 }, (_, i) => ({ [`k${i}`]: i, [`k${i % 7}`]: 'x', first: i % 3 }));
  for (let round = 0; round < 2; round++) {
    for (const o of many) assert.equal(jcsFast(o), jcs(o));
    assert.ok(cachedShapes() <= 256, `${cachedShapes()} shapes cached`);
  }
  // One first key in many shapes.
  for (let i = 0; i < 100; i++) {
    const o = { same: 1, [`v${i}`]: i };
    assert.equal(jcsFast(o), jcs(o));
  }
  assert.ok(cachedShapes() <= 256);
});

test('jcsInto appends to a sink, growing it, and leaves it where it was when it throws; a toJSON may serialize meanwhile', () => {
  const w = { buf: Buffer.from('head'), pos: 4 };
  const inner = { toJSON: () => jcsFast({ z: [1, 'é'], a: 'x'.repeat(70_000) }) };
  const value = { b: inner, a: 'ü'.repeat(50_000) };
  jcsInto(w, value);
  const expected = `head${jcs({ a: value.a, b: jcsFast({ z: [1, 'é'], a: 'x'.repeat(70_000) }) })}`;
  assert.equal(w.buf.toString('utf8', 0, w.pos), expected);
  const pos = w.pos;
  assert.throws(() => jcsInto(w, { a: 'x'.repeat(200_000), b: Number.NaN }), TypeError);
  assert.equal(w.pos, pos);
  assert.equal(w.buf.toString('utf8', 0, w.pos), expected);
});
