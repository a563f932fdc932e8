import { createHash, type Hash } from 'node:crypto';

export interface SplitLine {
  /** The line without "\n" or "\r\n"; for an oversize line, only its first `keepBytes`. */
  bytes: Buffer;
  oversize?: { length: number; sha256: string };
}

/**
 * Frames a byte stream into lines, in bounded memory: a line longer than
 * maxLineBytes is not buffered; its head is kept with its full length and hash.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private partLen = 0;
  private over: { head: Buffer; length: number; hash: Hash } | undefined;

  constructor(private readonly maxLineBytes: number, private readonly keepBytes = 4096) {}

  push(chunk: Buffer): SplitLine[] {
    const out: SplitLine[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      this.take(chunk.subarray(start, nl));
      out.push(this.finish());
      start = nl + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start));
    return out;
  }

  /** At end of input: the last line, if it had no newline. */
  end(): SplitLine | undefined {
    return this.partLen > 0 || this.over ? this.finish() : undefined;
  }

  get buffered(): number {
    return this.partLen;
  }

  private take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.over) {
      this.over.length += piece.length;
      this.over.hash.update(piece);
      return;
    }
    if (this.partLen + piece.length > this.maxLineBytes) {
      const all = Buffer.concat([...this.parts, piece]);
      this.parts = [];
      this.partLen = 0;
      this.over = { head: Buffer.from(all.subarray(0, this.keepBytes)), length: all.length, hash: createHash('sha256').update(all) };
      return;
    }
    // No copy: each socket or file chunk is a fresh Buffer that nothing else writes to.
    this.parts.push(piece);
    this.partLen += piece.length;
  }

  private finish(): SplitLine {
    if (this.over) {
      const { head, length, hash } = this.over;
      this.over = undefined;
      return { bytes: head, oversize: { length, sha256: hash.digest('hex') } };
    }
    let bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partLen);
    this.parts = [];
    this.partLen = 0;
    if (bytes.length && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1);
    return { bytes };
  }
}

/** A line of only spaces, tabs and CRs carries no event. */
export function isBlank(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}
