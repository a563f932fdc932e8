import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { jcs, jcsFast } from '../../src/crypto/canonical.js';
import { createSanitizer } from '../../src/stages/sanitize.js';
import type { JsonObject } from '../../src/types.js';

// The sealing hot path uses jcsFast; the reference RFC 8785 library must agree on
// everything sanitize lets through, or verify would (rightly) reject the lines.
const sanitize = createSanitizer({ maxDepth: 32, maxStringChars: 65536, maxItems: 10000 });
const tricky = fc.oneof(
  fc.string({ unit: 'binary' }), // any code points, including lone surrogates and controls
  fc.constantFrom('é', '\u2028', '😀', '\u0080', 'a\ud800', '"\\', '\u007f'),
);
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.double(), // includes NaN, ±Infinity, -0, tiny and huge magnitudes
    fc.integer(),
    fc.constantFrom(2 ** 53 + 2, 1e21, 1e-7, 0.1 + 0.2),
    tricky,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 5 }),
    tie('object'),
  ),
  object: fc.dictionary(fc.oneof(tricky, fc.string()), tie('value'), { maxKeys: 6 }),
}));

test('jcsFast equals the RFC 8785 reference on every sanitized event', () => {
  fc.assert(
    fc.property(json.object, (obj) => {
      const { event } = sanitize({ source: { kind: 'socket' }, event: obj as JsonObject, redactions: [] });
      assert.equal(jcsFast(event), jcs(event));
    }),
    { numRuns: 3000 },
  );
});
