import { BoundedBytes, type SplitLine } from './boundedBytes.js';

export interface JsonElement extends SplitLine {
  /** Byte offset of the element's first byte in the document. */
  offset: number;
}

/** Where the document stops being a JSON array, and why: nothing after it is framed. */
export interface Broken {
  offset: number;
  reason: string;
}

const WS = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WS[c] = 1;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN = new Uint8Array(256);
OPEN[0x7b] = OPEN[0x5b] = 1; // { [
const CLOSE = new Uint8Array(256);
CLOSE[0x7d] = CLOSE[0x5d] = 1; // } ]

type State = 'start' | 'first' | 'element' | 'inside' | 'scalar' | 'after' | 'done' | 'broken';

/**
 * Frames a .json document, one object or a top-level array, into its elements' bytes, in bounded memory
 * (an element over the limit keeps only its head, with its full length and hash,
 * as LineSplitter does with a long line). It follows only what it needs to find
 * where an element ends (strings, escapes, nesting depth); each element is then
 * parsed like any line, so a bad element is dead-lettered on its own. Where the
 * array itself breaks (a missing comma, an early end, bytes after the `]`),
 * `broken` says at which byte and framing stops: the caller keeps the rest.
 */
export class JsonArraySplitter {
  private state: State = 'start';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private pos = 0; // bytes of the document seen before the current chunk
  private start = 0; // offset of the element being framed
  private element: BoundedBytes;
  /** The document is one object, not an array: that object is its one element. */
  private single = false;
  broken: Broken | undefined;

  constructor(maxElementBytes: number, keepBytes = 4096) {
    this.element = new BoundedBytes(maxElementBytes, keepBytes);
  }

  push(chunk: Buffer): JsonElement[] {
    const out: JsonElement[] = [];
    let from = -1; // where the element under way began in this chunk
    if (this.state === 'inside' || this.state === 'scalar') from = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      switch (this.state) {
        case 'inside':
          if (this.inString) {
            if (this.escaped) this.escaped = false;
            else if (c === BACKSLASH) this.escaped = true;
            else if (c === QUOTE) {
              this.inString = false;
              if (this.depth === 0) this.endElement(chunk, from, i + 1, out);
            }
          } else if (c === QUOTE) this.inString = true;
          else if (OPEN[c]) this.depth++;
          else if (CLOSE[c] && --this.depth === 0) this.endElement(chunk, from, i + 1, out);
          continue;
        case 'scalar':
          if (WS[c] || c === COMMA || CLOSE[c]) {
            this.endElement(chunk, from, i, out);
            i--; // the delimiter is read again in 'after'
          }
          continue;
        case 'start':
          if (WS[c]) continue;
          if (c === 0x7b) {
            // A single object: one event, framed as the one element there is.
            this.single = true;
            this.state = 'inside';
            this.depth = 1;
            this.start = this.pos + i;
            from = i;
          } else if (c === 0x5b) this.state = 'first';
          else return this.break(i, 'a .json file holds one object or an array', out);
          continue;
        case 'first':
        case 'element':
          if (WS[c]) continue;
          if (c === 0x5d && this.state === 'first') {
            this.state = 'done';
            continue;
          }
          if (c === COMMA || CLOSE[c]) return this.break(i, `expected an element, found ${JSON.stringify(String.fromCharCode(c))}`, out);
          this.start = this.pos + i;
          from = i;
          if (c === QUOTE || OPEN[c]) {
            this.state = 'inside';
            this.inString = c === QUOTE;
            this.depth = OPEN[c] ? 1 : 0;
          } else this.state = 'scalar';
          continue;
        case 'after':
          if (WS[c]) continue;
          if (c === COMMA) this.state = 'element';
          else if (c === 0x5d) this.state = 'done';
          else return this.break(i, `expected , or ] after an element, found ${JSON.stringify(String.fromCharCode(c))}`, out);
          continue;
        case 'done':
          if (WS[c]) continue;
          return this.break(i, 'bytes after the end of the array', out);
        case 'broken':
          return out;
      }
    }
    if ((this.state === 'inside' || this.state === 'scalar') && from < chunk.length) this.element.take(chunk.subarray(from));
    this.pos += chunk.length;
    return out;
  }

  /** At the end of the document: whether it ended where an array may end. */
  end(): Broken | undefined {
    if (this.broken) return this.broken;
    if (this.state === 'done') return undefined;
    const offset = this.state === 'inside' || this.state === 'scalar' ? this.start : this.pos;
    this.broken = { offset, reason: this.state === 'start' ? 'the file holds no JSON' : 'the document ends before it is closed' };
    return this.broken;
  }

  private break(i: number, reason: string, out: JsonElement[]): JsonElement[] {
    this.state = 'broken';
    this.broken = { offset: this.pos + i, reason };
    this.element.clear();
    return out;
  }

  private endElement(chunk: Buffer, from: number, to: number, out: JsonElement[]): void {
    this.element.take(chunk.subarray(Math.max(from, 0), to));
    out.push({ ...this.element.finish(), offset: this.start });
    this.state = this.single ? 'done' : 'after';
  }
}
