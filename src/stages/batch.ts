import { Duplex } from 'node:stream';
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
 * batch: the stream adapter, taking records a chunk (an array) at a time as seal hands
 * them on. A partial batch leaves after lingerMs, so a quiet producer still gets its ack
 * promptly; a timer is why this stage is a stream. `backlogged` tells whether frames
 * already wait for the disk further down. A chunk can fill more than one batch: once the
 * output is at its mark, the rest of the chunk waits for the reader (as a transform's
 * next input would).
 */
export function batchStage(limits: BatchLimits, backlogged: () => boolean = () => false): Duplex {
  const batcher = new Batcher(limits);
  let timer: NodeJS.Timeout | undefined;
  // The chunk being taken (from `at` on) and its write's callback, until every record is in the batcher.
  let chunk: Sealed[] = [];
  let at = 0;
  let written: (() => void) | undefined;
  const flushPartial = (d: Duplex) => {
    // Group commit: while the previous batch still waits for compress, or a frame waits
    // for the disk, a small batch now would only queue behind it; let this one grow instead.
    if (d.readableLength > 0 || backlogged()) {
      timer = setTimeout(flushPartial, limits.lingerMs, d);
      return;
    }
    timer = undefined;
    const b = batcher.take();
    if (b) d.push(b);
  };
  const take = (d: Duplex) => {
    while (at < chunk.length) {
      const full = batcher.add(chunk[at++]!);
      if (!full) continue;
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (!d.push(full)) return; // read() goes on
    }
    if (!timer && batcher.pending > 0) timer = setTimeout(flushPartial, limits.lingerMs, d);
    const cb = written;
    written = undefined;
    chunk = [];
    at = 0;
    cb?.();
  };
  return new Duplex({
    objectMode: true,
    // A chunk is up to 256 records (or 1 MiB of input): one waiting here is enough.
    writableHighWaterMark: 1,
    readableHighWaterMark: 1,
    write(c: Sealed[], _enc, cb) {
      chunk = c;
      at = 0;
      written = cb;
      take(this);
    },
    read() {
      if (written) take(this);
    },
    final(cb) {
      if (timer) clearTimeout(timer);
      const b = batcher.take();
      if (b) this.push(b);
      this.push(null);
      cb();
    },
    destroy(err, cb) {
      if (timer) clearTimeout(timer);
      cb(err);
    },
  });
}
