import { createHash } from 'node:crypto';
import { nodeHash } from '../../src/crypto/hash.js';

/** RFC 9162 §2.1.1 MTH, written straight from its definition over plain arrays: the reference the tree code is checked against. */
export function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
