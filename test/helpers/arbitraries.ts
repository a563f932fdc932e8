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
