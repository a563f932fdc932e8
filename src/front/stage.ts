import { Duplex } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config.js';
import { SealogError } from '../errors.js';
import type { RawLine } from '../types.js';
import { createFront, type Front } from './front.js';
import { decodeResult, encodeLines, type FrontInit, type ResultsMessage, type ToMain, type ToWorker } from './protocol.js';

/** Lines per message to the worker: enough to make a message's cost vanish per line, few enough to keep latency low. */
const CHUNK_LINES = 256;
/** ...or bytes: long lines make short chunks, so memory stays bounded whatever the line size. */
const CHUNK_BYTES = 1 << 20;
/** Serialized records waiting for seal before input is held. */
const READY_MARK = 64;
/**
 * A burst of at most this many lines, with the worker idle, is run here on the
 * main thread: a message each way costs more than the work (~100 µs of the main
 * thread's time per burst at a few thousand events/s), and the round trip adds latency.
 */
const INLINE_LINES = 32;
const INLINE_BYTES = 64 * 1024;
/** Chunks at the worker at once: one being worked on, one waiting, so it never idles while the main thread packs. */
const MAX_IN_FLIGHT = 2;

type Reloaded = Extract<ToMain, { type: 'reloaded' }>;

/**
 * FrontStage: the pipeline's front (parse → sanitize → classify → serialize) in a
 * worker thread, so it runs on the second core beside seal and the writes. Lines
 * go over in chunks and come back as text, in order; a small burst while the worker
 * is idle runs inline through the same front, built here too. Backpressure: with
 * MAX_IN_FLIGHT chunks at the worker and the next one full, or with the results
 * not taken downstream, input waits.
 */
export class FrontStage extends Duplex {
  private readonly worker: Worker;
  private readonly front: Front;
  private collecting: RawLine[] = [];
  private collectingBytes = 0;
  private readonly inFlight: RawLine[][] = [];
  private flushQueued = false;
  private held: (() => void) | undefined;
  private finalCb: ((err?: Error | null) => void) | undefined;
  private reloads: ((r: Reloaded) => void)[] = [];
  private stopping = false;
  /** Resolves once the worker has compiled every rule; rejects with the reason it could not. */
  readonly ready: Promise<void>;

  constructor(cfg: Config, hmacKey: Buffer) {
    // Input queues in front of this stage (the pipeline's entrance and its mark), not inside it.
    super({ objectMode: true, writableHighWaterMark: 1, readableHighWaterMark: READY_MARK });
    // Built here first: a bad pattern or schema refuses the start at once, with its code.
    this.front = createFront(cfg, hmacKey);
    const key = new Uint8Array(hmacKey); // a copy for the worker; the caller zeroes its own
    const workerData: FrontInit = { cfg, hmacKey: key };
    // What the worker allocates lives for one chunk (a few MB at most): a small young
    // generation is enough, and V8's default would add tens of MB to the daemon's RSS.
    const resourceLimits = { maxYoungGenerationSizeMb: 8 };
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData, transferList: [key.buffer], resourceLimits });
    let started: (r: Extract<ToMain, { type: 'ready' | 'failed' }>) => void = () => {};
    this.ready = new Promise((resolve, reject) => {
      started = (r) => (r.type === 'ready' ? resolve() : reject(r.code ? new SealogError(r.code, r.error) : new Error(r.error)));
    });
    this.worker.on('message', (m: ToMain) => {
      if (m.type === 'results') this.done(m);
      else if (m.type === 'reloaded') this.reloads.shift()?.(m);
      else started(m);
    });
    this.worker.on('error', (err) => {
      started({ type: 'failed', error: err.message });
      this.destroy(err);
    });
    this.worker.on('exit', (code) => {
      started({ type: 'failed', error: `the front worker exited (code ${code}) before it was ready` });
      if (!this.stopping) this.destroy(new Error(`the front worker exited (code ${code})`));
    });
  }

  /** Lines inside this stage: waiting for a chunk, at the worker, and serialized but not yet taken. */
  get items(): number {
    return this.writableLength + this.collecting.length + this.inFlight.reduce((n, c) => n + c.length, 0) + this.readableLength;
  }

  get mark(): number {
    return this.writableHighWaterMark + CHUNK_LINES * (MAX_IN_FLIGHT + 1) + this.readableHighWaterMark;
  }

  /**
   * Builds what a reloaded config needs here (throws on a bad rule or schema, changing
   * nothing); the returned swap applies it here and hands it to the worker, which
   * reports through onWorkerError if it could not build the same (a schema file changed
   * in between).
   */
  reload(cfg: Config, onWorkerError: (error: string) => void): () => void {
    const swap = this.front.reload(cfg);
    return () => {
      swap();
      this.reloads.push((r) => r.ok || onWorkerError(r.error ?? 'unknown error'));
      this.worker.postMessage({ type: 'reload', cfg } satisfies ToWorker);
    };
  }

  override _write(raw: RawLine, _enc: BufferEncoding, cb: () => void): void {
    this.collecting.push(raw);
    this.collectingBytes += raw.bytes.length;
    if (this.chunkFull) this.send();
    else if (this.inFlight.length === 0 && !this.flushQueued) {
      // The rest of this burst of writes comes synchronously: send them together.
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        if (this.inFlight.length === 0) this.flush();
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
    void this.worker.terminate();
    cb(err);
  }

  private get chunkFull(): boolean {
    return this.collecting.length >= CHUNK_LINES || this.collectingBytes >= CHUNK_BYTES;
  }

  private get atWorkerLimit(): boolean {
    return this.chunkFull && this.inFlight.length >= MAX_IN_FLIGHT;
  }

  private release(): void {
    if (!this.held) return;
    const cb = this.held;
    this.held = undefined;
    cb();
  }

  /** What was collected goes on: inline if it is a small burst and the worker is idle, else to the worker. */
  private flush(): void {
    if (this.inFlight.length > 0 || this.collecting.length > INLINE_LINES || this.collectingBytes > INLINE_BYTES) {
      this.send();
      return;
    }
    const lines = this.collecting;
    this.collecting = [];
    this.collectingBytes = 0;
    try {
      for (const l of lines) this.push(this.front.run(l));
    } catch (err) {
      this.destroy(err as Error);
      return;
    }
    if (this.readableLength < this.readableHighWaterMark) this.release();
    this.finishIfIdle();
  }

  private send(): void {
    if (this.collecting.length === 0 || this.inFlight.length >= MAX_IN_FLIGHT) return;
    const lines = this.collecting;
    const total = this.collectingBytes;
    this.collecting = [];
    this.collectingBytes = 0;
    const { message, transfer } = encodeLines(lines, total);
    this.inFlight.push(lines);
    this.worker.postMessage(message satisfies ToWorker, transfer);
  }

  private done(results: ResultsMessage): void {
    const lines = this.inFlight.shift()!;
    // Keep the worker busy: the next chunk goes before this one's results are handed on.
    this.send();
    for (let i = 0; i < lines.length; i++) this.push(decodeResult(results, i, lines[i]!));
    if (this.readableLength < this.readableHighWaterMark) this.release();
    this.finishIfIdle();
  }

  private finishIfIdle(): void {
    if (!this.finalCb || this.inFlight.length > 0 || this.collecting.length > 0) return;
    const cb = this.finalCb;
    this.finalCb = undefined;
    this.push(null);
    this.stopping = true;
    void this.worker.terminate().then(() => cb(), cb);
  }
}
