import canonicalize from 'canonicalize';
import { loadNative } from '../native.js';

/** RFC 8785 canonical JSON, by the reference library. The verifier checks lines against this. */
export function jcs(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no canonical JSON form');
  return text;
}

/** Where canonical bytes go: buf[0, pos) is kept, the bytes are appended (what lies past pos may be overwritten), buf is replaced when it grows. */
export interface ByteSink {
  buf: Buffer;
  pos: number;
}

/** A buffer with room for `need` bytes holding buf[0, used): buf itself, or a bigger copy (its own ArrayBuffer, so it can be transferred). */
export function grown(buf: Buffer, used: number, need: number): Buffer {
  if (need <= buf.length) return buf;
  const bigger = Buffer.allocUnsafeSlow(Math.max(buf.length * 2, need));
  buf.copy(bigger, 0, 0, used);
  return bigger;
}

// The sink being written, held in module variables for the duration of one jcsInto call
// (which then puts them back in the sink).
let buf: Buffer = Buffer.alloc(0);
let at = 0;

function room(n: number): void {
  if (at + n > buf.length) buf = grown(buf, at, at + n);
}

function byte(b: number): void {
  room(1);
  buf[at++] = b;
}

/** Text of ASCII characters that need no escape (literals, numbers). */
function ascii(s: string): void {
  room(s.length);
  for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
}

function string(s: string): void {
  const n = s.length;
  room(n + 2);
  // Locals, not the module's buf and at, in the loop every character goes through.
  const b = buf;
  let p = at;
  b[p++] = 0x22;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) {
      at = p;
      return stringRest(s, i);
    }
    b[p++] = c;
  }
  b[p++] = 0x22;
  at = p;
}

const HEX = '0123456789abcdef';
// The short escapes JSON.stringify (and so RFC 8785) uses for controls: \b \t \n \f \r; 0 for \u00XX.
const SHORT_ESCAPE = new Uint8Array(0x20);
SHORT_ESCAPE[0x08] = 0x62;
SHORT_ESCAPE[0x09] = 0x74;
SHORT_ESCAPE[0x0a] = 0x6e;
SHORT_ESCAPE[0x0c] = 0x66;
SHORT_ESCAPE[0x0d] = 0x72;

/**
 * The rest of a string from s[i], as UTF-8, escaped as JSON.stringify escapes (the form
 * RFC 8785 prescribes): ", \ and controls; a lone surrogate as \uXXXX in lower case, as
 * well-formed JSON.stringify writes it. Then the closing quote.
 */
function stringRest(s: string, i: number): void {
  const n = s.length;
  for (; i < n; i++) {
    room(6);
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c) buf[at++] = c;
      else if (c >= 0x20) {
        buf[at++] = 0x5c;
        buf[at++] = c;
      } else if (SHORT_ESCAPE[c] !== 0) {
        buf[at++] = 0x5c;
        buf[at++] = SHORT_ESCAPE[c]!;
      } else unicodeEscape(c);
    } else if (c < 0x800) {
      buf[at++] = 0xc0 | (c >> 6);
      buf[at++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      buf[at++] = 0xe0 | (c >> 12);
      buf[at++] = 0x80 | ((c >> 6) & 0x3f);
      buf[at++] = 0x80 | (c & 0x3f);
    } else {
      const d = c <= 0xdbff && i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (d < 0xdc00 || d > 0xdfff) {
        unicodeEscape(c);
        continue;
      }
      i++;
      const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      buf[at++] = 0xf0 | (cp >> 18);
      buf[at++] = 0x80 | ((cp >> 12) & 0x3f);
      buf[at++] = 0x80 | ((cp >> 6) & 0x3f);
      buf[at++] = 0x80 | (cp & 0x3f);
    }
  }
  byte(0x22);
}

/** \uXXXX, lower-case hex; the caller made room for 6 bytes. */
function unicodeEscape(c: number): void {
  buf[at++] = 0x5c;
  buf[at++] = 0x75;
  buf[at++] = HEX.charCodeAt(c >> 12);
  buf[at++] = HEX.charCodeAt((c >> 8) & 0xf);
  buf[at++] = HEX.charCodeAt((c >> 4) & 0xf);
  buf[at++] = HEX.charCodeAt(c & 0xf);
}

function number(v: number): void {
  if (!Number.isFinite(v)) throw new TypeError(`${v} has no JSON form`);
  // Most numbers in events are small integers: their digits, without a string made for each,
  // in int32 arithmetic (-2^31 has no positive int32; -0 passes and prints as 0, its RFC 8785 form).
  if ((v | 0) !== v || v === -0x80000000) return ascii(String(v)); // ECMAScript's number to string is RFC 8785's
  room(11);
  let n = v;
  if (n < 0) {
    buf[at++] = 0x2d;
    n = -n;
  }
  let end = at + 1;
  for (let m = n; m >= 10; m = (m / 10) | 0) end++;
  for (let p = end - 1; p >= at; p--) {
    const q = (n / 10) | 0;
    buf[p] = 0x30 + n - q * 10;
    n = q;
  }
  at = end;
}

function value(v: unknown): void {
  switch (typeof v) {
    case 'string':
      return string(v);
    case 'number':
      return number(v);
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
  const shape = keys.length === 0 ? undefined : shapeOf(keys);
  if (shape === undefined) return members(o as Record<string, unknown>, keys);
  const { words, wordEnds, lens, order } = shape;
  let first = true;
  for (let j = 0; j < order.length; j++) {
    const x: unknown = (o as Record<string, unknown>)[keys[order[j]!]!];
    if (x === undefined) continue;
    // The key's `,"key":` four bytes a store (its last word may spill up to 3 bytes past it: what follows overwrites them).
    const len = lens[j]!;
    room(len + 3);
    if (viewed !== buf) viewFor(buf);
    for (let k = j === 0 ? 0 : wordEnds[j - 1]!, e = wordEnds[j]!, q = at; k < e; k++, q += 4) view.setInt32(q, words[k]!, true);
    if (first) buf[at] = 0x7b; // the first member's comma is the object's brace
    first = false;
    at += len;
    value(x);
  }
  if (first) byte(0x7b);
  byte(0x7d);
}

/** An object's members when its shape is not cached: keys sorted here, written one by one. */
function members(o: Record<string, unknown>, keys: string[]): void {
  // The default sort compares UTF-16 code units, RFC 8785's order. (On a copy: the shape
  // cache may keep the list as it came.)
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) {
      keys = keys.slice().sort();
      break;
    }
  }
  byte(0x7b);
  let first = true;
  for (const k of keys) {
    const x: unknown = o[k];
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
 * What object() needs to write the members of objects with one key list (Object.keys
 * order): the keys' order in UTF-16 code units (indices into the list) and each one's
 * `,"key":` in UTF-8, in that order, as little-endian 32-bit words (key j's end at
 * wordEnds[j], lens[j] its bytes). The events of one producer mostly come in a few shapes,
 * so each shape's sort and key text is made once, not per object.
 */
interface Shape {
  order: number[];
  words: Int32Array;
  wordEnds: number[];
  lens: number[];
}

// A view of buf for the 32-bit stores of key texts, made again when buf is another buffer.
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
let viewed: Buffer | undefined;

function viewFor(b: Buffer): void {
  view = new DataView(b.buffer, b.byteOffset, b.length);
  viewed = b;
}

// Keys come from the input: the cache is bounded in key lists, keys per list and key length,
// and emptied when full. A list's shape is made the second time it is seen, so an input of
// ever new key lists costs a list's copy per object, not a shape's making.
const MAX_SHAPES = 256;
const MAX_SHAPE_KEYS = 32;
const MAX_KEY_CHARS = 64;
const MAX_SAME_FIRST_KEY = 8;
/** Key lists by their first key, each with its shape once seen twice; a short list each (the oldest goes first). */
const shapes = new Map<string, { keys: string[]; shape: Shape | undefined }[]>();
let shapeCount = 0;

function shapeOf(keys: string[]): Shape | undefined {
  const n = keys.length;
  const same = shapes.get(keys[0]!);
  if (same !== undefined) {
    next: for (let s = 0; s < same.length; s++) {
      const known = same[s]!;
      if (known.keys.length !== n) continue;
      // Keys from JSON.parse are internalized strings: === is mostly a pointer compare.
      for (let i = 1; i < n; i++) if (known.keys[i] !== keys[i]) continue next;
      if (known.shape === undefined) known.shape = makeShape(keys);
      return known.shape;
    }
  }
  if (n > MAX_SHAPE_KEYS) return undefined;
  for (let i = 0; i < n; i++) if (keys[i]!.length > MAX_KEY_CHARS) return undefined;
  if (shapeCount >= MAX_SHAPES) {
    shapes.clear();
    shapeCount = 0;
  }
  shapeCount++;
  const seen = { keys, shape: undefined };
  const list = shapes.get(keys[0]!);
  if (list === undefined) shapes.set(keys[0]!, [seen]);
  else if (list.push(seen) > MAX_SAME_FIRST_KEY) {
    list.shift();
    shapeCount--;
  }
  return undefined;
}

function makeShape(keys: string[]): Shape {
  const order = keys.map((_, i) => i).sort((a, b) => (keys[a]! < keys[b]! ? -1 : 1));
  const texts = order.map((i) => `,${JSON.stringify(keys[i])}:`);
  const bytes = Buffer.from(texts.join(''), 'utf8');
  const words: number[] = [];
  const wordEnds: number[] = [];
  const lens: number[] = [];
  let p = 0;
  for (const text of texts) {
    const len = utf8Length(text);
    for (let b = p; b < p + len; b += 4) {
      const byteAt = (k: number) => (k < p + len ? bytes[k]! : 0);
      words.push(byteAt(b) | (byteAt(b + 1) << 8) | (byteAt(b + 2) << 16) | (byteAt(b + 3) << 24));
    }
    wordEnds.push(words.length);
    lens.push(len);
    p += len;
  }
  return { order, words: new Int32Array(words), wordEnds, lens };
}

/** UTF-8 bytes of well-formed text (as JSON.stringify writes it: no lone surrogates). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? (i++, 4) : 3;
  }
  return n;
}

/** How many object shapes are cached (for the test that the cache stays bounded). */
export function cachedShapes(): number {
  return shapeCount;
}

/**
 * Appends v's RFC 8785 bytes to w, as UTF-8: keys sorted by UTF-16 code units, ECMAScript
 * number and string forms, so for what sanitize lets through (finite numbers, well-formed
 * strings, plain JSON values) it writes exactly the RFC 8785 form. Property tests hold it
 * to jcs(), and verify rejects any line that is not jcs() of its record. Throws a
 * TypeError on what JSON cannot carry (NaN, a function); w.pos then stays where it was.
 */
export function jcsInto(w: ByteSink, v: unknown): void {
  // A toJSON may serialize too: the outer call's sink is put back after.
  const outerBuf = buf;
  const outerAt = at;
  const outerWriting = writing;
  buf = w.buf;
  at = w.pos;
  writing = true;
  try {
    value(v);
    w.pos = at;
  } finally {
    w.buf = buf;
    buf = outerBuf;
    at = outerAt;
    writing = outerWriting;
  }
}

const fromJson = loadNative().native?.jcsFromJson;

/**
 * Appends the RFC 8785 bytes of a JSON text (as JSON.parse accepted it) to w, by the addon,
 * without a JS object walk: true when written; false, w as it was, when there is no addon or
 * it declines the text (see native/jcs.c), and the caller then uses jcsInto on the parsed value.
 */
export function jcsFromText(w: ByteSink, text: Uint8Array): boolean {
  if (fromJson === undefined) return false;
  // Room for the text and for an object's members sorted past its end; the output may be longer
  // than the text (1e20 is 21 digits), so on -2 once more with room for the worst case.
  for (let need = 2 * text.length + 64; ; need = 12 * text.length + 64) {
    if (w.pos + need > w.buf.length) w.buf = grown(w.buf, w.pos, w.pos + need);
    const end = fromJson(text, 0, text.length, w.buf, w.pos);
    if (end >= 0) {
      w.pos = end;
      return true;
    }
    if (end === -1 || need > 2 * text.length + 64) return false;
  }
}

// jcsFast writes into one buffer, kept from call to call, and reads it back as one string.
// A string built by concatenation is a tree of pieces: each piece is garbage, and hashing
// it flattens the tree again; this one is flat from the start.
const START_BYTES = 1 << 16;
const KEEP_BYTES = 1 << 20;
const scratch: ByteSink = { buf: Buffer.allocUnsafeSlow(START_BYTES), pos: 0 };
/** A jcsInto call is under way (so a toJSON that calls jcsFast needs a buffer of its own). */
let writing = false;

/** v's RFC 8785 text, as jcsInto writes it. */
export function jcsFast(v: unknown): string {
  const w = writing ? { buf: Buffer.allocUnsafeSlow(256), pos: 0 } : scratch;
  try {
    jcsInto(w, v);
    return w.buf.toString('utf8', 0, w.pos);
  } finally {
    w.pos = 0;
    if (w.buf.length > KEEP_BYTES) w.buf = Buffer.allocUnsafeSlow(START_BYTES);
  }
}
