import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { loadConfig } from '../../src/config.js';
import { type ByteSink, jcs, jcsFromText } from '../../src/crypto/canonical.js';
import { createPseudonymizer } from '../../src/crypto/pseudonym.js';
import { classifierFor, createFront } from '../../src/front/front.js';
import { loadNative } from '../../src/native.js';
import { createRedactor } from '../../src/redact/redactor.js';
import { parse } from '../../src/stages/parse.js';
import { createSanitizer } from '../../src/stages/sanitize.js';
import { serialize } from '../../src/stages/serialize.js';
import type { RawLine } from '../../src/types.js';

// jcsFromText (the addon's native/jcs.c) writes the RFC 8785 form of a JSON text without
// parsing it into objects: whatever the text, its bytes equal the reference library's
// jcs(JSON.parse(text)), or it declines and the caller walks the parsed object instead.
const built = typeof loadNative().native?.jcsFromJson === 'function';
const skip = !built && 'the addon is not built';
const RUNS = Number(process.env.SEALOG_FUZZ_RUNS ?? 300) * 10;

/** Canonical text of a JSON text by the addon, or undefined when it declines; from a small buffer, so it must grow it. */
function native(text: string, at = 3): string | undefined {
  const w: ByteSink = { buf: Buffer.alloc(at + 1, 0x78), pos: at };
  if (!jcsFromText(w, Buffer.from(text, 'utf8'))) {
    assert.equal(w.pos, at, 'a decline leaves the sink as it was');
    return undefined;
  }
  assert.equal(w.buf.toString('latin1', 0, at), 'xxx', 'what was before pos is kept');
  return w.buf.toString('utf8', at, w.pos);
}

/** The reference: jcs(JSON.parse(text)); undefined where it has none (not JSON, 1e400 parses to Infinity). */
function reference(text: string): string | undefined {
  try {
    return jcs(JSON.parse(text));
  } catch {
    return undefined;
  }
}

// JSON texts as producers write them, and as they may: whitespace anywhere, every escape in
// upper and lower case hex, characters of every UTF-8 length (U+E000 and above against astral
// ones order differently in UTF-16), numbers of every shape, duplicate keys, nesting.
const space = fc.constantFrom('', '', '', ' ', '\n', '\t', '\r\n  ');
const hex4 = (u: number, upper: boolean) => {
  const h = u.toString(16).padStart(4, '0');
  return `\\u${upper ? h.toUpperCase() : h}`;
};
// Lone surrogates (declined) and long numbers (mostly declined) now and then, so most texts pass.
const codeUnit = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 0x1f }), weight: 3 },
  { arbitrary: fc.constantFrom(0x22, 0x2f, 0x5c, 0x41, 0x7f, 0xe9, 0x2028, 0xe000, 0xfeff, 0xffff), weight: 3 },
  { arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }), weight: 1 },
  { arbitrary: fc.integer({ min: 0x20, max: 0x7e }), weight: 6 },
  { arbitrary: fc.integer({ min: 0, max: 0xffff }), weight: 3 },
);
const piece = fc.oneof(
  fc.constantFrom('a', 'Z', '0', ' ', '~', '\u007f', 'é', '\u0800', '\u2028', '\ud7ff', '\ue000', '\uffff', '😀', '\u{10000}', '\u{10ffff}'),
  fc.constantFrom('\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t'),
  fc.tuple(codeUnit, fc.boolean()).map(([u, upper]) => hex4(u, upper)),
  // A surrogate pair as escapes, and a high surrogate escape before another escape or a character.
  fc.tuple(fc.integer({ min: 0x10000, max: 0x10ffff }), fc.boolean()).map(([cp, upper]) => {
    const s = String.fromCodePoint(cp);
    return hex4(s.charCodeAt(0), upper) + hex4(s.charCodeAt(1), upper);
  }),
  fc.string({ unit: 'grapheme', maxLength: 6 }).map((s) => JSON.stringify(s).slice(1, -1)),
  fc.constantFrom('password=hunter22', 'AKIAIOSFODNN7EXAMPLE', 'john@example.com'),
);
const stringText = fc.array(piece, { maxLength: 6 }).map((ps) => `"${ps.join('')}"`);
const digitsUpTo = (min: number, max: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(''));
const digits = (min: number, max: number) => fc.oneof({ arbitrary: digitsUpTo(min, 7), weight: 4 }, { arbitrary: digitsUpTo(min, max), weight: 1 });
const numberText = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('', '-'),
      fc.oneof(
        fc.constant('0'),
        fc.tuple(fc.integer({ min: 1, max: 9 }), digits(0, 24)).map(([a, b]) => `${a}${b}`),
      ),
      fc.option(
        digits(1, 20).map((d) => `.${d}`),
        { nil: '' },
      ),
      fc.option(
        fc
          .tuple(
            fc.constantFrom('e', 'E'),
            fc.constantFrom('', '+', '-'),
            fc.oneof({ arbitrary: digitsUpTo(1, 2), weight: 4 }, { arbitrary: digitsUpTo(1, 4), weight: 1 }),
          )
          .map((e) => e.join('')),
        { nil: '' },
      ),
    )
    .map((p) => p.join('')),
  fc.constantFrom(
    ...['1e21', '1e20', '5e-7', '1e-7', '0.000001', '-0', '-0.0e5', '0.1', '0.30000000000000004', '100', '1E2', '1.50', '123456789012345678901234567890'],
    ...['9007199254740991', '9007199254740992', '9007199254740993', '-9007199254740992', '1e400', '-1e400', '1e-400', '4.9e-324'],
    ...['2.2250738585072014e-308', '1.7976931348623157e308', '999999999999999', '999999999999999.9', '0.000001234', '1.23e-307', '9.99e307'],
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String), // mostly 17 digits: declined
  fc.integer().map(String),
  fc.integer({ min: -1e6, max: 1e6 }).map((n) => String(n / 1000)),
);
const keyText = fc.oneof(
  stringText,
  stringText,
  fc.constantFrom('"a"', '"b"', '"\\u0061"', '"10"', '"9"', '"__proto__"', '""', '"\\ue000"', '"😀"', '"\\ud83d\\ude00"', '"\\uffff"'),
);
const jsonText = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    numberText,
    stringText,
    fc.constantFrom('true', 'false', 'null'),
    fc.array(fc.tuple(space, tie('value'), space), { maxLength: 4 }).map((xs) => `[${xs.map((x) => x.join('')).join(',')}]`),
    tie('object'),
  ),
  object: fc
    .array(fc.tuple(space, keyText, space, space, tie('value'), space), { maxLength: 6 })
    .map((ms) => `{${ms.map(([s1, k, s2, s3, v, s4]) => `${s1}${k}${s2}:${s3}${v}${s4}`).join(',')}}`),
})).object;

test('the addon writes jcs(JSON.parse(text)) or declines, for any JSON text', { skip }, () => {
  let declined = 0;
  fc.assert(
    fc.property(space, jsonText, space, (before, text, after) => {
      const line = before + text + after;
      const got = native(line);
      const want = reference(line);
      if (got === undefined) declined++;
      else assert.equal(got, want);
      if (want === undefined) assert.equal(got, undefined, 'no canonical form (not JSON, Infinity, a lone surrogate): declined');
    }),
    { numRuns: RUNS },
  );
  // Lone surrogates, duplicate keys and 17-digit numbers are far more frequent here than in events
  // (about half the texts have one somewhere); the rest must be written, not declined.
  assert.ok(declined < RUNS * 0.67, `declined ${declined} of ${RUNS}`);
});

test('the addon on texts chosen for their canonical forms', { skip }, () => {
  const cases: [string, string][] = [
    [
      ' { "b" : [ 1 , 2.50 , 1E2 , -0 , 5e-7 , 1e21, 1e-7, 0.000001, 1e20, -0.0e5 ] , "a" : 0.1 } ',
      '{"a":0.1,"b":[1,2.5,100,0,5e-7,1e+21,1e-7,0.000001,100000000000000000000,0]}',
    ],
    ['{"10":1,"9":2,"a":3,"-1":4,"":5," ":6}', '{"":5," ":6,"-1":4,"10":1,"9":2,"a":3}'],
    ['{"\\uffff":1,"😀":2,"\\ue000":3,"\\ud83d\\ude01":4}', '{"😀":2,"😁":4,"\ue000":3,"\uffff":1}'],
    ['{"s":"\\u0000\\u001F\\"\\\\\\/\\u007f\\u2028\\u00E9\\b\\f\\n\\r\\t\\u0008"}', '{"s":"\\u0000\\u001f\\"\\\\/\u007f\u2028é\\b\\f\\n\\r\\t\\b"}'],
    ['{"a":{"d":[],"c":{}},"__proto__":{"x":null,"w":true}}', '{"__proto__":{"w":true,"x":null},"a":{"c":{},"d":[]}}'],
    [
      '{"n":[9007199254740992,-9007199254740991,99999999999999.9,1.23e-307,9.99e307,123e-20]}',
      '{"n":[9007199254740992,-9007199254740991,99999999999999.9,1.23e-307,9.99e+307,1.23e-18]}',
    ],
  ];
  for (const [text, canonical] of cases) {
    assert.equal(reference(text), canonical, 'the reference itself');
    assert.equal(native(text), canonical);
  }
  // Declined: what the addon cannot be sure of (duplicate keys, 16+ significant digits, subnormal or
  // overflowing numbers, nesting past its bound), what RFC 8785 cannot carry (lone surrogates),
  // and anything that is not one JSON text.
  const deep = `${'['.repeat(200)}${']'.repeat(200)}`;
  for (const text of [
    '{"a":1,"a":2}',
    '{"a":1,"b":0,"\\u0061":2}',
    '{"x":0.30000000000000004}',
    '{"x":9007199254740993}',
    '{"x":1e400}',
    '{"x":4.9e-324}',
    deep,
    '{"a":"\\ud800x"}',
    '{"a":"\\udc00"}',
    '{"\\ud83d":1}',
  ]) {
    assert.equal(native(text), undefined, text);
  }
  for (const text of [
    '',
    '{',
    '{"a":1}x',
    '{"a":01}',
    '{"a":1.}',
    '{"a":"\\x"}',
    '{"a":"\u0001"}',
    "{'a':1}",
    '{"a":1,}',
    '[1 2]',
    '{"a":tru}',
    '{"a":"\\ud83d',
  ]) {
    assert.equal(native(text), undefined, text);
  }
  // Not well-formed UTF-8 (overlong, a surrogate, cut short), which isUtf8 keeps from reaching it.
  for (const bytes of [
    [0xc0, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xe2, 0x82],
    [0xf5, 0x80, 0x80, 0x80],
  ]) {
    const text = Buffer.concat([Buffer.from('{"a":"'), Buffer.from(bytes), Buffer.from('"}')]);
    assert.equal(jcsFromText({ buf: Buffer.alloc(64), pos: 0 }, text), false);
  }
});

test('the addon with too little room says so, and writes nothing past the room it was given', { skip }, () => {
  const fromJson = loadNative().native!.jcsFromJson!;
  fc.assert(
    fc.property(jsonText, fc.nat(), (text, cut) => {
      const want = native(text);
      if (want === undefined) return;
      const src = Buffer.from(text, 'utf8');
      const room = cut % (Buffer.byteLength(want) * 2 + 2);
      const dst = Buffer.alloc(room + 16, 0x2a);
      const end = fromJson(src, 0, src.length, dst.subarray(0, room), 0);
      if (end === -2) assert.ok(room < Buffer.byteLength(want) * 2, 'full only while it could need more room');
      else assert.equal(dst.toString('utf8', 0, end), want);
      assert.equal(dst.toString('latin1', room), '*'.repeat(16));
    }),
    { numRuns: RUNS / 2 },
  );
});

test('an object of many keys in reverse order is sorted, and a duplicate among them found', { skip }, () => {
  const keys = Array.from({ length: 5000 }, (_, i) => `k${String(i).padStart(5, '0')}`).reverse();
  const text = `{${keys.map((k, i) => `"${k}":${i}`).join(',')}}`;
  assert.equal(native(text), reference(text));
  assert.equal(native(`${text.slice(0, -1)},"k02500":1}`), undefined);
});

// The front: an event sanitize and classify left alone is canonicalized from its line; any
// other (redacted, capped, cleaned, a dead letter) from its object. Both ways, the same bytes
// as the stages give with the object walk alone.
const cfg = loadConfig(undefined, { data: '/nonexistent' });
const KEY = Buffer.alloc(32, 7);
const sanitizeAlone = createSanitizer(
  { maxDepth: cfg.sanitize.max_depth, maxStringChars: cfg.sanitize.max_string_chars, maxItems: cfg.sanitize.max_items },
  createRedactor(cfg.redact, createPseudonymizer(KEY)),
);
const classifyAlone = classifierFor(cfg);

test('the front writes the same record bytes from the line as from the parsed event', { skip }, () => {
  const front = createFront(cfg, KEY);
  const lines = fc.oneof(
    jsonText,
    fc.constantFrom('{"card":4111111111111111}', '{"x":1e400}', '{"a":"\\u0001\\u001b[31m"}', '{"a":"\\ud800"}', '{"a":1,"a":2}', 'not json', '[1]'),
    fc.constantFrom(`{"d":${'['.repeat(40)}${']'.repeat(40)}}`, `{"password":"hunter2","token":"x"}`, '{"event_id":"e1","n":1}'),
  );
  fc.assert(
    fc.property(lines, (text) => {
      const raw: RawLine = { bytes: Buffer.from(text, 'utf8'), source: { kind: 'socket', conn: 1, line: 1 } };
      const got = front.run(raw);
      const want = serialize(classifyAlone(sanitizeAlone(parse(raw))), cfg.dedupe.enabled);
      assert.deepEqual(
        [got.buf.subarray(got.start, got.end).toString('utf8'), got.prev - got.start, got.mid - got.start, got.ts - got.start, got.end - got.start],
        [want.buf.subarray(want.start, want.end).toString('utf8'), want.prev - want.start, want.mid - want.start, want.ts - want.start, want.end - want.start],
      );
      assert.deepEqual(got.dedupe, want.dedupe);
      assert.deepEqual(got.rejected, want.rejected);
    }),
    { numRuns: RUNS / 2 },
  );
});
