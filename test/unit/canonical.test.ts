import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { jcs, jcsFast } from '../../src/crypto/canonical.js';
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
