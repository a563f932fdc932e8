import { jcs } from '../crypto/canonical.js';
import { scanCanonicalBody, type TopSpans } from '../crypto/canonicalScan.js';
import { leafHashInto, sha256 } from '../crypto/hash.js';

// A stored line is JCS(record without hash) with `,"hash":"<64 hex>"}` in place of its closing brace.
const SUFFIX_LEN = ',"hash":"'.length + 64 + '"}'.length;
const ZERO = Buffer.from([0x00]);
const BRACE = Buffer.from('}');
const SUFFIX = /^,"hash":"([0-9a-f]{64})"\}$/;
const HEX64 = /^[0-9a-f]{64}$/;

export interface OpenedLine {
  seq: number;
  prev: string;
  hash: Buffer;
  /** The line's own hash field. */
  claimed: string;
  /** The body is exactly the RFC 8785 form of the record without hash, as DESIGN §2 requires. */
  canonical: boolean;
  record: Record<string, unknown>;
}

/**
 * Recomputes a record's hash from its stored line alone. Returns an error string
 * for a line that is not a record; the caller compares `hash` with `claimed`.
 */
export function openLine(line: Buffer): OpenedLine | string {
  if (line.length <= SUFFIX_LEN) return 'line too short to be a record';
  const m = SUFFIX.exec(line.subarray(line.length - SUFFIX_LEN).toString('latin1'));
  if (!m) return 'line does not end with the hash member';
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line.toString('utf8')) as Record<string, unknown>;
  } catch {
    return 'line is not JSON';
  }
  const { seq, prev } = record;
  if (!Number.isSafeInteger(seq) || (seq as number) < 0 || typeof prev !== 'string' || !HEX64.test(prev)) {
    return 'record lacks a valid seq or prev';
  }
  const body = Buffer.concat([ZERO, line.subarray(0, line.length - SUFFIX_LEN), BRACE]); // 0x00 ‖ JCS text
  const { hash: _claimed, ...unsigned } = record;
  let canonical = false;
  try {
    canonical = body.subarray(1).equals(Buffer.from(jcs(unsigned), 'utf8'));
  } catch {
    // lone surrogates or the like: not canonical JSON
  }
  return { seq: seq as number, prev, hash: sha256(body), claimed: m[1]!, canonical, record };
}

const HASH_KEY = Buffer.from(',"hash":"');
const HEX = Buffer.from('0123456789abcdef');

/**
 * openLine's fast path, on the bytes alone (no string, no parse, no re-serializing):
 * the record's seq when the line is certainly a canonical record with a valid prev
 * whose hash member is its leaf hash, which goes into `out`, and where its top-level
 * seq, prev and type are into `spans`. -1 means not sure: openLine then says what
 * the line is, so every error is the reference library's.
 */
export function sealedLine(line: Buffer, out: Uint8Array, spans: TopSpans): number {
  const bodyEnd = line.length - SUFFIX_LEN;
  if (bodyEnd <= 0 || line[line.length - 2] !== 0x22 || line[line.length - 1] !== 0x7d) return -1;
  for (let i = 0; i < HASH_KEY.length; i++) if (line[bodyEnd + i] !== HASH_KEY[i]) return -1;
  if (!scanCanonicalBody(line, bodyEnd, spans) || spans.seqStart < 0 || spans.prevEnd - spans.prevStart !== 66 || !isHex64(line, spans.prevStart + 1))
    return -1;
  // A canonical integer of up to 15 digits is a safe one; a minus sign or a fraction is not a seq.
  let seq = 0;
  if (spans.seqEnd - spans.seqStart > 15) return -1;
  for (let i = spans.seqStart; i < spans.seqEnd; i++) {
    const d = line[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    seq = seq * 10 + d;
  }
  leafHashInto(out, line.subarray(0, bodyEnd), BRACE);
  return hexEquals(line, bodyEnd + HASH_KEY.length, out, 0) ? seq : -1;
}

/** buf[at..at+64) is the lowercase hex of bytes[from..from+32). */
export function hexEquals(buf: Buffer, at: number, bytes: Uint8Array, from: number): boolean {
  for (let k = 0; k < 32; k++) {
    const b = bytes[from + k]!;
    if (buf[at + 2 * k] !== HEX[b >> 4] || buf[at + 2 * k + 1] !== HEX[b & 15]) return false;
  }
  return true;
}

function isHex64(buf: Buffer, at: number): boolean {
  for (let i = at; i < at + 64; i++) {
    const c = buf[i]!;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}
