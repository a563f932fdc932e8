import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { JsonArraySplitter } from '../../src/sources/jsonArraySplitter.js';
import { jsonObjects, trickyString } from '../helpers/arbitraries.js';

/** Frames `doc` fed in pieces of `size` bytes; returns the elements (parsed), their offsets, and where it broke. */
function frame(doc: Buffer, size: number, max = 1 << 20) {
  const s = new JsonArraySplitter(max, 16);
  const els = [];
  for (let i = 0; i < doc.length; i += size) els.push(...s.push(doc.subarray(i, i + size)));
  const broken = s.end();
  return { els, broken };
}

const elements = fc.array(
  fc.oneof(
    jsonObjects({ strings: trickyString(['[', ']', '{', '}', ',', '\\"]']), finite: true, maxKeys: 4 }),
    fc.integer(),
    fc.string(),
    fc.constant(null),
    fc.boolean(),
  ),
  { maxLength: 12 },
);

test('a .json array frames into exactly its elements, at their byte offsets, however it is cut into chunks', () => {
  fc.assert(
    fc.property(elements, fc.integer({ min: 1, max: 64 }), fc.constantFrom('', ' ', '\n  ', '\t'), (values, size, ws) => {
      const doc = Buffer.from(`${ws}[${ws}${values.map((v) => JSON.stringify(v)).join(`${ws},${ws}`)}${ws}]${ws}`);
      const { els, broken } = frame(doc, size);
      assert.equal(broken, undefined);
      assert.deepEqual(
        els.map((e) => JSON.parse(e.bytes.toString())),
        JSON.parse(doc.toString()),
      );
      for (const e of els) assert.ok(doc.subarray(e.offset).subarray(0, e.bytes.length).equals(e.bytes), 'offset points at the element');
    }),
  );
});

test('a single object is the one element; an element over the limit keeps its head, length and hash', () => {
  const { els, broken } = frame(Buffer.from(' {"a":[1,{"b":"}"}]}\n'), 3);
  assert.equal(broken, undefined);
  assert.deepEqual(
    els.map((e) => JSON.parse(e.bytes.toString())),
    [{ a: [1, { b: '}' }] }],
  );
  const big = JSON.stringify({ pad: 'x'.repeat(100) });
  const r = frame(Buffer.from(`[${big},{"n":2}]`), 7, 50);
  assert.equal(r.els[0]!.oversize!.length, big.length);
  assert.equal(r.els[0]!.bytes.toString(), big.slice(0, 16));
  assert.deepEqual(JSON.parse(r.els[1]!.bytes.toString()), { n: 2 });
});

test('where the array breaks, framing stops and says at which byte', () => {
  const cases: [string, number, number, RegExp][] = [
    ['[{"a":1} {"b":2}]', 1, 9, /expected , or \]/],
    ['[{"a":1},,{"b":2}]', 1, 9, /expected an element/],
    ['[{"a":1},]', 1, 9, /expected an element/],
    ['[{"a":1}] x', 1, 10, /after the end/],
    ['[{"a":1},{"b":', 1, 9, /ends before/],
    ['"text"', 0, 0, /one object or an array/],
    ['', 0, 0, /holds no JSON/],
  ];
  for (const [doc, n, offset, reason] of cases) {
    for (const size of [1, 4, 100]) {
      const { els, broken } = frame(Buffer.from(doc), size);
      assert.equal(els.length, n, `${doc}: elements before the break`);
      assert.deepEqual([broken?.offset, reason.test(broken?.reason ?? '')], [offset, true], `${doc} in pieces of ${size}: ${broken?.reason}`);
    }
  }
});
