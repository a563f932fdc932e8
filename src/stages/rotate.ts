import { Writable } from 'node:stream';
import type { SegmentStore } from '../store/segmentStore.js';
import type { Frame } from '../types.js';

/**
 * Frames the sink holds: one being written and synced, and those that arrive meanwhile, which
 * go to the store together with one sync (group commit). Each holds its batch's lines in seal's
 * slabs until it is committed: with four, a spool file of 60 KB lines grew the daemon's peak RSS
 * past its bound (test/spool.test.ts) as fresh slabs were allocated and dropped.
 */
const GROUP_FRAMES = 3;

export interface RotatePolicy {
  maxBytes: number;
  maxAgeMs: number;
}

/** Pure rule: close the open segment before a frame that would overflow it, or once it is too old. */
export function needsRotation(policy: RotatePolicy, open: { bytes: number; openedAt: number } | undefined, incoming: number, now: number): boolean {
  if (!open || open.bytes === 0) return false;
  return open.bytes + incoming > policy.maxBytes || now - open.openedAt >= policy.maxAgeMs;
}

/**
 * rotate: the pipeline's sink. Decides segment boundaries, hands frames to the
 * store, and only takes more frames once these are written (and synced
 * per policy), which is what pushes backpressure up to the sources.
 * An idle segment past its age is closed by a timer.
 */
export function rotateSink(store: SegmentStore, policy: RotatePolicy): Writable {
  const ageTimer = setInterval(
    () => {
      if (needsRotation(policy, store.segment, 0, Date.now())) store.closeSegment().catch(() => {});
    },
    Math.min(policy.maxAgeMs, 1000),
  ).unref();
  /** The frames, in order: each run that fits the open segment is one append (one sync); a segment is closed between runs. */
  const put = async (frames: Frame[]): Promise<void> => {
    const now = Date.now();
    for (let i = 0; i < frames.length; ) {
      if (needsRotation(policy, store.segment, frames[i]!.data.length, now)) await store.closeSegment();
      // The segment as it will be after each frame of the run (openedAt only matters once it has bytes).
      const seg = { bytes: store.segment?.bytes ?? 0, openedAt: store.segment?.openedAt ?? now };
      let end = i;
      do seg.bytes += frames[end++]!.data.length;
      while (end < frames.length && !needsRotation(policy, seg, frames[end]!.data.length, now));
      await store.append(...frames.slice(i, end));
      i = end;
    }
  };
  return new Writable({
    objectMode: true,
    highWaterMark: GROUP_FRAMES,
    write(frame: Frame, _enc, cb) {
      put([frame]).then(() => cb(), cb);
    },
    writev(chunks: { chunk: Frame }[], cb) {
      put(chunks.map((c) => c.chunk)).then(() => cb(), cb);
    },
    final(cb) {
      clearInterval(ageTimer);
      store.close().then(() => cb(), cb);
    },
    destroy(err, cb) {
      clearInterval(ageTimer);
      cb(err);
    },
  });
}
