import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { loadConfig } from '../../src/config.js';
import { luhn } from '../../src/redact/checks.js';
import { createPseudonymizer } from '../../src/crypto/pseudonym.js';
import { createRedactor } from '../../src/redact/redactor.js';
import { createSanitizer } from '../../src/stages/sanitize.js';
import type { Draft, JsonObject, JsonValue } from '../../src/types.js';
import { trickyString } from '../helpers/arbitraries.js';

// Fuzzing within a time budget (STYLE practice 9): random events, with and without
// planted secrets and PII at random places.

const sanitize = createSanitizer(
  { maxDepth: 32, maxStringChars: 65536, maxItems: 10_000 },
  createRedactor(loadConfig(undefined).redact, createPseudonymizer(Buffer.alloc(32, 9))),
);
const draft = (event: JsonObject): Draft => ({ source: { kind: 'socket', conn: 1, line: 1 }, event, redactions: [] });
const RUNS = Number(process.env.SEALOG_FUZZ_RUNS ?? 300);

const chars = (alphabet: string, min: number, max = min) => fc.string({ unit: fc.constantFrom(...alphabet), minLength: min, maxLength: max });
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const ALNUM = `${UPPER}abcdefghijklmnopqrstuvwxyz0123456789`;
const HEX = '0123456789abcdef';

// Clean values: the kinds of things events are made of (ids, digests, versions, times, words).
const WORDS =
  'the agent plan step tool call result review approval validation risk category batch record audit trail data integrity retry timeout cache query document chunk score session'.split(
    ' ',
  );
const word = fc.constantFrom(...WORDS);
const clean: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.array(word, { minLength: 1, maxLength: 12 }).map((w) => w.join(' ')),
  fc.uuid(),
  fc.integer({ min: 1, max: 99999 }).map((n) => `req-${n}`),
  chars(HEX, 64).map((h) => `sha256:${h}`),
  chars(HEX, 40),
  fc.tuple(fc.nat(30), fc.nat(30), fc.nat(300)).map(([a, b, c]) => `v${a}.${b}.${c}`),
  fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.integer({ min: 1, max: 600_000 }).map((n) => `${n}ms`),
  fc.double({ min: 0, max: 1, noNaN: true }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);
const key = fc.constantFrom(
  'message',
  'agent_id',
  'correlation_id',
  'step',
  'payload',
  'context',
  'items',
  'result',
  'status',
  'duration_ms',
  'session_id',
  'detail',
);
const cleanEvent = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, clean, tie('object'), fc.array(tie('value'), { maxLength: 4 })),
  object: fc.dictionary(key, tie('value'), { maxKeys: 6 }),
})).object as fc.Arbitrary<JsonObject>;

// Planted values: [text to plant, the value that must not appear]. Random but well-formed.
const luhnFix = (body: string) => {
  for (let d = 0; d < 10; d++) if (luhn(`${body}${d}`)) return `${body}${d}`;
  throw new Error('unreachable');
};
const planted: fc.Arbitrary<[string, string]> = fc.oneof(
  chars(UPPER + '0123456789', 16)
    .map((s) => `AKIA${s}`)
    .map((v) => [v, v] as [string, string]),
  chars(ALNUM, 36)
    .map((s) => `ghp_${s}`)
    .map((v) => [v, v] as [string, string]),
  chars(ALNUM, 32)
    .map((s) => `sk-proj-${s}7`)
    .map((v) => [v, v] as [string, string]),
  chars(ALNUM, 24)
    .map((s) => `sk_live_${s}`)
    .map((v) => [v, v] as [string, string]),
  chars(ALNUM, 35)
    .map((s) => `AIza${s}`)
    .map((v) => [v, v] as [string, string]),
  chars(ALNUM, 20)
    .map((s) => `xoxb-1234567890-${s}`)
    .map((v) => [v, v] as [string, string]),
  fc
    .tuple(chars(ALNUM, 12, 30), chars(ALNUM, 12, 30), chars(ALNUM, 20, 40))
    .map(([a, b, c]) => `eyJ${a}.eyJ${b}.${c}`)
    .map((v) => [v, v] as [string, string]),
  chars(ALNUM, 20, 40).map((s) => [`Bearer ${s}`, s] as [string, string]),
  chars(ALNUM, 12, 24).map((s) => [`password=${s}`, s] as [string, string]),
  chars(ALNUM, 12, 24).map((s) => [`"client_secret": "${s}"`, s] as [string, string]),
  chars(ALNUM, 12, 24).map((s) => [`postgres://app:${s}@db.example.net/x`, s] as [string, string]),
  chars(ALNUM, 24, 64).map((s) => [`-----BEGIN EC PRIVATE KEY-----\n${s}\n-----END EC PRIVATE KEY-----`, s] as [string, string]),
  fc
    .tuple(chars('abcdefghijklmnopqrstuvwxyz', 6, 12), chars('abcdefghijklmnopqrstuvwxyz', 4, 10))
    .map(([l, d]) => `${l}.x@${d}.example.com`)
    .map((v) => [v, v] as [string, string]),
  chars('0123456789', 14)
    .map((s) => luhnFix(`4${s}`))
    .map((v) => [v, v] as [string, string]),
  chars('0123456789', 14)
    .map((s) => luhnFix(`4${s}`))
    .map((v) => [v.replace(/(\d{4})(?=\d)/g, '$1 '), v.replace(/(\d{4})(?=\d)/g, '$1 ')] as [string, string]),
  fc
    .tuple(fc.integer({ min: 100, max: 665 }), fc.integer({ min: 10, max: 99 }), fc.integer({ min: 1000, max: 9999 }))
    .map(([a, b, c]) => `${a}-${b}-${c}`)
    .map((v) => [v, v] as [string, string]),
  fc
    .tuple(fc.integer({ min: 200, max: 999 }), fc.integer({ min: 200, max: 999 }), fc.integer({ min: 1000, max: 9999 }))
    .map(([a, b, c]) => `(${a}) ${b}-${c}`)
    .map((v) => [v, v] as [string, string]),
  fc
    .tuple(fc.integer({ min: 1, max: 223 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 }))
    .filter(([a]) => a !== 127)
    .map((o) => o.join('.'))
    .map((v) => [v, v] as [string, string]),
);
// A planted value sits in free text with some separator around it, as in a message or a prompt.
const sep = fc.constantFrom(' ', '\n', ': ', ' (', ', ', '\t', ' "');
const text = fc.array(word, { maxLength: 6 }).map((w) => w.join(' '));

/** Puts `s` somewhere in the event: a new string at a random depth, inside an array or an object. */
function plant(event: JsonObject, s: string, path: number[]): JsonObject {
  let o: JsonObject = event;
  for (const p of path) {
    const k = `n${p}`;
    const next: JsonObject = {};
    o[k] = p % 2 === 0 ? next : [1, next, 'x'];
    o = next;
  }
  o.planted = s;
  return event;
}

test('random events with planted secrets and PII never leak them, and list each', () => {
  fc.assert(
    fc.property(
      cleanEvent,
      fc.array(fc.tuple(planted, text, sep, sep, text, fc.array(fc.nat(5), { maxLength: 6 })), { minLength: 1, maxLength: 4 }),
      (event, plants) => {
        const e = structuredClone(event);
        plants.forEach(([[s], before, s1, s2, after, path], i) => plant(e, `${before}${s1}${s}${s2}${after}`, [i, ...path]));
        const out = sanitize(draft(e));
        const seen = JSON.stringify([out.event, out.redactions]);
        for (const [[, v]] of plants) assert.ok(!seen.includes(v), `leaked ${v}: ${seen}`);
        assert.ok(out.redactions.filter((r) => r.kind.startsWith('secret:') || r.kind.startsWith('pii:')).length >= 1);
      },
    ),
    { numRuns: RUNS },
  );
});

test('random events without secrets come back as the same object, byte for byte', () => {
  fc.assert(
    fc.property(cleanEvent, (event) => {
      const before = JSON.stringify(event);
      const d = draft(event);
      const out = sanitize(d);
      assert.equal(out, d, `changed: ${JSON.stringify(out.redactions)}`);
      assert.equal(JSON.stringify(out.event), before);
    }),
    { numRuns: RUNS },
  );
});

test('pseudonyms: one key gives one pseudonym per value, another key another', () => {
  const other = createSanitizer(
    { maxDepth: 32, maxStringChars: 65536, maxItems: 10_000 },
    createRedactor(loadConfig(undefined).redact, createPseudonymizer(Buffer.alloc(32, 10))),
  );
  fc.assert(
    fc.property(chars('abcdefghijklmnopqrstuvwxyz', 3, 12), chars('abcdefghijklmnopqrstuvwxyz', 3, 12), (l, d) => {
      const email = `${l}@${d}.example.org`;
      const a1 = sanitize(draft({ email })).event.email;
      const a2 = sanitize(draft({ m: `from ${email.toUpperCase()}` })).event.m;
      const b = other(draft({ email })).event.email;
      assert.match(a1 as string, /^pii:email:[0-9a-f]{24}$/);
      assert.equal(a2, `from ${a1}`);
      assert.notEqual(b, a1);
    }),
    { numRuns: RUNS },
  );
});

// Sanitize's fast path: for most strings the scan's one pass also tells there is nothing to clean
// (no control character, no surrogate). A redactor that declines every string there sends each
// through the cleaning first: the same event and redactions must come out, in the same order.
test('sanitize gives the same result with the one-pass scan as with cleaning each string first', () => {
  const redactor = createRedactor(
    {
      ...loadConfig(undefined).redact,
      fields: [
        { path: 'event.n0.note', kind: 'pii:name' },
        { key: '^keep_me$', action: 'keep' },
        { key: '^vault$', action: 'remove' },
      ],
      patterns: [{ kind: 'secret:ticket', regex: 'TCK-[0-9]{6}' }],
    },
    createPseudonymizer(Buffer.alloc(32, 11)),
  );
  const limits = { maxDepth: 5, maxStringChars: 48, maxItems: 6 };
  const onePass = createSanitizer(limits, redactor);
  const cleanFirst = createSanitizer(limits, { ...redactor, scanIfClean: () => undefined });
  const piece = fc.oneof(
    planted.map(([s]) => s),
    text,
    sep,
    trickyString(['\u001b[31m', '\u0007', '\r', '\u009b', '\ud83d', '\ude00', '😀', 'TCK-123456', 'x'.repeat(40)]),
  );
  const str = fc.array(piece, { minLength: 1, maxLength: 5 }).map((p) => p.join(''));
  const anyKey = fc.oneof(key, fc.constantFrom('password', 'email', 'keep_me', 'vault', 'note', '__proto__', 'k\u001b', 'pwd=Zq7kWp2Lx9Rt'), str);
  const event = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, str, clean, tie('object'), fc.array(tie('value'), { maxLength: 8 })),
    object: fc.dictionary(anyKey, tie('value'), { maxKeys: 8 }),
  })).object as fc.Arbitrary<JsonObject>;
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom('n0', 'n1', 'msg', 'vault', 'keep_me'), event, { maxKeys: 5 }), (e) => {
      const a = onePass(draft(structuredClone(e) as JsonObject));
      const b = cleanFirst(draft(structuredClone(e) as JsonObject));
      assert.equal(JSON.stringify(a.event), JSON.stringify(b.event));
      assert.deepEqual(a.redactions, b.redactions);
    }),
    { numRuns: RUNS },
  );
});
