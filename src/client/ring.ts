// The ring buffer between a producer's main thread and the client's worker: one
// SharedArrayBuffer, a header of Int32 slots, then the NDJSON bytes.
// One writer (the main thread) and one reader (the worker). Positions are byte
// counters that wrap at 2^32; the capacity is a power of two, so `pos & mask`
// is the offset and `(w - r) | 0` the bytes in use.

// Slots are grouped by writer, one 64-byte cache line each, so the main
// thread's per-event store to W does not contend with the worker's stores.

/** Bytes written by the main thread (counter). */
export const W = 0;
/** 1 while the main thread blocks on R (onFull 'block'). */
export const MAIN_WAITING = 1;
/** 1 while the worker waits on W for new bytes: only then does the main thread notify (and set it back to 0). */
export const WORKER_SLEEPING = 16;
/** Bytes the worker has released: acknowledged by the daemon, or reported as not committed (counter). */
export const R = 32;
/** Events the worker has settled (acknowledged or reported). */
export const SETTLED = 33;
/** Bytes the worker has handed to the socket (counter). */
export const SENT = 34;
export const HEADER_BYTES = 192;

export const MIN_RING_BYTES = 1 << 12;
export const MAX_RING_BYTES = 1 << 30;

/** The capacity a requested size gets: the next power of two within the bounds. */
export function ringCapacity(bytes: number): number {
  const b = Math.min(MAX_RING_BYTES, Math.max(MIN_RING_BYTES, Math.floor(bytes)));
  return 2 ** Math.ceil(Math.log2(b));
}

export interface RingViews {
  ctrl: Int32Array;
  data: Buffer;
  mask: number;
  capacity: number;
}

export function ringViews(sab: SharedArrayBuffer): RingViews {
  const capacity = sab.byteLength - HEADER_BYTES;
  return { ctrl: new Int32Array(sab, 0, HEADER_BYTES / 4), data: Buffer.from(sab, HEADER_BYTES, capacity), mask: capacity - 1, capacity };
}

/** Bytes in use between counters r and w. */
export const used = (w: number, r: number): number => (w - r) >>> 0;
