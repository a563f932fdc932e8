import { VerifyCode } from '../errors.js';
import { noSpans } from '../crypto/canonicalScan.js';
import { hexEquals, openLine, sealedLine } from '../store/recordLine.js';
import { frameBlocks, overCap } from '../store/lz4frames.js';
import { OwnType } from '../ownRecords.js';

/** The types of sealog's own records the verifier reads, and their lengths (to skip the others unread). */
const OWN_TYPES: ReadonlySet<string> = new Set([OwnType.RETENTION_REMOVED, OwnType.KEY_TRANSITION, OwnType.SIGNATURE]);
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
  /** The frame does not decode into whole record lines, or may decode to more than the cap. */
  corrupt?: { code: string; message: string };
}

const NOT_CANONICAL_MESSAGE = 'record line is not the canonical (RFC 8785) form of its contents';
export const CHAIN_MESSAGE = 'prev does not match the hash of the record before';
export const seqMessage = (found: number, expected: number) =>
  `found seq ${found} where seq ${expected} belongs (record ${found < expected ? 'duplicated or reordered' : 'deleted or reordered'})`;

/**
 * Checks the records of one raw LZ4 frame (the part of verify that runs on any thread).
 * The frame is decoded block by block: one decoded block (at most 4 MiB) and the line
 * it cuts in two are held at a time, never the whole frame, so a thread holds at most
 * about the raw frame plus `frameCap` (a line cannot be longer than its frame).
 */
export function checkFrame(raw: Buffer, maxDecoded: number, frameCap: number): FrameCheck {
  if (maxDecoded > frameCap)
    return { ...emptyCheck(), corrupt: { code: VerifyCode.FRAME_TOO_LARGE, message: `${overCap(maxDecoded, frameCap)} (verify --max-frame-mb raises it)` } };
  return checkBlocks(frameBlocks(raw));
}

const emptyCheck = (): FrameCheck => ({
  count: 0,
  leaves: new Uint8Array(0),
  lineEnds: new Uint32Array(0),
  firstSeq: -1,
  firstPrev: '',
  lastHash: '',
  own: [],
});

/** checkFrame on a frame already decoded into whole "\n"-terminated lines (a reader that keeps the lines). */
export const checkDecoded = (decoded: Buffer): FrameCheck => checkBlocks([decoded]);

/** The records of a frame's decoded blocks, in order; a line may run across blocks. */
function checkBlocks(blocks: Iterable<Buffer>): FrameCheck {
  const result = emptyCheck();
  // Own (not pooled) memory, so a worker can transfer it instead of copying; grown as lines come.
  let leaves = new Uint8Array(256 * 32);
  let lineEnds = new Uint32Array(256);
  let hex = Buffer.from(leaves.buffer);
  const spans = noSpans();
  const stop = (index: number, code: string, message: string) => (result.stop = { index, code, message });

  /** Checks line n against the frame's records before it; false once one fails. */
  const checkLine = (line: Buffer, n: number): boolean => {
    if (n === lineEnds.length) {
      const more = new Uint8Array(leaves.length * 2);
      more.set(leaves);
      leaves = more;
      hex = Buffer.from(leaves.buffer);
      const ends = new Uint32Array(lineEnds.length * 2);
      ends.set(lineEnds);
      lineEnds = ends;
    }
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
      const r = openLine(line);
      if (typeof r === 'string') return !stop(n, VerifyCode.RECORD_MALFORMED, r);
      if (!r.canonical) return !stop(n, VerifyCode.NOT_CANONICAL, NOT_CANONICAL_MESSAGE);
      if (r.hash.toString('hex') !== r.claimed) return !stop(n, VerifyCode.HASH_MISMATCH, `record hash does not match its contents (seq field says ${r.seq})`);
      if (n === 0) {
        result.firstSeq = r.seq;
        result.firstPrev = r.prev;
      } else if (r.seq !== result.firstSeq + n) return !stop(n, VerifyCode.SEQ_MISMATCH, seqMessage(r.seq, result.firstSeq + n));
      else if (r.prev !== hex.toString('hex', (n - 1) * 32, n * 32)) return !stop(n, VerifyCode.CHAIN_BROKEN, CHAIN_MESSAGE);
      leaf.set(r.hash);
      type = typeof r.record.type === 'string' ? r.record.type : undefined;
      record = r.record;
    }
    if (type !== undefined && OWN_TYPES.has(type)) {
      result.own.push({ index: n, record: record ?? (JSON.parse(line.toString('utf8')) as Record<string, unknown>) });
    }
    return true;
  };

  let n = 0;
  let decoded = 0; // bytes of the blocks before this one
  const cut: Buffer[] = []; // the start of a line that runs on into the next block
  let cutBytes = 0;
  try {
    // After a record fails, the rest is still decoded (and dropped): a frame that fails its
    // checksums is reported as the damaged frame it is, not as the record it garbled.
    decoding: for (const block of blocks) {
      if (result.stop) continue;
      let start = 0;
      for (let nl = block.indexOf(0x0a); nl !== -1; nl = block.indexOf(0x0a, start)) {
        let line = block.subarray(start, nl);
        if (cutBytes) {
          line = Buffer.concat([...cut, line], cutBytes + line.length);
          cut.length = cutBytes = 0;
        }
        if (!checkLine(line, n)) continue decoding;
        start = nl + 1;
        lineEnds[n++] = decoded + start;
      }
      if (start < block.length) {
        cut.push(Buffer.from(block.subarray(start))); // a copy: the next block is decoded into the same buffer
        cutBytes += block.length - start;
      }
      decoded += block.length;
    }
  } catch (err) {
    result.corrupt = { code: VerifyCode.FRAME_CORRUPT, message: `LZ4 frame does not decode: ${(err as Error).message}` };
    return result;
  }
  if (!result.stop && (cutBytes > 0 || decoded === 0)) {
    result.corrupt = { code: VerifyCode.FRAME_CORRUPT, message: 'frame does not end with a whole record line' };
    return result;
  }
  result.count = n;
  result.leaves = leaves.subarray(0, n * 32);
  result.lineEnds = lineEnds.subarray(0, n);
  result.lastHash = n > 0 ? hex.toString('hex', (n - 1) * 32, n * 32) : '';
  return result;
}
