import { Transform, type TransformCallback } from 'node:stream';
import type { Batch, Sealed } from '../types.js';

export interface BatchLimits {
  maxRecords: number;
  maxBytes: number;
  lingerMs: number;
}

/** Pure batching logic: add returns a full batch when a limit is reached. */
export class Batcher {
  private records: Sealed[] = [];
  private bytes = 0;
  constructor(private readonly limits: BatchLimits) {}

  add(r: Sealed): Batch | undefined {
    this.records.push(r);
    this.bytes += r.line.length;
    return this.records.length >= this.limits.maxRecords || this.bytes >= this.limits.maxBytes ? this.take() : undefined;
  }

  take(): Batch | undefined {
    if (this.records.length === 0) return undefined;
    const b = { records: this.records, bytes: this.bytes };
    this.records = [];
    this.bytes = 0;
    return b;
  }

  get pending(): number {
    return this.records.length;
  }
}

/**
 * batch: the stream adapter. A partial batch leaves after lingerMs, so a quiet
 * producer still gets its ack promptly; a timer is why this stage is a stream.
 * `backlogged` tells whether frames already wait for the disk further down.
 */
export function batchStage(limits: BatchLimits, backlogged: () => boolean = () => false): Transform {
  const batcher = new Batcher(limits);
  let timer: NodeJS.Timeout | undefined;
  const flushPartial = (t: Transform) => {
    // Group commit: while the previous batch still waits for compress, or a frame waits
    // for the disk, a small batch now would only queue behind it; let this one grow instead.
    if (t.readableLength > 0 || backlogged()) {
      timer = setTimeout(flushPartial, limits.lingerMs, t);
      return;
    }
    timer = undefined;
    const b = batcher.take();
    if (b) t.push(b);
  };
  return new Transform({
    objectMode: true,
    writableHighWaterMark: 64,
    readableHighWaterMark: 1,
    transform(r: Sealed, _enc, cb: TransformCallback) {
      const full = batcher.add(r);
      if (full) {
        if (timer) clearTimeout(timer);
        timer = undefined;
        this.push(full);
      } else if (!timer) {
        timer = setTimeout(flushPartial, limits.lingerMs, this);
      }
      cb();
    },
    flush(cb) {
      if (timer) clearTimeout(timer);
      cb(null, batcher.take());
    },
    destroy(err, cb) {
      if (timer) clearTimeout(timer);
      cb(err);
    },
  });
}
