import { jcs } from '../crypto/canonical.js';
import { sha256 } from '../crypto/hash.js';

// A stored line is JCS(record without hash) with `,"hash":"<64 hex>"}` in place of its closing brace.
const SUFFIX_LEN = ',"hash":"'.length + 64 + '"}'.length;
const ZERO = Buffer.from([0x00]);
const BRACE = Buffer.from('}');
const SUFFIX = /^,"hash":"([0-9a-f]{64})"\}$/;

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
  if (!Number.isSafeInteger(seq) || (seq as number) < 0 || typeof prev !== 'string' || !/^[0-9a-f]{64}$/.test(prev)) {
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
