import { nodeHash } from './hash.js';
import { createHash } from 'node:crypto';

/**
 * An append-only RFC 9162 Merkle tree kept as its perfect-subtree peaks
 * (a "compact range"): O(log n) memory, so the daemon never holds all leaves.
 * peaks[0] covers the oldest, largest subtree.
 */
export class CompactTree {
  size: number;
  peaks: Buffer[];

  constructor(size = 0, peaks: Buffer[] = []) {
    if (peaks.length !== popcount(size)) throw new Error(`tree of size ${size} needs ${popcount(size)} peaks, got ${peaks.length}`);
    this.size = size;
    this.peaks = peaks;
  }

  append(leaf: Buffer): void {
    let node = leaf;
    // Merge while the new leaf completes a perfect subtree: one merge per trailing 1-bit of size.
    for (let s = this.size; s & 1; s >>= 1) node = nodeHash(this.peaks.pop()!, node);
    this.peaks.push(node);
    this.size++;
  }

  /** Appends leaves[from..to) of packed 32-byte leaf hashes (a verify thread's result), without copying them. */
  appendRange(leaves: Uint8Array, from: number, to: number): void {
    for (let i = from; i < to; i++) this.append(Buffer.from(leaves.buffer, leaves.byteOffset + i * 32, 32));
  }

  /** MTH of all leaves so far; the empty tree's root is SHA-256 of nothing. */
  root(): Buffer {
    if (this.size === 0) return createHash('sha256').digest();
    let r = this.peaks[this.peaks.length - 1]!;
    for (let i = this.peaks.length - 2; i >= 0; i--) r = nodeHash(this.peaks[i]!, r);
    return r;
  }

  clone(): CompactTree {
    return new CompactTree(this.size, this.peaks.slice());
  }
}

function popcount(n: number): number {
  let c = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}
