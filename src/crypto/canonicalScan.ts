/**
 * A one-pass check, on the bytes, that a record line's body is already in RFC 8785
 * form: no whitespace, object keys in strictly increasing UTF-16 order, strings as
 * JSON.stringify writes them (in well-formed UTF-8), numbers as ECMAScript prints
 * them. It never says "not canonical": `false` only means "not sure" (a \u escape, a
 * non-ASCII key, a duplicate, anything odd), and the caller then asks the reference
 * library (jcs). So it may pass over a line the library would pass, never the other
 * way. It exists because parsing a record and serializing it again costs 10x more.
 */

/** Byte spans [start, end) of the top-level values the verifier needs; -1 when absent. */
export interface TopSpans {
  seqStart: number;
  seqEnd: number;
  prevStart: number;
  prevEnd: number;
  typeStart: number;
  typeEnd: number;
}

// Deeper than sanitize ever lets through; the library decides beyond it (and guards its own stack).
const MAX_DEPTH = 64;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

// The scan's state: one line at a time, synchronously.
let b: Buffer;
let lim = 0;
let p = 0;

/**
 * True when buf[0..end) followed by "}" (buf[end] stands for that brace: in a stored
 * line it is where `,"hash":…` begins) is certainly the RFC 8785 text of a non-empty
 * object without a top-level "hash" member. Fills `top` on the way.
 */
export function scanCanonicalBody(buf: Buffer, end: number, top: TopSpans): boolean {
  b = buf;
  lim = end;
  top.seqStart = top.seqEnd = top.prevStart = top.prevEnd = top.typeStart = top.typeEnd = -1;
  if (end < 2 || buf[0] !== 0x7b) return false;
  p = 1;
  const ok = members(0, top);
  b = undefined as unknown as Buffer; // do not keep the frame alive
  return ok;
}

/** The members of an object whose "{" is behind p; at depth 0 the object ends at lim. */
function members(depth: number, top: TopSpans | undefined): boolean {
  let prevKey = -1;
  let prevKeyEnd = -1;
  for (;;) {
    if (p >= lim || b[p] !== QUOTE) return false;
    const key = ++p;
    // Keys: printable ASCII without escapes, where byte order is UTF-16 order.
    for (;;) {
      if (p >= lim) return false;
      const c = b[p]!;
      if (c === QUOTE) break;
      if (c < 0x20 || c > 0x7e || c === BACKSLASH) return false;
      p++;
    }
    const keyEnd = p++;
    if (prevKey >= 0 && !ascending(prevKey, prevKeyEnd, key, keyEnd)) return false;
    prevKey = key;
    prevKeyEnd = keyEnd;
    if (p >= lim || b[p] !== 0x3a) return false;
    const vStart = ++p;
    if (!value(depth)) return false;
    if (top) {
      const n = keyEnd - key;
      if (n === 3 && b[key] === 0x73 && b[key + 1] === 0x65 && b[key + 2] === 0x71) {
        top.seqStart = vStart;
        top.seqEnd = p;
      } else if (n === 4 && b[key] === 0x70 && b[key + 1] === 0x72 && b[key + 2] === 0x65 && b[key + 3] === 0x76) {
        top.prevStart = vStart;
        top.prevEnd = p;
      } else if (n === 4 && b[key] === 0x74 && b[key + 1] === 0x79 && b[key + 2] === 0x70 && b[key + 3] === 0x65) {
        top.typeStart = vStart;
        top.typeEnd = p;
      } else if (n === 4 && b[key] === 0x68 && b[key + 1] === 0x61 && b[key + 2] === 0x73 && b[key + 3] === 0x68) {
        return false; // a "hash" inside the body: the library says what that is
      }
      if (p === lim) return true;
    }
    if (p >= lim) return false;
    const c = b[p++];
    if (c === 0x2c) continue;
    return c === 0x7d && !top;
  }
}

/** Key a strictly before key b, by bytes (= UTF-16 code units for ASCII). Equal keys are a duplicate: not sure. */
function ascending(a: number, aEnd: number, k: number, kEnd: number): boolean {
  for (; a < aEnd && k < kEnd; a++, k++) {
    if (b[a] !== b[k]) return b[a]! < b[k]!;
  }
  return aEnd - a < kEnd - k;
}

function value(depth: number): boolean {
  if (p >= lim) return false;
  const c = b[p]!;
  if (c === QUOTE) return string();
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return number();
  if (c === 0x7b || c === 0x5b) {
    if (depth >= MAX_DEPTH) return false;
    p++;
    if (p < lim && b[p] === c + 2) {
      p++; // {} or []
      return true;
    }
    return c === 0x7b ? members(depth + 1, undefined) : elements(depth + 1);
  }
  if (c === 0x74) return literal('true');
  if (c === 0x66) return literal('false');
  if (c === 0x6e) return literal('null');
  return false;
}

function elements(depth: number): boolean {
  for (;;) {
    if (!value(depth)) return false;
    if (p >= lim) return false;
    const c = b[p++];
    if (c === 0x2c) continue;
    return c === 0x5d;
  }
}

function literal(word: string): boolean {
  if (p + word.length > lim) return false;
  for (let i = 0; i < word.length; i++) if (b[p + i] !== word.charCodeAt(i)) return false;
  p += word.length;
  return true;
}

/**
 * A string as JSON.stringify writes it: only ", \ and controls escaped, the
 * controls that have one by their short form (\u00XX forms: not sure), and
 * everything else literal, in well-formed UTF-8 without surrogates.
 */
function string(): boolean {
  p++;
  for (;;) {
    if (p >= lim) return false;
    const c = b[p]!;
    if (c === QUOTE) {
      p++;
      return true;
    }
    if (c >= 0x20 && c < 0x80) {
      if (c === BACKSLASH) {
        const e = p + 1 < lim ? b[p + 1] : 0;
        // \" \\ \b \f \n \r \t
        if (e !== QUOTE && e !== BACKSLASH && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return false;
        p += 2;
      } else p++;
      continue;
    }
    if (c < 0x20) return false;
    if (!utf8Char(c)) return false;
  }
}

/** One well-formed UTF-8 sequence at p (Unicode Table 3-7), surrogates excluded. */
function utf8Char(c: number): boolean {
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) n = 1;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 2;
    if (c === 0xe0) lo = 0xa0;
    else if (c === 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 3;
    if (c === 0xf0) lo = 0x90;
    else if (c === 0xf4) hi = 0x8f;
  } else return false;
  if (p + n >= lim) return false;
  const c1 = b[p + 1]!;
  if (c1 < lo || c1 > hi) return false;
  for (let i = 2; i <= n; i++) {
    const ci = b[p + i]!;
    if (ci < 0x80 || ci > 0xbf) return false;
  }
  p += n + 1;
  return true;
}

/** A JSON number token whose text is exactly what ECMAScript's Number::toString gives for its value. */
function number(): boolean {
  const start = p;
  if (b[p] === 0x2d) p++;
  const intStart = p;
  if (p >= lim) return false;
  if (b[p] === 0x30) p++;
  else if (b[p]! >= 0x31 && b[p]! <= 0x39) while (p < lim && b[p]! >= 0x30 && b[p]! <= 0x39) p++;
  else return false;
  const digits = p - intStart;
  let plain = true;
  if (p < lim && b[p] === 0x2e) {
    plain = false;
    if (!digitRun()) return false;
  }
  if (p < lim && (b[p] === 0x65 || b[p] === 0x45)) {
    plain = false;
    p++;
    if (p < lim && (b[p] === 0x2b || b[p] === 0x2d)) p++;
    if (!digitRun(true)) return false;
  }
  // Up to 15 digits an integer is exact and prints as written, -0 aside.
  if (plain && digits <= 15 && !(digits === 1 && b[intStart] === 0x30 && start !== intStart)) return true;
  const text = b.toString('latin1', start, p);
  return String(Number(text)) === text;
}

function digitRun(afterExp = false): boolean {
  if (!afterExp) p++;
  const s = p;
  while (p < lim && b[p]! >= 0x30 && b[p]! <= 0x39) p++;
  return p > s;
}
