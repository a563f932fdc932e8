// The top-level members of a record line the collector stores in columns, read from the
// bytes of a line already known to be canonical JSON (recordLine.ts's sealedLine said so):
// no whitespace, no raw control characters, every string well formed. So a value ends at
// the first `,` or `}` outside strings and brackets, and a string without a backslash is
// its bytes as they stand.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export interface TopFields {
  /** Each a string, or undefined when the member is missing or not a JSON string. */
  ts: string | undefined;
  stream: string | undefined;
  level: string | undefined;
  type: string | undefined;
  /** The event member's JSON text, `null` when there is none. */
  event: Buffer;
}

const NULL = Buffer.from('null');

/** Reads the members of the object line[0..end) (end: where its closing brace, or `,"hash":…`, begins). */
export function topFields(line: Buffer, end: number): TopFields {
  const out: TopFields = { ts: undefined, stream: undefined, level: undefined, type: undefined, event: NULL };
  let p = 1;
  while (p < end) {
    const keyStart = p + 1;
    const keyEnd = line.indexOf(QUOTE, keyStart); // canonical keys the scanner took hold no escapes
    if (keyEnd < 0 || keyEnd >= end) break;
    const v = keyEnd + 2;
    const after = skipValue(line, v);
    switch (line.toString('latin1', keyStart, keyEnd)) {
      case 'ts':
        out.ts = str(line, v, after);
        break;
      case 'stream':
        out.stream = str(line, v, after);
        break;
      case 'level':
        out.level = str(line, v, after);
        break;
      case 'type':
        out.type = str(line, v, after);
        break;
      case 'event':
        out.event = line.subarray(v, after);
        break;
    }
    p = after + 1; // past the comma
  }
  return out;
}

/** A JSON string value [from, to) as a JS string; undefined when it is not a string. */
function str(line: Buffer, from: number, to: number): string | undefined {
  if (line[from] !== QUOTE) return undefined;
  const raw = line.subarray(from + 1, to - 1);
  return raw.includes(BACKSLASH) ? (JSON.parse(line.toString('utf8', from, to)) as string) : raw.toString('utf8');
}

/** The position just after the value that starts at p. */
function skipValue(line: Buffer, p: number): number {
  let depth = 0;
  for (const n = line.length; p < n; ) {
    const c = line[p]!;
    if (c === QUOTE) {
      p++;
      for (; p < n; ) {
        const q = line[p]!;
        if (q === QUOTE) break;
        p += q === BACKSLASH ? 2 : 1;
      }
      p++;
      if (depth === 0) return p;
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) return p; // the enclosing object's end: a scalar ran up to it
      if (--depth === 0) return p + 1;
    } else if (c === 0x2c && depth === 0) return p;
    p++;
  }
  return line.length; // not reached on a canonical line
}
