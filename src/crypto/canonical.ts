import canonicalize from 'canonicalize';

/** RFC 8785 canonical JSON, by the reference library. The verifier checks lines against this. */
export function jcs(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no canonical JSON form');
  return text;
}

// jcsFast writes UTF-8 into one buffer, kept from call to call, and reads it back as one
// string. A string built by concatenation is a tree of pieces: each piece is garbage, and
// hashing and packing it flatten the tree again; this one is flat from the start.
const START_BYTES = 1 << 16;
const KEEP_BYTES = 1 << 20;
let buf = Buffer.allocUnsafeSlow(START_BYTES);
let at = 0;

function room(n: number): void {
  if (at + n <= buf.length) return;
  const grown = Buffer.allocUnsafeSlow(Math.max(buf.length * 2, at + n));
  buf.copy(grown, 0, 0, at);
  buf = grown;
}

function byte(b: number): void {
  room(1);
  buf[at++] = b;
}

/** Text of ASCII characters that need no escape (numbers, literals). */
function ascii(s: string): void {
  room(s.length);
  for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
}

function string(s: string): void {
  const start = at;
  room(s.length + 2);
  buf[at++] = 0x22;
  // Byte by byte while the text is plain ASCII: cheaper than a call into C++ for the short
  // strings of a log event.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) {
      // JSON.stringify escapes exactly what RFC 8785 escapes, the same way (for well-formed text).
      at = start;
      const quoted = JSON.stringify(s);
      room(quoted.length * 3);
      at += buf.write(quoted, at, 'utf8');
      return;
    }
    buf[at++] = c;
  }
  buf[at++] = 0x22;
}

function value(v: unknown): void {
  switch (typeof v) {
    case 'string':
      return string(v);
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`${v} has no JSON form`);
      // ECMAScript's number to string is RFC 8785's (-0 becomes 0).
      return ascii(String(v));
    case 'boolean':
      return ascii(v ? 'true' : 'false');
    case 'object':
      if (v === null) return ascii('null');
      return object(v);
    default:
      throw new TypeError(`a ${typeof v} has no JSON form`);
  }
}

function object(o: object): void {
  const json = (o as { toJSON?: unknown }).toJSON;
  if (typeof json === 'function') return value(json.call(o));
  if (Array.isArray(o)) {
    byte(0x5b);
    for (let i = 0; i < o.length; i++) {
      if (i > 0) byte(0x2c);
      const x: unknown = o[i];
      if (x === undefined) ascii('null');
      else value(x);
    }
    return byte(0x5d);
  }
  const keys = Object.keys(o);
  // The default sort compares UTF-16 code units, RFC 8785's order. Events often come sorted.
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) {
      keys.sort();
      break;
    }
  }
  byte(0x7b);
  let first = true;
  for (const k of keys) {
    const x: unknown = (o as Record<string, unknown>)[k];
    if (x === undefined) continue;
    if (!first) byte(0x2c);
    first = false;
    string(k);
    byte(0x3a);
    value(x);
  }
  byte(0x7d);
}

/**
 * The sealing hot path's serializer: keys sorted by UTF-16 code units, ECMAScript
 * number and string forms, so for what sanitize lets through (finite numbers,
 * well-formed strings, plain JSON values) it produces exactly the RFC 8785 form.
 * Property tests hold it to jcs(), and verify rejects any line that is not jcs()
 * of its record. Throws a TypeError on what JSON cannot carry (NaN, a function).
 */
export function jcsFast(v: unknown): string {
  const start = at;
  try {
    value(v);
    return buf.toString('utf8', start, at);
  } finally {
    at = start;
    if (start === 0 && buf.length > KEEP_BYTES) buf = Buffer.allocUnsafeSlow(START_BYTES);
  }
}
