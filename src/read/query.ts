/**
 * Query: the records of a trail that match a Filter, each one checked before it is
 * handed out (hash recomputed from its line; seq and prev against the record before it
 * when that one was read), in seq order or newest first.
 *
 * Exported API
 * - `query(trail, opts)` → async iterator of `TrailRecord` (trail.ts). Options:
 *     filter      the Filter (filter.ts)
 *     limit       stop after this many
 *     reverse     newest first
 *     after       a cursor: resume after this seq (in reverse: before it), exclusive
 *     index       where per-segment indexes come from (segmentIndex.ts); default the trail's
 *                 data/index (loaded, or built when missing or damaged); `false` reads every frame
 *     onProgress  called after each frame read: `{ segment, segments, frames, bytes, matched }`
 *   A record that fails its check throws TrailError (code E_INTEGRITY) naming seq, segment and
 *   byte offset; nothing after it is yielded.
 * - `follow(trail, opts)` → the same, then every record committed afterwards, as it commits
 *   (polling the files every `pollMs`, default 200 ms), until `signal` aborts.
 *
 * How frames are skipped: a segment's index (the open one's: in memory, segmentIndex.ts) says each frame's seq and ts range and,
 * per block of frames, the streams, types and levels present and a bloom filter of field values
 * and pseudonyms; a frame that cannot match is not read. A frame that is read is decoded, and
 * skipped unless it contains the filter's needles (text, pseudonyms, field values, stream) as
 * bytes; only then are its records tested one by one, and each that passes is checked on its
 * own before it is handed out (trail.checkLine: hash, seq, prev), not the whole frame.
 */
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { VerifyCode } from '../errors.js';
import { seqMessage } from '../verify/frames.js';
import { compileFilter, type CompiledFilter, type Filter } from './filter.js';
import { defaultIndex, indexCanSkip, type IndexedFrame, type IndexSource, type SegmentIndex } from './segmentIndex.js';
import { claimedHash, TrailError, type FrameRef, type SegmentInfo, type Trail, type TrailRecord } from './trail.js';

export interface QueryProgress {
  segment: number;
  segments: number;
  frames: number;
  bytes: number;
  matched: number;
}

export interface QueryOptions {
  filter: Filter;
  limit?: number;
  reverse?: boolean;
  after?: number;
  index?: IndexSource | false;
  onProgress?(p: QueryProgress): void;
}

export async function* query(trail: Trail, opts: QueryOptions): AsyncGenerator<TrailRecord> {
  const cf = compileFilter(opts.filter);
  const reverse = opts.reverse ?? false;
  let seqFrom = opts.filter.seqFrom ?? 0;
  let seqTo = opts.filter.seqTo ?? Infinity;
  if (opts.after !== undefined) {
    if (reverse) seqTo = Math.min(seqTo, opts.after - 1);
    else seqFrom = Math.max(seqFrom, opts.after + 1);
  }
  const since = opts.filter.since === undefined ? -Infinity : Math.round(opts.filter.since * 1000);
  const until = opts.filter.until === undefined ? Infinity : Math.round(opts.filter.until * 1000);
  const limit = opts.limit ?? Infinity;
  if (limit <= 0 || seqTo < seqFrom) return;
  const index = opts.index === false ? undefined : (opts.index ?? defaultIndex(trail));
  const segs = await trail.segments();
  // A segment holds the seqs from its first up to the next segment's first. Only a seq-bounded
  // scan needs them (from the manifests: a proof of one record loads one segment's index, not all).
  const bounded = seqFrom > 0 || seqTo < Infinity;
  const firsts: (number | undefined)[] = [];
  if (bounded) for (const s of segs) firsts.push(await trail.firstSeq(s));
  const order = segs.map((_, i) => i);
  if (reverse) order.reverse();
  const progress: QueryProgress = { segment: 0, segments: segs.length, frames: 0, bytes: 0, matched: 0 };
  const state: ScanState = { cf, reverse, seqFrom, seqTo, since, until, last: undefined, progress, onProgress: opts.onProgress };
  let matched = 0;
  let prevN: number | undefined;
  for (const i of order) {
    const seg = segs[i]!;
    // Segments removed by retention lie between these two: the seqs jump there (verify checks the gap against the removal records).
    if (prevN !== undefined && Math.abs(seg.n - prevN) !== 1) state.last = undefined;
    prevN = seg.n;
    progress.segment = i + 1;
    const first = firsts[i];
    const next = firsts.slice(i + 1).find((x) => x !== undefined) ?? Infinity;
    if (bounded && (first === undefined || first > seqTo || next - 1 < seqFrom)) {
      state.last = undefined;
      continue;
    }
    // Indexing the open segment's new frames costs more than reading them once: only for a filter it can skip frames by.
    const idx = seg.open && !indexCanSkip(opts.filter) ? undefined : await index?.get(seg);
    let lastSeq: number | undefined;
    try {
      for await (const r of scanSegment(trail, seg, idx, state)) {
        lastSeq = r.seq;
        yield r;
        if (++matched >= limit) return;
      }
    } catch (err) {
      // An index that disagrees with its segment (its frames elsewhere, or other seqs) is a damaged
      // cache, not damaged data: drop it and read the segment itself, from where this scan got to.
      if (!idx || !(err instanceof StaleIndex || (err instanceof TrailError && err.finding.code === VerifyCode.FRAME_CORRUPT))) throw err;
      await index!.discard(seg, err.message);
      const rest: ScanState = { ...state, last: undefined };
      if (lastSeq !== undefined && reverse) rest.seqTo = lastSeq - 1;
      else if (lastSeq !== undefined) rest.seqFrom = lastSeq + 1;
      for await (const r of scanSegment(trail, seg, undefined, rest)) {
        yield r;
        if (++matched >= limit) return;
      }
      state.last = rest.last;
    }
  }
}

interface ScanState {
  cf: CompiledFilter;
  reverse: boolean;
  seqFrom: number;
  seqTo: number;
  since: number;
  until: number;
  /** The frame read last, when the next frame read is its neighbour (across segments too); else undefined. */
  last: { firstSeq: number; count: number; lastClaimed: string } | undefined;
  progress: QueryProgress;
  onProgress?(p: QueryProgress): void;
}

function splitLines(buf: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  for (let s = 0, e = buf.indexOf(0x0a); e !== -1; s = e + 1, e = buf.indexOf(0x0a, s)) lines.push(buf.subarray(s, e));
  return lines;
}

async function* scanSegment(trail: Trail, seg: SegmentInfo, idx: SegmentIndex | undefined, st: ScanState): AsyncGenerator<TrailRecord> {
  const { cf, reverse, progress } = st;
  // The open segment's index may cover fewer frames than have committed since: those are read.
  const frames: FrameRef[] = idx && !seg.open ? idx.frames : await trail.frames(seg);
  const fh = await open(seg.path, 'r');
  try {
    for (let k = reverse ? frames.length - 1 : 0; reverse ? k >= 0 : k < frames.length; k += reverse ? -1 : 1) {
      const f = frames[k]!;
      const known = idx?.frames[k];
      const meta = known && known.offset === f.offset ? known : undefined;
      const seqs = meta ? { first: meta.first, count: meta.count } : f.seqs;
      const skip =
        (seqs && (seqs.first > st.seqTo || seqs.first + seqs.count - 1 < st.seqFrom)) ||
        (meta && (meta.tsMin >= st.until || meta.tsMax < st.since)) ||
        (meta && !idx!.blockMayMatch(meta.block, cf));
      if (skip) {
        st.last = undefined;
        continue;
      }
      const decoded = await trail.decode(seg, f, fh);
      progress.frames++;
      progress.bytes += decoded.length;
      st.onProgress?.(progress);
      if (!cf.needles.every((group) => group.some((n) => decoded.includes(n)))) {
        st.last = undefined;
        continue;
      }
      yield* matchFrame(trail, seg, f, meta, decoded, st);
    }
  } finally {
    await fh.close();
  }
}

/**
 * The frame's records that pass the filter, each checked on its own before it is handed
 * out (trail.checkLine): its hash from its line, its seq where the frame puts it, and its
 * prev against the hash the record before it carries, when that one was read (the line
 * before it in the frame, or the last of the frame read just before, reading forward).
 */
function* matchFrame(trail: Trail, seg: SegmentInfo, f: FrameRef, meta: IndexedFrame | undefined, decoded: Buffer, st: ScanState): Generator<TrailRecord> {
  const lines = splitLines(decoded);
  const firstSeq = seqOfLine(seg, f, lines[0]!);
  if (meta && (firstSeq !== meta.first || lines.length !== meta.count)) throw new StaleIndex(seg);
  f.seqs = { first: firstSeq, count: lines.length };
  const prevFrame = st.last;
  if (prevFrame) {
    // Neighbouring frames continue each other's seqs (in either reading direction).
    const [before, after] = st.reverse ? [{ firstSeq, count: lines.length }, prevFrame] : [prevFrame, { firstSeq, count: lines.length }];
    if (after.firstSeq !== before.firstSeq + before.count)
      throw new TrailError({
        code: VerifyCode.SEQ_MISMATCH,
        message: seqMessage(after.firstSeq, before.firstSeq + before.count),
        seq: after.firstSeq,
        segment: seg.name,
        offset: f.offset,
      });
  }
  const { reverse, cf } = st;
  for (let j = reverse ? lines.length - 1 : 0; reverse ? j >= 0 : j < lines.length; j += reverse ? -1 : 1) {
    const seq = firstSeq + j;
    const line = lines[j]!;
    if (seq < st.seqFrom || seq > st.seqTo || !cf.test(line, seq)) continue;
    const prev = j > 0 ? claimedHash(lines[j - 1]!) : !reverse && prevFrame ? prevFrame.lastClaimed : undefined;
    const hash = trail.checkLine(seg, f, line, seq, prev);
    st.progress.matched++;
    yield { seq, line, hash, segment: seg.n, offset: f.offset };
  }
  st.last = { firstSeq, count: lines.length, lastClaimed: claimedHash(lines[lines.length - 1]!) };
}

function seqOfLine(seg: SegmentInfo, f: FrameRef, line: Buffer): number {
  let seq: unknown;
  try {
    seq = (JSON.parse(line.toString('utf8')) as { seq?: unknown }).seq;
  } catch {
    // not JSON: reported below
  }
  if (!Number.isSafeInteger(seq))
    throw new TrailError({ code: VerifyCode.RECORD_MALFORMED, message: 'record lacks a valid seq', segment: seg.name, offset: f.offset });
  return seq as number;
}

/** An index whose frames are not the segment's: query drops it and reads the segment without it. */
export class StaleIndex extends Error {
  constructor(readonly segment: SegmentInfo) {
    super(`index of segment ${segment.name} does not match the segment`);
  }
}

/** query, then every record committed after it started, until the signal aborts. */
export async function* follow(trail: Trail, opts: QueryOptions & { pollMs?: number; signal?: AbortSignal }): AsyncGenerator<TrailRecord> {
  let next = opts.filter.seqFrom ?? 0;
  let left = opts.limit ?? Infinity;
  for (;;) {
    const size = await trail.committedSize();
    const to = Math.min(size - 1, opts.filter.seqTo ?? Infinity);
    if (to >= next) {
      for await (const r of query(trail, { ...opts, reverse: false, after: undefined, limit: left, filter: { ...opts.filter, seqFrom: next, seqTo: to } })) {
        yield r;
        if (--left <= 0) return;
      }
      next = to + 1;
    }
    if (opts.filter.seqTo !== undefined && next > opts.filter.seqTo) return;
    try {
      await sleep(opts.pollMs ?? 200, undefined, { signal: opts.signal });
    } catch {
      return; // aborted
    }
  }
}
