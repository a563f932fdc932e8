import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { loadConfig } from '../../src/config.js';
import { createPseudonymizer } from '../../src/crypto/pseudonym.js';
import { DETECTORS } from '../../src/redact/detectors.js';
import { compilePrefilter, UNCLEAN } from '../../src/redact/prefilter.js';
import { createRedactor } from '../../src/redact/redactor.js';
import { ATTACK_SEEDS } from '../helpers/arbitraries.js';

// The prefilter only spares work: every string scans to the same text, with the same hits, as
// with every detector run on it. Strings are built from the planted corpus, the attack seeds,
// ordinary words and random text, cut and joined at random places.

const FIXTURES = resolve(import.meta.dirname, '../../../test/fixtures');
const read = (f: string) => readFileSync(join(FIXTURES, f), 'utf8');
const corpus = [
  ...read('planted.jsonl').trim().split('\n'),
  ...read('planted.invalid.txt').trim().split('\n'),
  ...read('event-shapes.jsonl').trim().split('\n'),
];
const values = (JSON.parse(read('planted.values.json')) as { value: string }[]).map((v) => v.value);
const cfg = loadConfig(undefined).redact;
const pseudonymize = createPseudonymizer(Buffer.alloc(32, 3));
const withPrefilter = createRedactor(cfg, pseudonymize).scan;
const everything = createRedactor(cfg, pseudonymize, { noPrefilter: true }).scan;
const RUNS = Number(process.env.SEALOG_FUZZ_RUNS ?? 300) * 10;
const prefilter = compilePrefilter(DETECTORS);
/** The detectors the prefilter lets run on a string, by name. */
const gated = (s: string) => DETECTORS.filter((_, i) => prefilter(s) & (1 << i)).map((d) => d.name);

function both(s: string): [string, string[], string, string[]] {
  const a: string[] = [];
  const b: string[] = [];
  return [withPrefilter(s, (k) => a.push(k)), a, everything(s, (k) => b.push(k)), b];
}

// Near-misses of the gates: groups of digits joined by the separators numbers use (and by some
// they do not), and every detector's keywords in random case, some cut short by a character.
const digitGroups = fc
  .array(fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 7 }), { minLength: 1, maxLength: 6 })
  .chain((groups) =>
    fc
      .array(fc.constantFrom('', ' ', '-', '.', '(', ')', '+', ') ', ' (', '--', ':', '/', 'é', 'a', '_', 'x-', 'c ', ' b'), {
        minLength: groups.length,
        maxLength: groups.length,
      })
      .map((seps) => groups.map((g, i) => seps[i] + g).join('')),
  );
const keyword = fc
  .tuple(fc.constantFrom(...DETECTORS.flatMap((d) => d.keywords ?? [])), fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), fc.nat(3))
  .map(([w, up, cut]) => [...w.slice(0, Math.max(1, w.length - (cut === 3 ? 1 : 0)))].map((c, i) => (up[i] ? c.toUpperCase() : c.toLowerCase())).join(''));

const piece = fc.oneof(
  digitGroups,
  keyword,
  fc.constantFrom('é', '\u00a0', '٣', '@', ':', '::', '='),
  fc.constantFrom(...values, ...ATTACK_SEEDS, ' ', ', ', '\n', ': ', '=', '"', 'the plan', 'Bearer ', '+1 ', 'user@', '.example.com'),
  fc.constantFrom(...corpus).chain((l) => fc.tuple(fc.nat(l.length), fc.nat(80)).map(([i, n]) => l.slice(i, i + n))),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: fc.constantFrom(...'0123456789 .-()+:'), maxLength: 24 }),
  fc.string({ unit: fc.constantFrom(...'abcdefABCDEF0123456789_-./+='), maxLength: 40 }),
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.')),
  fc
    .array(
      fc.nat(0xffff).map((n) => n.toString(16)),
      { minLength: 2, maxLength: 8 },
    )
    .chain((g) => fc.constantFrom(g.join(':'), g.join('::'), `::${g.join(':')}`)),
);

test('the prefilter changes no result: scanned with it or with every detector, a string comes out the same with the same hits', () => {
  fc.assert(
    fc.property(fc.array(piece, { minLength: 1, maxLength: 8 }), (pieces) => {
      const s = pieces.join('');
      const [a, ka, b, kb] = both(s);
      assert.equal(a, b, `${gated(s).join(',')} run on ${JSON.stringify(s)}`);
      assert.deepEqual(ka, kb);
    }),
    { numRuns: RUNS },
  );
});

test('every planted line and value is found with the prefilter as without it', () => {
  for (const s of [...corpus, ...values]) {
    const [a, , b] = both(s);
    assert.equal(a, b, s);
  }
});

test('every key word of the key=value detectors passes the prefilter, in any case', () => {
  const words = [
    'password',
    'passwd',
    'passphrase',
    'pwd',
    'secret',
    'secret_key',
    'secret-access-key',
    'api_key',
    'apikey',
    'access_key',
    'private-key',
    'auth_key',
    'token',
    'credential',
    'credentials',
    'cookie',
    'cookies',
    'full_name',
    'firstname',
    'last-name',
    'given_name',
    'family_name',
    'middle_name',
    'maiden_name',
    'legal_name',
    'customer_name',
    'patient_name',
    'employee_name',
    'contact_name',
    'cardholder_name',
    'surname',
    'passport',
    'passport_no',
    'passport-number',
    'national_id',
    'tax_id',
    'ssn',
    'Authorization',
    'Proxy-Authorization',
  ];
  fc.assert(
    fc.property(fc.constantFrom(...words), fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), fc.constantFrom('=', ': ', '":"'), (w, up, sep) => {
      const word = [...w].map((c, i) => (up[i] ? c.toUpperCase() : c.toLowerCase())).join('');
      const s = `${word}${sep}Zq7kWp2Lx9Rt4Mn8`;
      assert.ok(prefilter(s) !== 0, s);
      assert.ok(!withPrefilter(s, () => {}).includes('Zq7kWp2Lx9Rt4Mn8'), `${s} is redacted`);
    }),
    { numRuns: 500 },
  );
});

test('the shortest match of each family passes the prefilter (the thresholds are not one too high)', () => {
  const shortest = [
    '1.2.3.4',
    '01 234 567',
    '+1 2345 678',
    '123-45-6789',
    '4111111111111111',
    'xoxb-1234567890',
    'a@b.cc',
    'fe80::1',
    '-----BEGIN PRIVATE KEY-----',
    'pwd=abc',
    'tax_id: X1',
    'AKIA1234567890ABCDEF',
  ];
  for (const s of shortest)
    assert.notEqual(
      withPrefilter(s, () => {}),
      s,
      `${s} is redacted`,
    );
});

test('timestamps, dates, durations, versions and ids reach no regex; a key word with `:` or `=` reaches its detectors', () => {
  for (const s of [
    '2025-06-12T08:00:00.242Z',
    '2025-06-12T08:00:00+05:30',
    '2025-06-12 08:00:00',
    'the agent plan step',
    'took 00:01:23.456',
    'ratio=0.25',
    'req-12345',
    'app.llm.client:42',
    '34e136a9-c529-43a0-adc5-aea7228f4e9f',
    '906598c6-1838-4657-a765-8331c0071f7b',
    'v1.2.3.4',
    'call_1eccd5f0c2344bf60a3c031',
    'gpt-4.1-mini',
    'v1.22.333',
    'URS-1234',
    'prompt tokens',
  ])
    assert.deepEqual(gated(s), [], s);
  assert.deepEqual(gated('password=x'), ['secret_assignment']);
  assert.deepEqual(gated('Bearer abc'), ['bearer_token']);
  assert.deepEqual(gated('call 415-555-2671'), ['ssn', 'card', 'phone']);
  assert.deepEqual(gated('+12025550123'), ['phone']);
  assert.deepEqual(gated('from 10.1.2.3'), ['ip']);
  assert.deepEqual(gated('fe80::1 and user@example.com'), ['email', 'ipv6']);
});

test('every built-in detector has a gate: no detector runs on every string', () => {
  for (const d of DETECTORS) assert.ok(d.keywords !== undefined || d.needs !== undefined, d.name);
  assert.equal(prefilter('x'.repeat(40)), 0);
});

test('the pass marks UNCLEAN exactly the strings with a character sanitize cleans, or a surrogate', () => {
  // sanitize.ts's CONTROL, and the surrogates (a lone one is replaced; a pair is only checked).
  const cleans = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ud800-\udfff]/;
  for (let c = 0; c <= 0xffff; c++) {
    const ch = String.fromCharCode(c);
    for (const s of [ch, `password=${ch}Zq7kWp2Lx9Rt4Mn8`, `call 415-555-2671${ch}`])
      assert.equal((prefilter(s) & UNCLEAN) !== 0, cleans.test(ch), `U+${c.toString(16)} in ${JSON.stringify(s)}`);
  }
  assert.equal(prefilter('x'.repeat(40)) & UNCLEAN, 0);
});
