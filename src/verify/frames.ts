import { VerifyCode } from '../errors.js';
import { noSpans } from '../crypto/canonicalScan.js';
import { hexEquals, openLine, sealedLine } from '../store/recordLine.js';
import { decodeRecords } from '../store/records.js';
import { SIGNATURE_TYPE } from '../sign/signature.js';

/** sealog's own record saying retention removed a segment (DESIGN §3, README "Retention"). */
export const REMOVAL_TYPE = 'sealog.retention.removed';
/** sealog's own record of a key rotation: the old key retires at its seq. */
export const TRANSITION_TYPE = 'sealog.key.transition';
/** The types of sealog's own records the verifier reads, and their lengths (to skip the others unread). */
const OWN_TYPES: ReadonlySet<string> = new Set([REMOVAL_TYPE, TRANSITION_TYPE, SIGNATURE_TYPE]);
const OWN_LENGTHS: ReadonlySet<number> = new Set([...OWN_TYPES].map((t) => t.length));

/**
 * One frame's records checked on their own: everything that needs no state from
 * before the frame (decode, canonical form, hash, and seq and prev against the
 * record before within the frame). The caller checks the first record against
 * the log so far, feeds `leaves` to the Merkle tree and stops at `stop`.
 */
export interface FrameCheck {
  /** Records before the first that fails here (all of them when none does). */
  count: number;
  /** Their leaf hashes, 32 bytes each. */
  leaves: Uint8Array;
  /** Bytes of record lines (with their "\n") through each record: lineEnds[i] counts records 0..i. */
  lineEnds: Uint32Array;
  firstSeq: number;
  firstPrev: string;
  /** The hash of record count-1. */
  lastHash: string;
  /** sealog's own records (removals, key transitions, signatures), parsed, by index in the frame. */
  own: { index: number; record: Record<string, unknown> }[];
  /** The first record failing a check here. */
  stop?: { index: number; code: string; message: string };
  /** The frame does not decode into whole record lines. */
  corrupt?: string;
}

const NOT_CANONICAL_MESSAGE = 'record line is not the canonical (RFC 8785) form of its contents';
export const CHAIN_MESSAGE = 'prev does not match the hash of the record before';
export const seqMessage = (found: number, expected: number) =>
  `found seq ${found} where seq ${expected} belongs (record ${found < expected ? 'duplicated or reordered' : 'deleted or reordered'})`;

/** Checks the records of one raw LZ4 frame (the part of verify that runs on any thread). */
export function checkFrame(raw: Buffer, maxDecoded: number, frameCap: number): FrameCheck {
  const decoded = decodeRecords(raw, maxDecoded, frameCap);
  if (!Buffer.isBuffer(decoded)) return { ...emptyCheck(), corrupt: decoded.reason };
  return checkDecoded(decoded);
}

const emptyCheck = (): FrameCheck => ({ count: 0, leaves: new Uint8Array(0), lineEnds: new Uint32Array(0), firstSeq: -1, firstPrev: '', lastHash: '', own: [] });

/** checkFrame on a frame already decoded into whole "\n"-terminated lines (a reader that keeps the lines). */
export function checkDecoded(decoded: Buffer): FrameCheck {
  const result = emptyCheck();
  let lines = 0;
  for (let i = decoded.indexOf(0x0a); i !== -1; i = decoded.indexOf(0x0a, i + 1)) lines++;
  // Own (not pooled) memory, so a worker can transfer it instead of copying.
  const leaves = new Uint8Array(lines * 32);
  const lineEnds = new Uint32Array(lines);
  const hex = Buffer.from(leaves.buffer);
  const spans = noSpans();
  let start = 0;
  let n = 0;
  for (; n < lines; n++) {
    const end = decoded.indexOf(0x0a, start);
    const line = decoded.subarray(start, end);
    const leaf = leaves.subarray(n * 32, n * 32 + 32);
    const seq = sealedLine(line, leaf, spans);
    let type: string | undefined;
    let record: Record<string, unknown> | undefined;
    if (seq >= 0 && (n === 0 || (seq === result.firstSeq + n && hexEquals(line, spans.prevStart + 1, leaves, (n - 1) * 32)))) {
      if (n === 0) {
        result.firstSeq = seq;
        result.firstPrev = line.toString('latin1', spans.prevStart + 1, spans.prevEnd - 1);
      }
      // Only sealog's own records are parsed: their type is one of a few lengths.
      if (OWN_LENGTHS.has(spans.typeEnd - spans.typeStart - 2)) type = line.toString('latin1', spans.typeStart + 1, spans.typeEnd - 1);
    } else {
      // Not sure, or something is wrong: the reference path names it.
      const stop = (code: string, message: string) => (result.stop = { index: n, code, message });
      const r = openLine(line);
      if (typeof r === 'string') {
        stop(VerifyCode.RECORD_MALFORMED, r);
        break;
      }
      if (!r.canonical) {
        stop(VerifyCode.NOT_CANONICAL, NOT_CANONICAL_MESSAGE);
        break;
      }
      if (r.hash.toString('hex') !== r.claimed) {
        stop(VerifyCode.HASH_MISMATCH, `record hash does not match its contents (seq field says ${r.seq})`);
        break;
      }
      if (n === 0) {
        result.firstSeq = r.seq;
        result.firstPrev = r.prev;
      } else if (r.seq !== result.firstSeq + n) {
        stop(VerifyCode.SEQ_MISMATCH, seqMessage(r.seq, result.firstSeq + n));
        break;
      } else if (r.prev !== hex.toString('hex', (n - 1) * 32, n * 32)) {
        stop(VerifyCode.CHAIN_BROKEN, CHAIN_MESSAGE);
        break;
      }
      leaf.set(r.hash);
      type = typeof r.record.type === 'string' ? r.record.type : undefined;
      record = r.record;
    }
    if (type !== undefined && OWN_TYPES.has(type)) {
      result.own.push({ index: n, record: record ?? (JSON.parse(line.toString('utf8')) as Record<string, unknown>) });
    }
    start = end + 1;
    lineEnds[n] = start;
  }
  result.count = n;
  result.leaves = leaves;
  result.lineEnds = lineEnds;
  result.lastHash = n > 0 ? hex.toString('hex', (n - 1) * 32, n * 32) : '';
  return result;
}
