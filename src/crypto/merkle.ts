import { createHash } from 'node:crypto';
import { loadNative } from '../native.js';
import { nodeHash } from './hash.js';

// With the addon, appended leaves wait in a run and are folded into the peaks by one native call
// (native/tlog_hash.c) when the peaks are read or the run is full: one call per RUN leaves instead
// of a node hash call, a Buffer and ~100 ns of call overhead per leaf. Without it, leaf by leaf.
const merkleAppend = loadNative().native?.merkleAppend;
const RUN = 1024;
const runLeaves = Buffer.alloc(RUN * 32);
const work = Buffer.alloc(64 * 32); // a tree's peaks: at most one per bit of its size

/**
 * An append-only RFC 9162 Merkle tree kept as its perfect-subtree peaks
 * (a "compact range"): O(log n) memory, so the daemon never holds all leaves.
 * peaks[0] covers the oldest, largest subtree.
 */
export class CompactTree {
  size: number;
  /** The peaks of the tree without the leaves still in `run`. */
  private folded: Buffer[];
  private readonly run: Buffer[] = [];

  constructor(size = 0, peaks: Buffer[] = []) {
    if (peaks.length !== popcount(size)) throw new Error(`tree of size ${size} needs ${popcount(size)} peaks, got ${peaks.length}`);
    this.size = size;
    this.folded = peaks;
  }

  get peaks(): Buffer[] {
    this.fold();
    return this.folded;
  }

  /** Appends a leaf hash; the tree may keep `leaf` itself until its peaks are next read, so it must not change. */
  append(leaf: Buffer): void {
    if (merkleAppend) {
      this.run.push(leaf);
      this.size++;
      if (this.run.length === RUN) this.fold();
      return;
    }
    let node = leaf;
    // Merge while the new leaf completes a perfect subtree: one merge per trailing 1-bit of size.
    for (let s = this.size; s & 1; s >>= 1) node = nodeHash(this.folded.pop()!, node);
    this.folded.push(node);
    this.size++;
  }

  /** Appends leaves[from..to) of packed 32-byte leaf hashes (a verify thread's result), without copying them. */
  appendRange(leaves: Uint8Array, from: number, to: number): void {
    if (!merkleAppend) {
      for (let i = from; i < to; i++) this.append(Buffer.from(leaves.buffer, leaves.byteOffset + i * 32, 32));
      return;
    }
    this.fold();
    this.foldPacked(leaves.subarray(from * 32, to * 32), to - from);
  }

  /** MTH of all leaves so far; the empty tree's root is SHA-256 of nothing. */
  root(): Buffer {
    if (this.size === 0) return createHash('sha256').digest();
    const peaks = this.peaks;
    let r = peaks[peaks.length - 1]!;
    for (let i = peaks.length - 2; i >= 0; i--) r = nodeHash(peaks[i]!, r);
    return r;
  }

  clone(): CompactTree {
    return new CompactTree(this.size, this.peaks.slice());
  }

  /** Folds the run into the peaks. */
  private fold(): void {
    const n = this.run.length;
    if (n === 0) return;
    for (let i = 0; i < n; i++) runLeaves.set(this.run[i]!, i * 32);
    this.run.length = 0;
    this.size -= n;
    this.foldPacked(runLeaves, n);
  }

  /** Appends `count` packed leaf hashes to the folded peaks (the run is empty) with one native call. */
  private foldPacked(leaves: Uint8Array, count: number): void {
    const before = this.folded.length;
    for (let i = 0; i < before; i++) work.set(this.folded[i]!, i * 32);
    merkleAppend!(work, this.size, leaves, count);
    this.size += count;
    const peaks = Buffer.from(work.subarray(0, popcount(this.size) * 32)); // a copy: work is used again
    this.folded = [];
    for (let i = 0; i < peaks.length; i += 32) this.folded.push(peaks.subarray(i, i + 32));
  }
}

function popcount(n: number): number {
  let c = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}
