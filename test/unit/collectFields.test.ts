import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acceptRecord, initialState } from '../../src/collect/chain.js';
import { topFields } from '../../src/collect/fields.js';
import { jcs } from '../../src/crypto/canonical.js';
import { leafHash } from '../../src/crypto/hash.js';

// The collector reads a canonical line's columns from its bytes (fields.ts); they must be
// what JSON.parse says, whatever the strings, nesting and order of members.

const SUFFIX_LEN = ',"hash":"'.length + 64 + '"}'.length;

function sealed(record: Record<string, unknown>): Buffer {
  const body = jcs(record);
  return Buffer.from(`${body.slice(0, -1)},"hash":"${leafHash(body).toString('hex')}"}`);
}

const tricky = ['plain', 'quote " and backslash \\ and \\" both', 'tab\there new\nline \u0001 \u007f', 'é 😀 \u2028 ünï', '}{][,:', ''];

test('topFields reads ts, stream, level, type and the event text as JSON.parse does', () => {
  let n = 0;
  for (const s of tricky)
    for (const event of [{ a: s, b: [1, -2.5e-7, { c: s, d: [] }], e: null, f: true }, s, [s, [s], {}], 12345678901234567000, null, undefined]) {
      const rec: Record<string, unknown> = {
        seq: n,
        ts: '2026-12-07T00:00:00.000001Z',
        stream: `st${s}`,
        level: s,
        type: `T${s}`,
        source: { kind: 'socket', peer: { s, n: [s] } },
        redactions: [{ path: s }],
        prev: '0'.repeat(64),
        zz: s,
      };
      if (event !== undefined) rec.event = event;
      const line = sealed(rec);
      const f = topFields(line, line.length - SUFFIX_LEN);
      const parsed = JSON.parse(line.toString('utf8')) as Record<string, unknown>;
      assert.equal(f.ts, parsed.ts);
      assert.equal(f.stream, parsed.stream);
      assert.equal(f.level, parsed.level);
      assert.equal(f.type, parsed.type);
      assert.deepEqual(JSON.parse(f.event.toString('utf8')), parsed.event ?? null, `event of ${line}`);
      n++;
    }
});

test('a member that is not a string reads as missing, and acceptRecord refuses it as before', () => {
  const line = sealed({ seq: 0, ts: '2026-12-07T00:00:00Z', stream: 5, level: 'info', type: 'T', prev: '0'.repeat(64) });
  const f = topFields(line, line.length - SUFFIX_LEN);
  assert.equal(f.stream, undefined);
  assert.equal(f.event.toString(), 'null');
  const r = acceptRecord('o', 0, line, undefined, initialState());
  assert.ok(!r.ok && /record stream is not a string/.test(r.reason));
});

test('acceptRecord stores the event with U+0000 escapes replaced, and the line as received', () => {
  const line = sealed({ seq: 0, ts: '2026-12-07T00:00:00Z', stream: 's', level: 'info', type: 'T', event: { x: 'a\u0000b' }, prev: '0'.repeat(64) });
  const r = acceptRecord('o', 0, line, undefined, initialState());
  assert.ok(r.ok);
  assert.equal(r.row.event.toString(), '{"x":"a\\ufffdb"}');
  assert.ok(r.row.line.equals(line));
  assert.equal(r.row.hash, line.toString().slice(-66, -2));
});
