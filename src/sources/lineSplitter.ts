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

  private cur: Buffer | undefined;
  private pos = 0;

  /** Every whole line of `chunk`; what follows its last newline waits for the next one. */
  push(chunk: Buffer): SplitLine[] {
    this.load(chunk);
    const out: SplitLine[] = [];
    for (let l = this.next(); l; l = this.next()) out.push(l);
    return out;
  }

  /** Takes `chunk` to be framed line by line with next(), so a caller can stop between lines holding bytes, not line objects. */
  load(chunk: Buffer): void {
    if (this.cur) throw new Error('the previous chunk is not framed yet');
    this.cur = chunk;
    this.pos = 0;
  }

  /** The next whole line of the loaded chunk; undefined once it is used up (its tail then waits for the next chunk). */
  next(): SplitLine | undefined {
    const chunk = this.cur;
    if (!chunk) return undefined;
    const nl = chunk.indexOf(0x0a, this.pos);
    if (nl === -1) {
      if (this.pos < chunk.length) this.take(chunk.subarray(this.pos));
      this.cur = undefined;
      return undefined;
    }
    this.take(chunk.subarray(this.pos, nl));
    this.pos = nl + 1;
    return this.finish();
  }

  /** Bytes held: the rest of the loaded chunk and the line begun so far (only its head, once it is over the limit). */
  get held(): number {
    return (this.cur ? this.cur.length - this.pos : 0) + this.partLen + (this.over ? this.over.head.length : 0);
  }

  /** At end of input: the last line, if it had no newline. */
  end(): SplitLine | undefined {
    return this.partLen > 0 || this.over ? this.finish() : undefined;
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
