import type { Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { readFrames } from '../store/lz4frames.js';
import { openRegular } from '../store/safeRead.js';
import { checkFrame, type FrameCheck } from './frames.js';

export interface FrameJob {
  id: number;
  raw: Uint8Array;
  maxDecoded: number;
  frameCap: number;
}
export interface FrameDone {
  id: number;
  check: FrameCheck;
}

export type CheckedFrame = { offset: number; length: number; check: FrameCheck } | { offset: number; reason: string };

// Frames in flight per worker: two keep it busy while the main thread takes in the
// other's result. Memory is bounded by that: at most 2 x workers + 1 raw frames held,
// and one frame decoded per thread at a time.
const IN_FLIGHT_PER_THREAD = 2;

/** Worker threads that check frames (frames.ts), each job answered by the thread it went to. */
export class FramePool {
  readonly inFlight: number;
  private readonly threads: { worker: Worker; pending: Map<number, { resolve(c: FrameCheck): void; reject(e: Error): void }> }[];
  private nextId = 0;
  private broken: Error | undefined;
  private closed = false;

  constructor(threads: number) {
    this.inFlight = threads * IN_FLIGHT_PER_THREAD;
    this.threads = Array.from({ length: threads }, () => {
      const t = { worker: new Worker(new URL('./frameWorker.js', import.meta.url)), pending: new Map() };
      t.worker.on('message', (m: FrameDone) => {
        const p = t.pending.get(m.id);
        t.pending.delete(m.id);
        p?.resolve(m.check);
      });
      const fail = (err: Error) => {
        if (this.closed) return;
        this.broken ??= err;
        for (const p of t.pending.values()) p.reject(err);
        t.pending.clear();
      };
      t.worker.on('error', fail);
      t.worker.on('exit', (code) => fail(new Error(`verify thread exited with code ${code}`)));
      return t;
    });
  }

  /** Every thread has its share of frames in flight. */
  full(): boolean {
    return this.threads.every((t) => t.pending.size >= IN_FLIGHT_PER_THREAD);
  }

  check(raw: Buffer, maxDecoded: number, frameCap: number): Promise<FrameCheck> {
    if (this.broken) return Promise.reject(this.broken);
    const t = this.threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    // A copy of just this frame: posting a view would clone the whole read buffer under it.
    const job: FrameJob = { id, raw: new Uint8Array(raw), maxDecoded, frameCap };
    const p = new Promise<FrameCheck>((resolve, reject) => t.pending.set(id, { resolve, reject }));
    t.worker.postMessage(job, [job.raw.buffer as ArrayBuffer]);
    return p;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}

/**
 * The frames of a segment, checked and handed back in file order; a fault in the
 * framing comes last and ends it. Each whole frame's bytes go into `fileHash` as
 * they are read (readFrames reuses its buffer, so the frames in flight are not kept).
 * A frame goes to a pool thread with room for it, else it is checked here: the
 * calling thread is one of the threads that check (its own share of the work, the
 * tree and the reading, is light), so N threads are this one and a pool of N-1.
 */
export async function* checkedFrames(path: string, frameCap: number, pool: FramePool | undefined, fileHash: Hash): AsyncGenerator<CheckedFrame> {
  const fh = await openRegular(path);
  try {
    const { size } = await fh.stat();
    const queue: { offset: number; length: number; check: FrameCheck | Promise<FrameCheck> }[] = [];
    for await (const f of readFrames(fh, size, frameCap)) {
      if (!('raw' in f)) {
        for (const q of queue.splice(0)) yield { offset: q.offset, length: q.length, check: await q.check };
        yield { offset: f.offset, reason: f.reason };
        return;
      }
      fileHash.update(f.raw);
      if (!pool) {
        yield { offset: f.offset, length: f.raw.length, check: checkFrame(f.raw, f.maxDecoded, frameCap) };
        continue;
      }
      let check: FrameCheck | Promise<FrameCheck>;
      if (pool.full()) check = checkFrame(f.raw, f.maxDecoded, frameCap);
      else {
        check = pool.check(f.raw, f.maxDecoded, frameCap);
        check.catch(() => {}); // awaited in order below; a verdict reached earlier may leave it unawaited
      }
      queue.push({ offset: f.offset, length: f.raw.length, check });
      if (queue.length > pool.inFlight) {
        const q = queue.shift()!;
        yield { offset: q.offset, length: q.length, check: await q.check };
      }
    }
    for (const q of queue.splice(0)) yield { offset: q.offset, length: q.length, check: await q.check };
  } finally {
    await fh.close();
  }
}
