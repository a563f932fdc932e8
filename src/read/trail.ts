/**
 * The one read-only view of a sealog data directory (a live daemon's or an archive),
 * used by every reader: query, proofs, tiles, the HTTP API, reports, sinks. It opens
 * files for reading only, takes no lock and never talks to the writer, so it cannot
 * block or slow it. It sees committed frames only: a segment's bytes are read up to
 * its last whole LZ4 frame, and a frame still being appended is left for later.
 *
 * Exported API
 * - `openTrail(dataDir, { frameCap?, onWarning? })` → `Trail`; `trail.warn(message)` reports a
 *   problem that is no failure (a damaged index ignored and rebuilt) through onWarning.
 * - `trail.segments()` → `SegmentInfo[]` oldest first: `{ n, name, path, bytes, open }`; `open` is
 *   the newest segment while it has no manifest (the one the daemon appends to).
 * - `trail.frames(segment)` → `FrameRef[]` (`{ offset, length, maxDecoded }`) of its whole frames;
 *   remembered for closed segments, extended incrementally for the open one.
 * - `trail.decode(segment, frame)` → the frame's record bytes (whole "\n"-terminated lines); the last few
 *   decoded are reused while the file holds the same raw bytes. The caller must not write into them.
 * - `trail.checkLine(segment, frame, line, seq, prevHash)`: one record checked on its own (hash, seq,
 *   prev against the claimed hash of the record before), for readers that hand out only some.
 * - `trail.check(segment, frame, decoded)` → `CheckedFrame`: every line's hash recomputed from the
 *   line, seq and prev checked within the frame; throws `TrailError` naming seq, segment, offset.
 * - `trail.records({ fromSeq?, toSeq? })` → async iterator of `TrailRecord` (seq, line, hash,
 *   segment, offset), every one checked, `prev` chained across frames and segments.
 * - `trail.firstSeq(segment)` → the seq of the segment's first record (undefined when it has none yet), from a closed
 *   segment's manifest when it describes the file, else from its first frame.
 * - `trail.checkpoints()` → `{ size, file }[]` oldest first; `trail.newestCheckpoint()` →
 *   `CheckpointFile` (`{ size, origin, root, text, file }`, parsed, its signature not checked: a
 *   reader that must trust it checks it against a pinned key, e.g. with proofs.ts).
 * - `trail.committedSize()` → the tree size the committed records make (last seq + 1), read from
 *   the files alone.
 * - `TrailError` (code E_INTEGRITY): `finding` = `{ code: V_…, message, seq?, segment, offset }`.
 */
import { readFile, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, SealogError, VerifyCode } from '../errors.js';
import { layout, listCheckpoints, listSegments, manifestName, type Layout } from '../store/layout.js';
import { readFrames } from '../store/lz4frames.js';
import { readOwnManifest } from '../store/manifest.js';
import { decodeRecords } from '../store/records.js';
import { parseNote } from '../crypto/note.js';
import { noSpans } from '../crypto/canonicalScan.js';
import { openLine, sealedLine } from '../store/recordLine.js';
import { CHAIN_MESSAGE, checkDecoded, seqMessage } from '../verify/frames.js';
import { NOTE_MAX_BYTES, openRegular, readCapped } from '../store/safeRead.js';

export interface SegmentInfo {
  n: number;
  name: string;
  path: string;
  bytes: number;
  open: boolean;
}

export interface FrameRef {
  offset: number;
  length: number;
  maxDecoded: number;
  /** Its records' seqs, once a check (or the index) has told them. */
  seqs?: { first: number; count: number };
}

export interface CheckedFrame {
  firstSeq: number;
  /** The record lines, without their "\n" (views into the decoded frame). */
  lines: Buffer[];
  /** Leaf hashes, 32 bytes each, line i at [32i, 32i+32). */
  hashes: Uint8Array;
  firstPrev: string;
  lastHash: string;
}

export interface TrailRecord {
  seq: number;
  line: Buffer;
  hash: Buffer;
  segment: number;
  /** Byte offset of the LZ4 frame holding the record. */
  offset: number;
}

export interface Finding {
  code: string;
  message: string;
  seq?: number;
  segment: string;
  offset: number;
}

export class TrailError extends SealogError {
  constructor(readonly finding: Finding) {
    super(
      ErrorCode.INTEGRITY,
      `${finding.code}: ${finding.message} (${finding.seq !== undefined ? `seq ${finding.seq}, ` : ''}segment ${finding.segment}, byte ${finding.offset})`,
    );
  }
}

export interface CheckpointFile {
  size: number;
  origin: string;
  root: Buffer;
  /** The signed note, as stored. */
  text: string;
  file: string;
}

/** Frames decode to at most this by default: far over any batch (batch.max_bytes ≤ 16 MiB), bounded against hostile segments. */
const DEFAULT_FRAME_CAP = 256 * 1024 * 1024;

/** Decoded frames kept for a reader that comes back to them: at most this many, and bytes (raw + decoded). */
const RECENT_FRAMES = 4;
const RECENT_BYTES = 32 * 1024 * 1024;

export interface TrailOptions {
  frameCap?: number;
  /** What a reader should tell its user but that is no failure (a damaged index ignored and rebuilt). Default: stderr. */
  onWarning?(message: string): void;
}

export function openTrail(dataDir: string, opts: TrailOptions = {}): Trail {
  return new Trail(layout(dataDir), opts.frameCap ?? DEFAULT_FRAME_CAP, opts.onWarning ?? ((m) => process.stderr.write(`sealog: warning: ${m}\n`)));
}

export class Trail {
  private readonly frameCache = new Map<number, { frames: FrameRef[]; walked: number; closed: boolean }>();
  private readonly firstSeqs = new Map<number, number>();
  private readonly recent: { path: string; offset: number; raw: Buffer; decoded: Buffer }[] = [];
  private recentBytes = 0;

  constructor(
    readonly layout: Layout,
    readonly frameCap: number,
    readonly warn: (message: string) => void,
  ) {}

  get data(): string {
    return this.layout.data;
  }

  async segments(): Promise<SegmentInfo[]> {
    const list = await listSegments(this.layout);
    const out: SegmentInfo[] = [];
    for (const [i, { n, name }] of list.entries()) {
      const path = join(this.layout.segments, name);
      const st = await stat(path).catch(() => undefined);
      if (!st) continue; // removed by retention while we listed
      const newest = i === list.length - 1;
      const open = newest && !(await stat(join(this.layout.segments, manifestName(n))).catch(() => undefined));
      out.push({ n, name, path, bytes: st.size, open });
    }
    return out;
  }

  /** The segment's whole frames. A closed segment is walked once; the open one from where the last walk ended. */
  async frames(seg: SegmentInfo): Promise<FrameRef[]> {
    let c = this.frameCache.get(seg.n);
    if (c?.closed) return c.frames;
    if (!c) this.frameCache.set(seg.n, (c = { frames: [], walked: 0, closed: false }));
    const fh = await openRegular(seg.path); // not a link, FIFO or device (safeRead.ts)
    try {
      const { size } = await fh.stat();
      for await (const f of readFrames(fh, size, this.frameCap, c.walked)) {
        if ('raw' in f) {
          // Two readers may extend the open segment's list at once (concurrent API requests):
          // a frame another walk has already added is not added twice.
          if (f.offset !== c.walked) continue;
          c.frames.push({ offset: f.offset, length: f.raw.length, maxDecoded: f.maxDecoded });
          c.walked = f.offset + f.raw.length;
          continue;
        }
        // The open segment's last frame may be half written: not committed yet, read it next time.
        if (seg.open && f.incomplete) break;
        throw new TrailError({ code: VerifyCode.FRAME_CORRUPT, message: f.reason, segment: seg.name, offset: f.offset });
      }
    } finally {
      await fh.close();
    }
    c.closed = !seg.open;
    return c.frames;
  }

  /** The frame's raw bytes; `fh` an already open handle on the segment (a reader of many frames opens it once). */
  async readRaw(seg: SegmentInfo, f: FrameRef, fh?: FileHandle): Promise<Buffer> {
    const h = fh ?? (await openRegular(seg.path));
    try {
      const buf = Buffer.allocUnsafe(f.length);
      const { bytesRead } = await h.read(buf, 0, f.length, f.offset);
      if (bytesRead !== f.length)
        throw new TrailError({ code: VerifyCode.FRAME_CORRUPT, message: 'segment shrank while being read', segment: seg.name, offset: f.offset });
      return buf;
    } finally {
      if (!fh) await h.close();
    }
  }

  /**
   * The frame's record bytes. The last few frames decoded are kept with their raw bytes, and
   * reused only when the file still holds those exact bytes: a proof reads its record's frame
   * again for the leaf hashes around it, and a follow rereads the last frame on every poll.
   */
  async decode(seg: SegmentInfo, f: FrameRef, fh?: FileHandle): Promise<Buffer> {
    const raw = await this.readRaw(seg, f, fh);
    const hit = this.recent.find((e) => e.path === seg.path && e.offset === f.offset && e.raw.equals(raw));
    if (hit) return hit.decoded;
    const decoded = decodeRecords(raw, f.maxDecoded, this.frameCap);
    if (!Buffer.isBuffer(decoded)) throw new TrailError({ code: VerifyCode.FRAME_CORRUPT, message: decoded.reason, segment: seg.name, offset: f.offset });
    const size = raw.length + decoded.length;
    if (size <= RECENT_BYTES / 4) {
      this.recent.push({ path: seg.path, offset: f.offset, raw, decoded });
      this.recentBytes += size;
      while (this.recent.length > RECENT_FRAMES || this.recentBytes > RECENT_BYTES) {
        const old = this.recent.shift()!;
        this.recentBytes -= old.raw.length + old.decoded.length;
      }
    }
    return decoded;
  }

  /** Every line's hash recomputed and the chain checked within the frame, or a TrailError naming the first that fails. */
  check(seg: SegmentInfo, f: FrameRef, decoded: Buffer): CheckedFrame {
    const c = checkDecoded(decoded);
    if (c.stop)
      throw new TrailError({
        code: c.stop.code,
        message: c.stop.message,
        seq: c.firstSeq >= 0 ? c.firstSeq + c.stop.index : undefined,
        segment: seg.name,
        offset: f.offset,
      });
    if (f.offset === 0) this.firstSeqs.set(seg.n, c.firstSeq);
    f.seqs = { first: c.firstSeq, count: c.count };
    const lines: Buffer[] = [];
    for (let i = 0, start = 0; i < c.count; i++) {
      lines.push(decoded.subarray(start, c.lineEnds[i]! - 1));
      start = c.lineEnds[i]!;
    }
    return { firstSeq: c.firstSeq, lines, hashes: c.leaves, firstPrev: c.firstPrev, lastHash: c.lastHash };
  }

  /**
   * Checks one line of a frame on its own, for a reader that hands out only some of a
   * frame's records: its hash recomputed from the line, its seq where the frame puts it,
   * and its prev against the hash the record before it carries (`prevHash`: 64 hex;
   * undefined when that record was not read). Returns the leaf hash, or throws TrailError.
   */
  checkLine(seg: SegmentInfo, f: FrameRef, line: Buffer, seq: number, prevHash: Buffer | string | undefined): Buffer {
    const at = { seq, segment: seg.name, offset: f.offset };
    const out = Buffer.alloc(32);
    const spans = noSpans();
    const got = sealedLine(line, out, spans);
    if (got >= 0) {
      if (got !== seq) throw new TrailError({ code: VerifyCode.SEQ_MISMATCH, message: seqMessage(got, seq), ...at });
      if (prevHash !== undefined && line.toString('latin1', spans.prevStart + 1, spans.prevEnd - 1) !== prevHex(prevHash))
        throw new TrailError({ code: VerifyCode.CHAIN_BROKEN, message: CHAIN_MESSAGE, ...at });
      return out;
    }
    // Not sure on the fast path: the reference path says what is wrong, if anything.
    const r = openLine(line);
    if (typeof r === 'string') throw new TrailError({ code: VerifyCode.RECORD_MALFORMED, message: r, ...at });
    if (!r.canonical)
      throw new TrailError({ code: VerifyCode.NOT_CANONICAL, message: 'record line is not the canonical (RFC 8785) form of its contents', ...at });
    if (r.hash.toString('hex') !== r.claimed)
      throw new TrailError({ code: VerifyCode.HASH_MISMATCH, message: `record hash does not match its contents (seq field says ${r.seq})`, ...at });
    if (r.seq !== seq) throw new TrailError({ code: VerifyCode.SEQ_MISMATCH, message: seqMessage(r.seq, seq), ...at });
    if (prevHash !== undefined && r.prev !== prevHex(prevHash)) throw new TrailError({ code: VerifyCode.CHAIN_BROKEN, message: CHAIN_MESSAGE, ...at });
    return r.hash;
  }

  /**
   * The seq of the segment's first record: from a closed segment's manifest when it describes
   * this file (a small read, where the first frame would need the whole segment walked for its
   * frame boundaries), else from its first frame. A hint for skipping segments, like the index:
   * every record handed out is checked from the frame it is read from.
   */
  async firstSeq(seg: SegmentInfo): Promise<number | undefined> {
    const known = this.firstSeqs.get(seg.n);
    if (known !== undefined) return known;
    if (!seg.open) {
      const m = await readFile(join(this.layout.segments, manifestName(seg.n)))
        .then(readOwnManifest)
        .catch(() => undefined);
      if (m && m.segment === seg.n && m.bytes === seg.bytes && m.records > 0 && Number.isSafeInteger(m.first_seq)) {
        this.firstSeqs.set(seg.n, m.first_seq);
        return m.first_seq;
      }
    }
    const [first] = await this.frames(seg);
    if (!first) return undefined;
    const decoded = await this.decode(seg, first);
    const seq = (JSON.parse(decoded.subarray(0, decoded.indexOf(0x0a)).toString('utf8')) as { seq: unknown }).seq;
    if (!Number.isSafeInteger(seq))
      throw new TrailError({ code: VerifyCode.RECORD_MALFORMED, message: 'record lacks a valid seq', segment: seg.name, offset: 0 });
    this.firstSeqs.set(seg.n, seq as number);
    return seq as number;
  }

  /** Every committed record from fromSeq through toSeq, checked and chained, in seq order. */
  async *records(opts: { fromSeq?: number; toSeq?: number } = {}): AsyncGenerator<TrailRecord> {
    const from = opts.fromSeq ?? 0;
    const to = opts.toSeq ?? Infinity;
    const segs = await this.segments();
    // The last segment starting at or before fromSeq holds it.
    let start = 0;
    for (let i = segs.length - 1; i > 0; i--) {
      const first = await this.firstSeq(segs[i]!);
      if (first !== undefined && first <= from) {
        start = i;
        break;
      }
    }
    const chain = new Chain();
    for (const seg of segs.slice(start)) {
      for (const f of await this.frames(seg)) {
        const c = this.check(seg, f, await this.decode(seg, f));
        chain.link(seg, f, c);
        const last = c.firstSeq + c.lines.length - 1;
        if (last < from) continue;
        for (let i = Math.max(0, from - c.firstSeq); i < c.lines.length; i++) {
          const seq = c.firstSeq + i;
          if (seq > to) return;
          yield { seq, line: c.lines[i]!, hash: Buffer.from(c.hashes.buffer, c.hashes.byteOffset + 32 * i, 32), segment: seg.n, offset: f.offset };
        }
      }
    }
  }

  async checkpoints(): Promise<{ size: number; file: string }[]> {
    return (await listCheckpoints(this.layout)).map((c) => ({ size: c.n, file: join(this.layout.checkpoints, c.name) }));
  }

  /** The newest checkpoint file, parsed (not checked: see proofs.ts), or undefined when there is none. */
  async newestCheckpoint(): Promise<CheckpointFile | undefined> {
    const all = await this.checkpoints();
    for (let i = all.length - 1; i >= 0; i--) {
      const cp = await readCheckpointFile(all[i]!.file).catch(() => undefined);
      if (cp) return cp;
    }
    return undefined;
  }

  /** The tree size of the committed records: the last whole frame's last seq + 1 (0 for an empty log). */
  async committedSize(): Promise<number> {
    const segs = await this.segments();
    for (let i = segs.length - 1; i >= 0; i--) {
      const frames = await this.frames(segs[i]!);
      const last = frames[frames.length - 1];
      if (!last) continue;
      const decoded = await this.decode(segs[i]!, last);
      const tail = decoded.subarray(decoded.lastIndexOf(0x0a, decoded.length - 2) + 1, decoded.length - 1);
      const seq = (JSON.parse(tail.toString('utf8')) as { seq: unknown }).seq;
      if (!Number.isSafeInteger(seq))
        throw new TrailError({ code: VerifyCode.RECORD_MALFORMED, message: 'record lacks a valid seq', segment: segs[i]!.name, offset: last.offset });
      return (seq as number) + 1;
    }
    return 0;
  }
}

const prevHex = (h: Buffer | string) => (typeof h === 'string' ? h : h.toString('hex'));

/** The hash a stored line claims for itself (its last member), as 64 hex. */
export const claimedHash = (line: Buffer) => line.toString('latin1', line.length - 66, line.length - 2);

/** A checkpoint file parsed into origin, size and root (signature unchecked), or an Error saying why not. */
export async function readCheckpointFile(file: string): Promise<CheckpointFile> {
  // Capped and never a FIFO or device: a "checkpoint" linked to /dev/zero must not fill memory.
  const text = (await readCapped(file, NOTE_MAX_BYTES, true)).toString('utf8');
  const note = parseNote(Buffer.from(text, 'utf8'));
  if (typeof note === 'string') throw new Error(`${file}: ${note}`);
  const [origin, size, root] = note.text.split('\n');
  const rootBuf = Buffer.from(root ?? '', 'base64');
  if (!origin || !/^(0|[1-9]\d*)$/.test(size ?? '') || rootBuf.length !== 32) throw new Error(`${file}: not a checkpoint`);
  return { size: Number(size), origin, root: rootBuf, text, file };
}

/**
 * The hash chain across frames a reader has checked: a frame next to the last one
 * checked (after it, or before it when reading newest first) must continue its seq and
 * prev. After a gap (frames skipped by the index or a filter, or segments removed by
 * retention between the two: the seqs jump there, and verify checks that gap against
 * the removal records) a new run starts.
 */
export class Chain {
  private last: { seg: SegmentInfo; f: FrameRef; c: CheckedFrame } | undefined;

  constructor(private readonly reverse = false) {}

  link(seg: SegmentInfo, f: FrameRef, c: CheckedFrame): void {
    if (this.last && Math.abs(seg.n - this.last.seg.n) > 1) this.last = undefined;
    if (this.last) {
      const [before, after] = this.reverse ? [{ seg, f, c }, this.last] : [this.last, { seg, f, c }];
      const expected = before.c.firstSeq + before.c.lines.length;
      const at = { seq: after.c.firstSeq, segment: after.seg.name, offset: after.f.offset };
      if (after.c.firstSeq !== expected) throw new TrailError({ code: VerifyCode.SEQ_MISMATCH, message: seqMessage(after.c.firstSeq, expected), ...at });
      if (after.c.firstPrev !== before.c.lastHash) throw new TrailError({ code: VerifyCode.CHAIN_BROKEN, message: CHAIN_MESSAGE, ...at });
    }
    this.last = { seg, f, c };
  }

  /** The next frame read is not next to the last one. */
  gap(): void {
    this.last = undefined;
  }
}
