import { createHash, hash } from 'node:crypto';
import { loadNative } from '../native.js';

const LEAF = Buffer.from([0x00]);
const NODE = Buffer.from([0x01]);

// node:crypto costs several µs a call whatever the size (a new Buffer and its backing store,
// the digest looked up by name), more than hashing a 600-byte record itself. The addon calls
// OpenSSL's SHA-256 directly and writes the digest into a slab, 32 bytes a hash, like Buffer's
// own pool. Without the addon, node:crypto (crypto.hash: one call, no Hash object).
const native = loadNative().native;
const into = native?.sha256Into;
const SLAB = 8192;
let slab = Buffer.alloc(0);
let at = 0;

function digest(a: Uint8Array, b?: Uint8Array, c?: Uint8Array): Buffer {
  if (at + 32 > slab.length) {
    slab = Buffer.allocUnsafeSlow(SLAB);
    at = 0;
  }
  const out = slab.subarray(at, (at += 32));
  if (c) into!(out, a, b!, c);
  else if (b) into!(out, a, b);
  else into!(out, a);
  return out;
}

export function sha256(data: Uint8Array): Buffer {
  return into ? digest(data) : (hash('sha256', data, 'buffer') as unknown as Buffer);
}

/** RFC 9162 leaf hash: SHA-256(0x00 ‖ data). */
export function leafHash(data: Uint8Array | string): Buffer {
  const d = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return into ? digest(LEAF, d) : sha256(Buffer.concat([LEAF, d]));
}

/**
 * The leaf hash of buf[from..to) into out[outAt..+32), and its lowercase hex into buf[hexAt..+64)
 * (outside the range hashed): the seal stage's record hash and its hash member's text in one
 * native call, with no view of the record and no hex loop in JS.
 */
export function leafHashHexInto(buf: Buffer, from: number, to: number, hexAt: number, out: Buffer, outAt: number): void {
  if (native) return native.leafHashHex(buf, from, to, hexAt, out, outAt);
  const h = leafHash(buf.subarray(from, to));
  out.set(h, outAt);
  buf.write(h.toString('hex'), hexAt, 'latin1');
}

/** RFC 9162 leaf hash of body ‖ tail, written into out[0..32): no concatenated copy of the record. */
export function leafHashInto(out: Uint8Array, body: Uint8Array, tail: Uint8Array): void {
  if (into) into(out, LEAF, body, tail);
  else out.set(createHash('sha256').update(LEAF).update(body).update(tail).digest());
}

/** RFC 9162 interior node hash: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return into ? digest(NODE, left, right) : sha256(Buffer.concat([NODE, left, right], 65));
}

export function sha256Hex(data: Buffer | string): string {
  return hash('sha256', data, 'hex');
}

export const ZERO_HASH_HEX = '0'.repeat(64);
