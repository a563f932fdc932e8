import { availableParallelism } from 'node:os';
import { Duplex } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config.js';
import { SealogError } from '../errors.js';
import type { Packed, RawLine } from '../types.js';
import { createFront, type Front } from './front.js';
import { decodeResult, encodeLines, type FrontInit, type ResultsMessage, type ToMain, type ToWorker } from './protocol.js';

/** Lines per message to a worker: enough to make a message's cost vanish per line, few enough to keep latency low. */
const CHUNK_LINES = 256;
/** ...or bytes: long lines make short chunks, so memory stays bounded whatever the line size. */
const CHUNK_BYTES = 1 << 20;
/** Chunks of serialized records waiting for seal before input is held: they go on whole, a stream item per chunk, not per record. */
const READY_MARK = 1;
/**
 * A burst of at most this many lines, with every worker idle, is run here on the
 * main thread: a message each way costs more than the work (~100 µs of the main
 * thread's time per burst at a few thousand events/s), and the round trip adds latency.
 */
const INLINE_LINES = 32;
const INLINE_BYTES = 64 * 1024;
/** Chunks at one worker at once: one being worked on, one waiting, so it never idles while the main thread packs. */
const MAX_IN_FLIGHT = 2;

type Reloaded = Extract<ToMain, { type: 'reloaded' }>;

/** `front.workers`: `auto` is one worker per core this process may run on, less the main thread's, at least one. */
export function frontWorkers(setting: Config['front']['workers'], cores = availableParallelism()): number {
  return setting === 'auto' ? Math.max(1, cores - 1) : setting;
}

/** One worker thread and the chunks it has not answered yet (it answers in the order it was sent them). */
interface Lane {
  worker: Worker;
  /** Sent to this worker and not yet answered, oldest first. */
  chunks: Chunk[];
  reloads: ((r: Reloaded) => void)[];
}

/** Lines sent to a lane, in dispatch order; `results` once that lane answered. */
interface Chunk {
  lines: RawLine[];
  results: ResultsMessage | undefined;
}

/**
 * FrontStage: the pipeline's front (parse → sanitize → classify → serialize) in
 * worker threads (`front.workers`), so it runs on the other cores beside seal and
 * the writes. Lines go over in chunks, each to the least busy worker, and come back
 * as text; results are handed on in the order the chunks were sent (a chunk that
 * finishes early waits for the ones before it), so output keeps input order and seal
 * numbers lines in arrival order. Each chunk goes on as one item (an array of Packed):
 * the stream machinery then costs per chunk, not per record. A small burst while every
 * worker is idle runs inline through the same front, built here too. Backpressure: with every worker at
 * MAX_IN_FLIGHT chunks (answered or not, until handed on) and the next chunk full,
 * or with the results not taken downstream, input waits.
 */
export class FrontStage extends Duplex {
  private readonly lanes: Lane[];
  private readonly front: Front;
  private collecting: RawLine[] = [];
  private collectingBytes = 0;
  /** Chunks sent and not yet handed on, oldest first: the reorder buffer. */
  private readonly pending: Chunk[] = [];
  private flushQueued = false;
  private held: (() => void) | undefined;
  private finalCb: ((err?: Error | null) => void) | undefined;
  private stopping = false;
  /** Lines in the chunks waiting in the readable buffer (its length counts chunks). */
  private readyLines = 0;
  /** Resolves once every worker has compiled every rule; rejects with the reason one could not. */
  readonly ready: Promise<void>;

  constructor(cfg: Config, hmacKey: Buffer, workers = frontWorkers(cfg.front.workers)) {
    // Input queues in front of this stage (the pipeline's entrance and its mark), not inside it.
    super({ objectMode: true, writableHighWaterMark: 1, readableHighWaterMark: READY_MARK });
    // Built here first: a bad pattern or schema refuses the start at once, with its code.
    this.front = createFront(cfg, hmacKey);
    this.lanes = [];
    const started: Promise<void>[] = [];
    for (let i = 0; i < workers; i++) {
      const { lane, ready } = this.startWorker(cfg, hmacKey);
      this.lanes.push(lane);
      started.push(ready);
    }
    this.ready = Promise.all(started).then(() => {});
  }

  private startWorker(cfg: Config, hmacKey: Buffer): { lane: Lane; ready: Promise<void> } {
    const key = new Uint8Array(hmacKey); // a copy for the worker; the caller zeroes its own
    const workerData: FrontInit = { cfg, hmacKey: key };
    // What the worker allocates lives for one chunk (a few MB at most): a small young
    // generation is enough, and V8's default would add tens of MB to the daemon's RSS.
    const resourceLimits = { maxYoungGenerationSizeMb: 8 };
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData, transferList: [key.buffer], resourceLimits });
    const lane: Lane = { worker, chunks: [], reloads: [] };
    let started: (r: Extract<ToMain, { type: 'ready' | 'failed' }>) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      started = (r) => (r.type === 'ready' ? resolve() : reject(r.code ? new SealogError(r.code, r.error) : new Error(r.error)));
    });
    worker.on('message', (m: ToMain) => {
      if (m.type === 'results') this.done(lane, m);
      else if (m.type === 'reloaded') lane.reloads.shift()?.(m);
      else started(m);
    });
    worker.on('error', (err) => {
      started({ type: 'failed', error: err.message });
      this.destroy(err);
    });
    worker.on('exit', (code) => {
      started({ type: 'failed', error: `the front worker exited (code ${code}) before it was ready` });
      if (!this.stopping) this.destroy(new Error(`the front worker exited (code ${code})`));
    });
    return { lane, ready };
  }

  /** The worker threads, for status and tests. */
  get workers(): readonly Worker[] {
    return this.lanes.map((l) => l.worker);
  }

  /** Lines inside this stage: waiting for a chunk, at a worker or waiting for an earlier chunk, and serialized but not yet taken. */
  get items(): number {
    return this.writableLength + this.collecting.length + this.pending.reduce((n, c) => n + c.lines.length, 0) + this.readyLines;
  }

  get mark(): number {
    // The readable side holds up to its mark in chunks, one past it while input is held: CHUNK_LINES each.
    return this.writableHighWaterMark + CHUNK_LINES * (this.lanes.length * MAX_IN_FLIGHT + 1 + this.readableHighWaterMark + 1);
  }

  override read(size?: number): Packed[] | null {
    const chunk = super.read(size) as Packed[] | null;
    if (chunk) this.readyLines -= chunk.length;
    return chunk;
  }

  /** A chunk on to seal; counted while it waits in the readable buffer (a reader taking it at once leaves it out). */
  private pushChunk(chunk: Packed[]): void {
    const before = this.readableLength;
    this.push(chunk);
    if (this.readableLength > before) this.readyLines += chunk.length;
  }

  /**
   * Builds what a reloaded config needs here (throws on a bad rule or schema, changing
   * nothing); the returned swap applies it here and hands it to every worker; if one
   * could not build the same (a schema file changed in between), onWorkerError is told once.
   */
  reload(cfg: Config, onWorkerError: (error: string) => void): () => void {
    const swap = this.front.reload(cfg);
    return () => {
      swap();
      let told = false;
      for (const lane of this.lanes) {
        lane.reloads.push((r) => {
          if (r.ok || told) return;
          told = true;
          onWorkerError(r.error ?? 'unknown error');
        });
        lane.worker.postMessage({ type: 'reload', cfg } satisfies ToWorker);
      }
    };
  }

  override _write(raw: RawLine, _enc: BufferEncoding, cb: () => void): void {
    this.collecting.push(raw);
    this.collectingBytes += raw.bytes.length;
    if (this.chunkFull) this.send();
    else if (!this.flushQueued && this.idleLane()) {
      // The rest of this burst of writes comes synchronously: send them together.
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        if (this.idleLane()) this.flush();
      });
    }
    if (this.atWorkerLimit || this.readableLength >= this.readableHighWaterMark) this.held = cb;
    else cb();
  }

  override _read(): void {
    // Downstream wants more: a read asked for and not answered by a push is not asked again.
    if (!this.atWorkerLimit) this.release();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.flush();
    this.finalCb = cb;
    this.finishIfIdle();
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.stopping = true;
    for (const lane of this.lanes) void lane.worker.terminate();
    cb(err);
  }

  private get chunkFull(): boolean {
    return this.collecting.length >= CHUNK_LINES || this.collectingBytes >= CHUNK_BYTES;
  }

  /** The lane to send the next chunk to: the least busy with room, or none while the reorder buffer is full. */
  private freeLane(): Lane | undefined {
    if (this.pending.length >= this.lanes.length * MAX_IN_FLIGHT) return undefined;
    let best: Lane | undefined;
    for (const lane of this.lanes) if (lane.chunks.length < MAX_IN_FLIGHT && (!best || lane.chunks.length < best.chunks.length)) best = lane;
    return best;
  }

  private idleLane(): Lane | undefined {
    const lane = this.freeLane();
    return lane && lane.chunks.length === 0 ? lane : undefined;
  }

  private get atWorkerLimit(): boolean {
    return this.chunkFull && !this.freeLane();
  }

  private release(): void {
    if (!this.held) return;
    const cb = this.held;
    this.held = undefined;
    cb();
  }

  /**
   * What was collected goes on: inline if it is a small burst and nothing is at a
   * worker (so it cannot overtake earlier lines), else to a worker.
   */
  private flush(): void {
    if (this.pending.length > 0 || this.collecting.length > INLINE_LINES || this.collectingBytes > INLINE_BYTES) {
      this.send();
      return;
    }
    const lines = this.collecting;
    this.collecting = [];
    this.collectingBytes = 0;
    try {
      if (lines.length) this.pushChunk(lines.map((l) => this.front.run(l)));
    } catch (err) {
      this.destroy(err as Error);
      return;
    }
    if (this.readableLength < this.readableHighWaterMark) this.release();
    this.finishIfIdle();
  }

  private send(): void {
    if (this.collecting.length === 0) return;
    const lane = this.freeLane();
    if (!lane) return;
    const lines = this.collecting;
    const total = this.collectingBytes;
    this.collecting = [];
    this.collectingBytes = 0;
    const { message, transfer } = encodeLines(lines, total);
    const chunk: Chunk = { lines, results: undefined };
    this.pending.push(chunk);
    lane.chunks.push(chunk);
    lane.worker.postMessage(message satisfies ToWorker, transfer);
  }

  private done(lane: Lane, results: ResultsMessage): void {
    // A worker answers its chunks in the order it got them: this is its oldest unanswered one.
    lane.chunks.shift()!.results = results;
    // Handed on in dispatch order: only the answered chunks at the head of the reorder buffer.
    const ready: Chunk[] = [];
    while (this.pending[0]?.results) ready.push(this.pending.shift()!);
    // Keep the workers busy: the next chunk goes before these results are handed on.
    this.send();
    for (const { lines, results: r } of ready) this.pushChunk(lines.map((l, i) => decodeResult(r!, i, l)));
    if (this.readableLength < this.readableHighWaterMark) this.release();
    this.finishIfIdle();
  }

  private finishIfIdle(): void {
    if (!this.finalCb || this.pending.length > 0 || this.collecting.length > 0) return;
    const cb = this.finalCb;
    this.finalCb = undefined;
    this.push(null);
    this.stopping = true;
    void Promise.all(this.lanes.map((l) => l.worker.terminate())).then(() => cb(), cb);
  }
}
