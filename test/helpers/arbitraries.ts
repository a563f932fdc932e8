import fc from 'fast-check';

/** Strings that trip canonical JSON: any code points (lone surrogates, controls), escapes, line separators. */
export const trickyString = (extra: string[] = []) =>
  fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('é', '\u2028', '😀', '\u0080', 'a\ud800', '"\\', '\u007f', ...extra));

/**
 * JSON-ish objects for property tests of canonical forms: numbers at the edges of
 * ES number serialization, tricky strings as keys and values, nesting.
 * finite: no NaN or ±Infinity (what JSON itself can carry).
 */
export function jsonObjects({ strings, finite, maxKeys }: { strings: fc.Arbitrary<string>; finite: boolean; maxKeys: number }) {
  return fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      finite ? fc.double({ noNaN: true, noDefaultInfinity: true }) : fc.double(),
      fc.integer(),
      fc.constantFrom(2 ** 53 + 2, 1e21, 1e-7, 0.1 + 0.2, -0),
      strings,
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: maxKeys - 1 }),
      tie('object'),
    ),
    object: fc.dictionary(fc.oneof(strings, fc.string()), tie('value'), { maxKeys }),
  })).object;
}

/**
 * Pieces of what detectors look for: keywords with their separators, value openers, prefixes
 * of tokens, digit groups, address parts, quotes and escapes. Repeated, they are the inputs that
 * make a backtracking scanner rescan (a candidate at every few characters, each running long).
 */
export const ATTACK_SEEDS = [
  'pwd=${',
  'pwd=<',
  'pwd=‹',
  'ssn=${',
  'first_name:${',
  'password="',
  "api_key='",
  'token=',
  'secret: ',
  'passport_no=',
  'Authorization: Bearer ',
  'authorization=',
  'Bearer ',
  'bearer ',
  'eyJ',
  'eyJhbGciOiJIUzI1.',
  'sk-',
  'sk-ant-',
  'AKIA',
  'ghp_',
  'github_pat_',
  'xoxb-',
  'sk_live_',
  'whsec_',
  'AIza',
  'GOCSPX-',
  'ya29.',
  '-----BEGIN PRIVATE KEY-----',
  '-----BEGIN ',
  'https://hooks.slack.com/services/',
  'a@',
  'a.b@c.',
  '@a.',
  'x://u:p',
  'pg://a:',
  '123-45-',
  '4111 1111 ',
  '41111111',
  '+1 ',
  '(415) ',
  '415.555.',
  '020 7946 ',
  '1.2.3.',
  '10.0.0',
  'a:b:',
  '::',
  'fe80::',
  '\\"',
  '\\',
  '"',
  "'",
  ' ',
  '=',
  ':',
  '\u001b[',
  '\u001b]',
  '[REDACTED',
  'null',
  'x',
  '*',
  '0',
  'a',
  '-',
  '.',
  '_',
];

/** How to build one hostile string: `prefix + pump × n + suffix`, about `length` characters long. */
export interface Pumped {
  prefix: string;
  pump: string;
  suffix: string;
  length: number;
}
export const buildPumped = ({ prefix, pump, suffix, length }: Pumped) => prefix + pump.repeat(Math.ceil(length / pump.length)) + suffix;

/**
 * Recipes of hostile strings, as ReDoS attack strings are built: a prefix, then a pump (one to
 * three seeds and a little random text) repeated, then a suffix. Recipes, not the strings, so a
 * counterexample prints in a line.
 */
export function pumped({ minLength, maxLength }: { minLength: number; maxLength: number }): fc.Arbitrary<Pumped> {
  const seed = fc.constantFrom(...ATTACK_SEEDS);
  const bit = fc.oneof(seed, fc.string({ maxLength: 3 }));
  return fc.record({
    prefix: fc.array(bit, { maxLength: 3 }).map((a) => a.join('')),
    pump: fc
      .array(bit, { minLength: 1, maxLength: 3 })
      .map((a) => a.join(''))
      .filter((p) => p.length > 0),
    suffix: fc.oneof(fc.constantFrom('', '}', '>', '"', "'", '\n', '@example.com'), seed),
    length: fc.integer({ min: minLength, max: maxLength }),
  });
}
