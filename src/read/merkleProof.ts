/**
 * RFC 9162 Merkle proofs, as pure functions: which subtrees a proof is made of
 * (§2.1.3.1 PATH, §2.1.4.1 PROOF/SUBPROOF) and how a verifier checks one
 * (§2.1.3.2 and §2.1.4.2, step by step as the RFC writes them). The tree hashes are
 * those of src/crypto/hash.ts: leaf SHA-256(0x00 ‖ d), node SHA-256(0x01 ‖ l ‖ r).
 *
 * Exported API
 * - `inclusionRanges(index, size)` → `[start, end)[]`: the subtrees whose hashes make the
 *   inclusion proof of leaf `index` in a tree of `size` leaves, leaf to root.
 * - `consistencyRanges(oldSize, newSize)` → the subtrees of the consistency proof, in order.
 * - `verifyInclusion(index, size, leafHash, proof, root)` → true when the proof holds.
 * - `verifyConsistency(oldSize, newSize, proof, oldRoot, newRoot)` → true when it holds.
 * - `largestPowerOfTwoBelow(n)`.
 */
import { nodeHash } from '../crypto/hash.js';

export type Range = [start: number, end: number];

export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** PATH(m, D[start:end]) as subtree ranges (RFC 9162 §2.1.3.1). */
export function inclusionRanges(index: number, size: number): Range[] {
  if (!(index >= 0 && index < size)) throw new RangeError(`leaf ${index} is not in a tree of size ${size}`);
  const out: Range[] = [];
  const path = (m: number, start: number, end: number): void => {
    if (end - start <= 1) return;
    const k = largestPowerOfTwoBelow(end - start);
    if (m < k) {
      path(m, start, start + k);
      out.push([start + k, end]);
    } else {
      path(m - k, start + k, end);
      out.push([start, start + k]);
    }
  };
  path(index, 0, size);
  return out;
}

/** PROOF(m, D[n]) as subtree ranges (RFC 9162 §2.1.4.1). Empty when m = n or m = 0. */
export function consistencyRanges(oldSize: number, newSize: number): Range[] {
  if (!(oldSize >= 0 && oldSize <= newSize)) throw new RangeError(`cannot prove size ${oldSize} consistent with size ${newSize}`);
  const out: Range[] = [];
  if (oldSize === 0 || oldSize === newSize) return out;
  const sub = (m: number, start: number, end: number, b: boolean): void => {
    const n = end - start;
    if (m === n) {
      if (!b) out.push([start, end]);
      return;
    }
    const k = largestPowerOfTwoBelow(n);
    if (m <= k) {
      sub(m, start, start + k, b);
      out.push([start + k, end]);
    } else {
      sub(m - k, start + k, end, false);
      out.push([start, start + k]);
    }
  };
  sub(oldSize, 0, newSize, true);
  return out;
}

/** RFC 9162 §2.1.3.2. */
export function verifyInclusion(index: number, size: number, leafHash: Buffer, proof: readonly Buffer[], root: Buffer): boolean {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size)) || index >= size || index < 0) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 §2.1.4.2. */
export function verifyConsistency(oldSize: number, newSize: number, proof: readonly Buffer[], oldRoot: Buffer, newRoot: Buffer): boolean {
  if (!(Number.isSafeInteger(oldSize) && Number.isSafeInteger(newSize)) || oldSize < 0 || oldSize > newSize) return false;
  if (oldSize === newSize) return proof.length === 0 && oldRoot.equals(newRoot);
  if (oldSize === 0) return false; // nothing to prove against an empty tree (the RFC proves 0 < first < second)
  let path = [...proof];
  if (path.length === 0) return false;
  // Step 2: if first is an exact power of 2, prepend first_hash to the path.
  if (isPowerOfTwo(oldSize)) path = [oldRoot, ...path];
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr.equals(oldRoot) && sr.equals(newRoot) && sn === 0;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}
