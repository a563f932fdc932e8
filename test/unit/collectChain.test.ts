import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acceptCheckpoint, acceptRecord, initialState } from '../../src/collect/chain.js';
import { jcs } from '../../src/crypto/canonical.js';
import { leafHash } from '../../src/crypto/hash.js';
import { generateKeys, parseSignerKey, parseVerifierKey } from '../../src/crypto/keys.js';
import { signCheckpoint } from '../../src/store/checkpoint.js';
import { classify } from '../../src/collect/wire.js';

// The collector's per-origin checks on plain records (no NATS, no PostgreSQL).

function chain(n: number): Buffer[] {
  let prev = '0'.repeat(64);
  const lines: Buffer[] = [];
  for (let seq = 0; seq < n; seq++) {
    const body = jcs({
      seq,
      ts: '2026-12-07T00:00:00.000001Z',
      stream: 'audit',
      level: 'info',
      type: 'T',
      source: { kind: 'socket' },
      event: { n: seq },
      redactions: [],
      prev,
    });
    const hash = leafHash(body).toString('hex');
    lines.push(Buffer.from(`${body.slice(0, -1)},"hash":"${hash}"}`));
    prev = hash;
  }
  return lines;
}

test('records in order are accepted and advance the state; bad hash, broken prev and wrong seq are refused without moving it', () => {
  const lines = chain(3);
  const s = initialState();
  assert.ok(acceptRecord('o', 0, lines[0]!, undefined, s).ok);
  const tampered = Buffer.from(lines[1]!.toString().replace('"n":1', '"n":9'));
  const r1 = acceptRecord('o', 1, tampered, undefined, s);
  assert.ok(!r1.ok && /hash mismatch/.test(r1.reason));
  assert.equal(s.nextSeq, 1);
  const r2 = acceptRecord('o', 1, lines[2]!, undefined, s);
  assert.ok(!r2.ok && /seq 2/.test(r2.reason));
  const other = chain(2)[1]!; // same seq, but another chain's prev
  assert.ok(acceptRecord('o', 1, lines[1]!, 'f'.repeat(64), s).ok === false, 'a Sealog-Hash header that differs is refused');
  assert.ok(acceptRecord('o', 1, lines[1]!, undefined, s).ok);
  assert.equal(s.nextSeq, 2);
  const r3 = acceptRecord('o', 2, other, undefined, { ...s, lastHash: '1'.repeat(64), tree: s.tree.clone() });
  assert.ok(!r3.ok);
});

test('a checkpoint is accepted under the pinned key with the root of the records; another key or another root is refused', () => {
  const k = generateKeys('o');
  const signer = parseSignerKey(k.signerKey);
  const pinned = [parseVerifierKey(k.verifierKey)];
  const lines = chain(4);
  const s = initialState();
  for (const [i, l] of lines.entries()) assert.ok(acceptRecord('o', i, l, undefined, s).ok);
  const good = Buffer.from(signCheckpoint('o', 4, s.tree.root(), signer));
  assert.ok(acceptCheckpoint('o', 4, good, pinned, s).ok);
  const wrongRoot = Buffer.from(signCheckpoint('o', 4, Buffer.alloc(32, 7), signer));
  const r = acceptCheckpoint('o', 4, wrongRoot, pinned, s);
  assert.ok(!r.ok && /root mismatch/.test(r.reason));
  const mallory = parseSignerKey(generateKeys('o').signerKey);
  const forged = acceptCheckpoint('o', 4, Buffer.from(signCheckpoint('o', 4, s.tree.root(), mallory)), pinned, s);
  assert.ok(!forged.ok && /signature/.test(forged.reason));
  const otherOrigin = acceptCheckpoint('o', 4, Buffer.from(signCheckpoint('p', 4, s.tree.root(), signer)), pinned, s);
  assert.ok(!otherOrigin.ok);
});

test('a message is routed only when its subject, origin header and seq agree; bodies are bounded', () => {
  const get = (h: Record<string, string>) => (name: string) => h[name];
  const body = new Uint8Array(Buffer.from('{}'));
  const ok = classify('sealog', 'sealog.test_a.records.audit', get({ 'Sealog-Origin': 'test/a', 'Sealog-Seq': '5' }), body, 100);
  assert.equal(ok.kind, 'record');
  assert.equal(classify('sealog', 'sealog.test_b.records.audit', get({ 'Sealog-Origin': 'test/a', 'Sealog-Seq': '5' }), body, 100).kind, 'bad');
  assert.equal(classify('sealog', 'sealog.test_a.records.audit', get({ 'Sealog-Origin': 'test/a', 'Sealog-Seq': '-1' }), body, 100).kind, 'bad');
  assert.equal(classify('sealog', 'sealog.test_a.records.audit', get({ 'Sealog-Origin': 'test/a', 'Sealog-Seq': '5' }), new Uint8Array(101), 100).kind, 'bad');
  assert.equal(
    classify('sealog', 'sealog.test_a.records.audit', get({ 'Sealog-Origin': 'test/a', 'Sealog-Seq': '5' }), new Uint8Array([0x7b, 0, 0x7d]), 100).kind,
    'bad',
  );
  assert.equal(classify('sealog', 'sealog.test_a.checkpoints', get({ 'Sealog-Origin': 'test/a', 'Sealog-Tree-Size': '4' }), body, 100).kind, 'checkpoint');
});
