import { Writable } from 'node:stream';
import type { SegmentStore } from '../store/segmentStore.js';
import type { Frame } from '../types.js';

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
 * store, and only takes the next frame once this one is written (and synced
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
  return new Writable({
    objectMode: true,
    highWaterMark: 1,
    write(frame: Frame, _enc, cb) {
      const rotate = needsRotation(policy, store.segment, frame.data.length, Date.now());
      (rotate ? store.closeSegment().then(() => store.append(frame)) : store.append(frame)).then(() => cb(), cb);
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
