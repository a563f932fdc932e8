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

export interface CheckedLine {
  seq: number;
  prev: string;
  claimed: string;
  canonical: boolean;
  /** The top-level type as written (escapes not decoded): enough to spot sealog's own records. */
  type: string | undefined;
  /** The parsed record, when the slow path parsed it anyway. */
  record?: Record<string, unknown>;
}

const top: TopSpans = { seqStart: -1, seqEnd: -1, prevStart: -1, prevEnd: -1, typeStart: -1, typeEnd: -1 };

/**
 * openLine's verdict without parsing or re-serializing the record when the bytes
 * show it is canonical (the common case): the hash goes into `out`, straight from
 * the line's bytes. Anything the byte scan is unsure of goes through openLine, so
 * every error and every "not canonical" is the reference library's.
 */
export function checkLine(line: Buffer, out: Uint8Array): CheckedLine | string {
  const bodyEnd = line.length - SUFFIX_LEN;
  if (bodyEnd > 0 && scanCanonicalBody(line, bodyEnd, top) && top.seqStart >= 0 && top.prevEnd - top.prevStart === 66) {
    const m = SUFFIX.exec(line.toString('latin1', bodyEnd));
    const seqLen = top.seqEnd - top.seqStart;
    const prev = line.toString('latin1', top.prevStart + 1, top.prevEnd - 1);
    // A canonical integer of up to 15 digits is a safe one; a minus sign or a fraction is not a seq.
    if (m && seqLen <= 15 && line[top.seqStart]! >= 0x30 && line[top.seqStart]! <= 0x39 && HEX64.test(prev)) {
      const seq = Number(line.toString('latin1', top.seqStart, top.seqEnd));
      if (Number.isSafeInteger(seq)) {
        leafHashInto(out, line.subarray(0, bodyEnd), BRACE);
        const type = top.typeStart >= 0 && line[top.typeStart] === 0x22 ? line.toString('utf8', top.typeStart + 1, top.typeEnd - 1) : undefined;
        return { seq, prev, claimed: m[1]!, canonical: true, type };
      }
    }
  }
  const r = openLine(line);
  if (typeof r === 'string') return r;
  out.set(r.hash);
  return { seq: r.seq, prev: r.prev, claimed: r.claimed, canonical: r.canonical, type: typeof r.record.type === 'string' ? r.record.type : undefined, record: r.record };
}
