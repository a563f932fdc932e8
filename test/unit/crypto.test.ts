import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { mth } from '../helpers/mth.js';
import { leafHash, leafHashHexInto, nodeHash, sha256 } from '../../src/crypto/hash.js';
import { loadNative } from '../../src/native.js';
import { generateKeys, parseSignerKey, parseVerifierKey } from '../../src/crypto/keys.js';
import { CompactTree } from '../../src/crypto/merkle.js';
import { noteSignedBy, parseNote, signNote } from '../../src/crypto/note.js';
import { openCheckpoint, signCheckpoint } from '../../src/store/checkpoint.js';

test('the compact tree root equals RFC 9162 MTH for every size up to 70', () => {
  const leaves = Array.from({ length: 70 }, (_, i) => leafHash(`leaf ${i}`));
  const t = new CompactTree();
  assert.deepEqual(t.root(), mth([]));
  for (let i = 0; i < leaves.length; i++) {
    t.append(leaves[i]!);
    assert.deepEqual(t.root(), mth(leaves.slice(0, i + 1)), `size ${i + 1}`);
  }
  const resumed = new CompactTree(t.size, t.peaks.slice());
  resumed.append(leafHash('next'));
  t.append(leafHash('next'));
  assert.deepEqual(resumed.root(), t.root());
});

test('appendRange over packed leaf hashes (a verify thread result) builds the same tree, run by run', () => {
  const leaves = Array.from({ length: 70 }, (_, i) => Buffer.from(leafHash(`leaf ${i}`)));
  // Packed at a non-zero offset of a larger buffer, as a view into a transferred one can be.
  const backing = new Uint8Array(8 + 70 * 32);
  const packed = backing.subarray(8);
  leaves.forEach((l, i) => packed.set(l, i * 32));
  const t = new CompactTree();
  for (const [from, to] of [
    [0, 5],
    [5, 6],
    [6, 6],
    [6, 37],
    [37, 64],
    [64, 70],
  ] as const) {
    t.appendRange(packed, from, to);
    assert.equal(t.size, to);
    assert.deepEqual(t.root(), mth(leaves.slice(0, to)), `after leaves ${from}..${to}`);
  }
});

test('the compact tree root equals RFC 9162 MTH across runs of appended leaves, read at any size', () => {
  const leaves = Array.from({ length: 2600 }, (_, i) => leafHash(`leaf ${i}`));
  const t = new CompactTree();
  const checks = new Set([1, 2, 3, 1023, 1024, 1025, 1500, 1800, 2048, 2049, 2600]);
  for (let i = 0; i < leaves.length; i++) {
    if (i === 1700) {
      // A packed range in the middle of a run of single leaves.
      t.appendRange(Buffer.concat(leaves.slice(i, i + 100)), 0, 100);
      i += 99;
    } else t.append(leaves[i]!);
    if (checks.has(t.size)) assert.deepEqual(t.root(), mth(leaves.slice(0, t.size)), `size ${t.size}`);
  }
  assert.equal(t.peaks.length, 4); // 2600 = 2048 + 512 + 32 + 8
  const resumed = new CompactTree(t.size, t.peaks.slice());
  assert.deepEqual(resumed.root(), t.root());
});

test('leafHashHexInto writes the leaf hash and its hex, and hashes only the range', () => {
  const buf = Buffer.from('xx{"seq":1}yy'.padEnd(100, '.'), 'latin1');
  const out = Buffer.alloc(40);
  leafHashHexInto(buf, 2, 11, 20, out, 8);
  const want = leafHash('{"seq":1}');
  assert.deepEqual(out.subarray(8, 40), want);
  assert.equal(buf.toString('latin1', 20, 84), want.toString('hex'));
  assert.equal(buf.toString('latin1', 0, 20), 'xx{"seq":1}yy.......');
  assert.equal(buf.toString('latin1', 84), '.'.repeat(16));
});

test('the addon refuses ranges outside their arrays', (t) => {
  const native = loadNative().native;
  if (!native) return t.skip('no addon');
  const buf = Buffer.alloc(100);
  const out = Buffer.alloc(32);
  assert.throws(() => native.leafHashHex(buf, 0, 101, 0, out, 0), TypeError);
  assert.throws(() => native.leafHashHex(buf, 10, 5, 0, out, 0), TypeError);
  assert.throws(() => native.leafHashHex(buf, 0, 10, 37, out, 0), TypeError);
  assert.throws(() => native.leafHashHex(buf, 0, 10, 0, out, 1), TypeError);
  assert.throws(() => native.leafHashHex(buf, 0, 10.5, 0, out, 0), TypeError);
  assert.throws(() => native.merkleAppend(Buffer.alloc(32), 1, Buffer.alloc(32), 1), TypeError); // size 2 needs room for 2 peaks
  assert.throws(() => native.merkleAppend(Buffer.alloc(64), 0, Buffer.alloc(32), 2), TypeError); // 2 leaves, 32 bytes
});

test('keys round-trip in signed-note form with the C2SP key id', () => {
  const k = generateKeys('sealog/test');
  const signer = parseSignerKey(k.signerKey);
  const verifier = parseVerifierKey(k.verifierKey);
  assert.equal(signer.verifierKey, k.verifierKey);
  const raw = Buffer.from(k.verifierKey.split('+').slice(2).join('+'), 'base64');
  const id = createHash('sha256').update('sealog/test\n').update(raw).digest().subarray(0, 4);
  assert.deepEqual(verifier.keyId, id);
  assert.throws(() => parseVerifierKey(k.verifierKey.replace(/\+[0-9a-f]{8}\+/, '+00000000+')), { code: 'E_KEY_INVALID' });
  assert.throws(() => parseVerifierKey('garbage'), { code: 'E_KEY_INVALID' });
});

test('a signed checkpoint verifies under its key only, and any edit breaks it', () => {
  const k = parseSignerKey(generateKeys('sealog/a').signerKey);
  const other = parseVerifierKey(generateKeys('sealog/a').verifierKey);
  const root = leafHash('x');
  const text = signCheckpoint('sealog/a', 42, root, k);
  assert.match(text, /^sealog\/a\n42\n[A-Za-z0-9+/]{43}=\n\n\u2014 sealog\/a [A-Za-z0-9+/=]+\n$/);
  const ok = openCheckpoint(Buffer.from(text), parseVerifierKey(k.verifierKey));
  assert.ok('checkpoint' in ok && ok.checkpoint.size === 42 && ok.checkpoint.root.equals(root));
  assert.ok('error' in openCheckpoint(Buffer.from(text), other));
  assert.ok('error' in openCheckpoint(Buffer.from(text.replace('\n42\n', '\n43\n')), parseVerifierKey(k.verifierKey)));
});

test('a note with two signatures verifies for either key', () => {
  const a = parseSignerKey(generateKeys('a.example/k').signerKey);
  const b = parseSignerKey(generateKeys('b.example/k').signerKey);
  const one = signNote('hello\n', a);
  const two = one + signNote('hello\n', b).split('\n\n')[1];
  const note = parseNote(Buffer.from(two));
  assert.ok(typeof note !== 'string');
  assert.equal(note.signatures.length, 2);
  assert.ok(noteSignedBy(note, parseVerifierKey(a.verifierKey)));
  assert.ok(noteSignedBy(note, parseVerifierKey(b.verifierKey)));
});

test('sha256, leafHash and nodeHash (native addon when built) equal node:crypto, and no digest is overwritten later', () => {
  assert.equal(loadNative().error, undefined, 'the addon is built by npm ci');
  const kept: [Buffer, string][] = [];
  // More digests than one slab holds: a slab is never reused while its digests live.
  for (let i = 0; i < 1000; i++) {
    const data = Buffer.from(`record ${i} `.repeat(i % 40));
    kept.push([sha256(data), createHash('sha256').update(data).digest('hex')]);
    kept.push([
      leafHash(data),
      createHash('sha256')
        .update(Buffer.from([0]))
        .update(data)
        .digest('hex'),
    ]);
    const l = kept[kept.length - 1]![0];
    kept.push([
      nodeHash(l, l),
      createHash('sha256')
        .update(Buffer.from([1]))
        .update(l)
        .update(l)
        .digest('hex'),
    ]);
  }
  for (const [got, want] of kept) assert.equal(got.toString('hex'), want);
});
