import { createHash, type Hash } from 'node:crypto';

/** A framed piece of input: a line, or one element of a .json array. */
export interface SplitLine {
  /** The bytes (a line without "\n" or "\r\n"); for an oversize one, only its first `keepBytes`. */
  bytes: Buffer;
  oversize?: { length: number; sha256: string };
}

/**
 * The bytes of one piece of input being framed, in bounded memory: past
 * `maxBytes` nothing more is buffered; its head is kept with its full length
 * and hash. No copies: each chunk it is given is a fresh Buffer nothing else writes to.
 */
export class BoundedBytes {
  private parts: Buffer[] = [];
  private partLen = 0;
  private over: { head: Buffer; length: number; hash: Hash } | undefined;

  constructor(
    private readonly maxBytes: number,
    private readonly keepBytes = 4096,
  ) {}

  /** Bytes held (only the head once over the limit). */
  get held(): number {
    return this.partLen + (this.over ? this.over.head.length : 0);
  }

  get empty(): boolean {
    return this.partLen === 0 && !this.over;
  }

  take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.over) {
      this.over.length += piece.length;
      this.over.hash.update(piece);
      return;
    }
    if (this.partLen + piece.length > this.maxBytes) {
      const all = Buffer.concat([...this.parts, piece]);
      this.clear();
      this.over = { head: Buffer.from(all.subarray(0, this.keepBytes)), length: all.length, hash: createHash('sha256').update(all) };
      return;
    }
    this.parts.push(piece);
    this.partLen += piece.length;
  }

  /** The piece as taken so far; starts the next one. */
  finish(): SplitLine {
    if (this.over) {
      const { head, length, hash } = this.over;
      this.over = undefined;
      return { bytes: head, oversize: { length, sha256: hash.digest('hex') } };
    }
    const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partLen);
    this.clear();
    return { bytes };
  }

  clear(): void {
    this.parts = [];
    this.partLen = 0;
    this.over = undefined;
  }
}
