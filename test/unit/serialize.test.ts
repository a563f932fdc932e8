import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { jcs } from '../../src/crypto/canonical.js';
import { createSanitizer } from '../../src/stages/sanitize.js';
import { createSealer } from '../../src/stages/seal.js';
import { serialize } from '../../src/stages/serialize.js';
import type { JsonObject } from '../../src/types.js';
import { jsonObjects, trickyString } from '../helpers/arbitraries.js';

const sanitize = createSanitizer({ maxDepth: 32, maxStringChars: 65536, maxItems: 10000 });
const objects = jsonObjects({ strings: trickyString(), finite: true, maxKeys: 5 });
// What classify may name a record: well-formed text, quotes, escapes and characters of 2 to 4 UTF-8 bytes.
const names = fc.oneof(
  fc.constantFrom('info', 'application', 'event', 'sealog.rejected'),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('"\\', 'é', '😀', '\u2028', 'a\tb'),
);

test('a packed and sealed record is the RFC 8785 form of its record, whatever its parts hold', () => {
  const seal = createSealer({ nextSeq: 7, prev: 'ab'.repeat(32) }, () => '2026-12-07T08:00:00.000000Z');
  fc.assert(
    fc.property(objects, fc.option(objects), names, names, names, (obj, meta, level, stream, type) => {
      const draft = sanitize({ source: { kind: 'socket', conn: 2 }, event: obj as JsonObject, redactions: [] });
      const m = meta === null ? undefined : sanitize({ source: { kind: 'socket' }, event: meta as JsonObject, redactions: [] }).event;
      const s = serialize({ ...draft, meta: m, level, stream, type }, true);
      const line = seal(s).line.toString('utf8');
      const { hash, ...record } = JSON.parse(line) as Record<string, unknown>;
      assert.match(String(hash), /^[0-9a-f]{64}$/);
      // The hash member is spliced in place of the closing brace; the rest is JCS.
      assert.equal(line, `${jcs(record).slice(0, -1)},"hash":"${String(hash)}"}\n`);
      assert.deepEqual([record.level, record.stream, record.type], [level, stream, type]);
    }),
    { numRuns: 1000 },
  );
});

test('level, stream and type stay right past the cache of their texts, and when too long for it', () => {
  const seal = createSealer({ nextSeq: 0, prev: '0'.repeat(64) }, () => '2026-12-07T08:00:00.000000Z');
  for (let i = 0; i < 1500; i++) {
    // Short ones (cached while there is room) and long ones (never cached).
    const name = i % 3 === 0 ? `t"${i}é${'x'.repeat(120 + i)}` : `t"${i}é`;
    const line = seal(
      serialize({ source: { kind: 'socket' }, event: { i }, redactions: [], level: name, stream: `s${name}`, type: name }, false),
    ).line.toString('utf8');
    const { hash, ...record } = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual([record.level, record.stream, record.type], [name, `s${name}`, name]);
    assert.equal(line, `${jcs(record).slice(0, -1)},"hash":"${String(hash)}"}\n`);
  }
});
