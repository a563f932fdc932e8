import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mth } from '../helpers/mth.js';
import fc from 'fast-check';
import { leafHash } from '../../src/crypto/hash.js';
import { CompactTree } from '../../src/crypto/merkle.js';
import { consistencyRanges, inclusionRanges, verifyConsistency, verifyInclusion } from '../../src/read/merkleProof.js';

const leavesOf = (n: number, salt = '') => Array.from({ length: n }, (_, i) => Buffer.from(leafHash(`${salt}record ${i}`)));
const proofOf = (leaves: Buffer[], ranges: [number, number][]) => ranges.map(([a, b]) => mth(leaves.slice(a, b)));
const flip = (b: Buffer, bit: number) => {
  const c = Buffer.from(b);
  c[bit >> 3]! ^= 1 << (bit & 7);
  return c;
};

test('inclusion: every leaf of every tree of 1..300 leaves proves against MTH, and the CompactTree root agrees', () => {
  const all = leavesOf(300);
  const tree = new CompactTree();
  for (let n = 1; n <= 300; n++) {
    tree.append(all[n - 1]!);
    const leaves = all.slice(0, n);
    const root = mth(leaves);
    assert.ok(tree.root().equals(root), `root of ${n}`);
    for (let m = 0; m < n; m++) {
      const proof = proofOf(leaves, inclusionRanges(m, n));
      assert.ok(verifyInclusion(m, n, leaves[m]!, proof, root), `leaf ${m} of ${n}`);
    }
  }
});

test('inclusion: a flipped bit, another leaf, another index, a shorter or longer path fails', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 1000 }), fc.nat(), fc.nat(), (n, mi, bit) => {
      const leaves = leavesOf(n);
      const m = mi % n;
      const root = mth(leaves);
      const proof = proofOf(leaves, inclusionRanges(m, n));
      assert.ok(verifyInclusion(m, n, leaves[m]!, proof, root));
      if (proof.length) {
        const i = bit % proof.length;
        const bad = proof.map((p, j) => (j === i ? flip(p, bit % 256) : p));
        assert.ok(!verifyInclusion(m, n, leaves[m]!, bad, root), 'flipped proof bit');
        assert.ok(!verifyInclusion(m, n, leaves[m]!, proof.slice(0, -1), root), 'shortened');
      }
      assert.ok(!verifyInclusion(m, n, leaves[m]!, [...proof, leaves[0]!], root), 'lengthened');
      assert.ok(!verifyInclusion(m, n, flip(leaves[m]!, bit % 256), proof, root), 'flipped leaf');
      assert.ok(!verifyInclusion(m, n, leaves[m]!, proof, flip(root, bit % 256)), 'flipped root');
      assert.ok(!verifyInclusion((m + 1) % n, n, leaves[m]!, proof, root), 'another index');
    }),
    { numRuns: 200 },
  );
});

test('consistency: every pair m <= n <= 130 proves; a forked or rolled-back tree fails', () => {
  const all = leavesOf(130);
  const fork = leavesOf(130, 'fork ');
  for (let n = 1; n <= 130; n++) {
    const newRoot = mth(all.slice(0, n));
    for (let m = 1; m <= n; m++) {
      const oldRoot = mth(all.slice(0, m));
      const proof = proofOf(all.slice(0, n), consistencyRanges(m, n));
      assert.ok(verifyConsistency(m, n, proof, oldRoot, newRoot), `${m} -> ${n}`);
      if (m < n) {
        // The same sizes, but the old tree is another history (one leaf differs).
        const forked = [...all.slice(0, m - 1), fork[m - 1]!];
        assert.ok(!verifyConsistency(m, n, proof, mth(forked), newRoot), `fork ${m} -> ${n}`);
        assert.ok(!verifyConsistency(n, m, proof, newRoot, oldRoot), `rollback ${n} -> ${m}`);
        if (proof.length)
          assert.ok(!verifyConsistency(m, n, [flip(proof[0]!, (m * 7 + n) % 256), ...proof.slice(1)], oldRoot, newRoot), `flipped ${m} -> ${n}`);
      }
    }
  }
});
