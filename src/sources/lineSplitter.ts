import { BoundedBytes, type SplitLine } from './boundedBytes.js';

export type { SplitLine } from './boundedBytes.js';

/**
 * Frames a byte stream into lines, in bounded memory: a line longer than
 * maxLineBytes is not buffered; its head is kept with its full length and hash.
 */
export class LineSplitter {
  private line: BoundedBytes;

  constructor(
    private readonly maxLineBytes: number,
    keepBytes = 4096,
  ) {
    this.line = new BoundedBytes(maxLineBytes, keepBytes);
  }

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
      if (this.pos < chunk.length) this.line.take(chunk.subarray(this.pos));
      this.cur = undefined;
      return undefined;
    }
    const from = this.pos;
    this.pos = nl + 1;
    // The usual line: whole in this chunk, nothing of it before: a view of the chunk, as finish() would give.
    if (this.line.empty && nl - from <= this.maxLineBytes) return { bytes: chunk.subarray(from, nl > from && chunk[nl - 1] === 0x0d ? nl - 1 : nl) };
    this.line.take(chunk.subarray(from, nl));
    return this.finish();
  }

  /** Bytes held: the rest of the loaded chunk and the line begun so far (only its head, once it is over the limit). */
  get held(): number {
    return (this.cur ? this.cur.length - this.pos : 0) + this.line.held;
  }

  /** At end of input: the last line, if it had no newline. */
  end(): SplitLine | undefined {
    return this.line.empty ? undefined : this.finish();
  }

  private finish(): SplitLine {
    const l = this.line.finish();
    if (!l.oversize && l.bytes.length && l.bytes[l.bytes.length - 1] === 0x0d) l.bytes = l.bytes.subarray(0, -1);
    return l;
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
