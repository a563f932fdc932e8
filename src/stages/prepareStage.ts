import { Duplex } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config.js';
import { SealogError } from '../errors.js';
import type { Draft, Prepared, RawLine } from '../types.js';
import { createFront, type Front } from './prepare.js';

/** Lines per message to the worker: enough to make a message's cost vanish per line, few enough to keep latency low. */
const CHUNK_LINES = 256;
/** ...or bytes: long lines make short chunks, so memory stays bounded whatever the line size. */
const CHUNK_BYTES = 1 << 20;
/** Prepared records waiting for seal before input is held. */
const READY_MARK = 64;
/**
 * A burst of at most this many lines, with the worker idle, is prepared here on the
 * main thread: a message each way costs more than the work (~100 µs of the main
 * thread's time per burst at a few thousand events/s), and the round trip adds latency.
 */
const INLINE_LINES = 32;
const INLINE_BYTES = 64 * 1024;
/** Chunks at the worker at once: one being worked on, one waiting, so it never idles while the main thread packs. */
const MAX_IN_FLIGHT = 2;
export const RESULT_STRIDE = 10;

export interface WorkerInit {
  cfg: Config;
  hmacKey: Uint8Array;
}

/** Lines for the worker: their bytes end to end, and what else a line carries (rare) by index. */
export interface ChunkMessage {
  bytes: Uint8Array;
  ends: Uint32Array;
  kinds: string[];
  extras: [number, Pick<RawLine, 'oversize' | 'unterminated' | 'rejectAs' | 'system'>][];
}

/** RESULT_STRIDE strings per line: the parts of its Prepared. */
export interface ResultMessage {
  out: (string | null)[];
}

type ReloadReply = { reloaded: boolean; error?: string };
type ReadyReply = { ready: boolean; error?: string; code?: string };

/**
 * prepare: the pipeline's front (parse → sanitize → classify → serialize) in a
 * worker thread, so it runs on the second core beside seal and the writes. Lines
 * go over in chunks and come back as text, in order; a small burst while the worker
 * is idle is prepared inline by the same front, built here too. Backpressure: with
 * MAX_IN_FLIGHT chunks at the worker and the next one full, or with the results
 * not taken downstream, input waits.
 */
export class PrepareStage extends Duplex {
  private readonly worker: Worker;
  private readonly front: Front;
  private collecting: RawLine[] = [];
  private collectingBytes = 0;
  private readonly inFlight: RawLine[][] = [];
  private flushQueued = false;
  private held: (() => void) | undefined;
  private finalCb: ((err?: Error | null) => void) | undefined;
  private reloads: ((r: ReloadReply) => void)[] = [];
  private stopping = false;
  /** Resolves once the worker has compiled every rule; rejects with the reason it could not. */
  readonly ready: Promise<void>;

  constructor(cfg: Config, hmacKey: Buffer) {
    // Input queues in front of this stage (the pipeline's entrance and its mark), not inside it.
    super({ objectMode: true, writableHighWaterMark: 1, readableHighWaterMark: READY_MARK });
    // Built here first: a bad pattern or schema refuses the start at once, with its code.
    this.front = createFront(cfg, hmacKey);
    const key = new Uint8Array(hmacKey); // a copy for the worker; the caller zeroes its own
    const workerData: WorkerInit = { cfg, hmacKey: key };
    // What the worker allocates lives for one chunk (a few MB at most): a small young
    // generation is enough, and V8's default would add tens of MB to the daemon's RSS.
    const resourceLimits = { maxYoungGenerationSizeMb: 8 };
    this.worker = new Worker(new URL('./prepareWorker.js', import.meta.url), { workerData, transferList: [key.buffer], resourceLimits });
    let started: (r: ReadyReply) => void = () => {};
    this.ready = new Promise((resolve, reject) => {
      started = (r) => (r.ready ? resolve() : reject(r.code ? new SealogError(r.code, r.error!) : new Error(r.error)));
    });
    this.worker.on('message', (m: ResultMessage | ReloadReply | ReadyReply) => {
      if ('out' in m) this.done(m);
      else if ('ready' in m) started(m);
      else this.reloads.shift()?.(m);
    });
    this.worker.on('error', (err) => {
      started({ ready: false, error: err.message });
      this.destroy(err);
    });
    this.worker.on('exit', (code) => {
      started({ ready: false, error: `the prepare worker exited (code ${code}) before it was ready` });
      if (!this.stopping) this.destroy(new Error(`the prepare worker exited (code ${code})`));
    });
  }

  /** Lines inside this stage: waiting for a chunk, at the worker, and prepared but not yet taken. */
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
      this.reloads.push((r) => r.reloaded || onWorkerError(r.error ?? 'unknown error'));
      this.worker.postMessage({ reload: cfg });
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
    // Its own ArrayBuffer (not the pool's), so it can be transferred rather than copied again.
    const bytes = Buffer.allocUnsafeSlow(total);
    const ends = new Uint32Array(lines.length);
    const kinds: string[] = new Array(lines.length);
    const extras: ChunkMessage['extras'] = [];
    let at = 0;
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!;
      l.bytes.copy(bytes, at);
      at += l.bytes.length;
      ends[i] = at;
      kinds[i] = l.source.kind;
      if (l.oversize || l.unterminated || l.rejectAs || l.system) {
        // The ack target stays here: it is the source's object, not data.
        const system = l.system && ({ ...l.system, ack: undefined } satisfies Draft);
        extras.push([i, { oversize: l.oversize, unterminated: l.unterminated, rejectAs: l.rejectAs, system }]);
      }
    }
    this.inFlight.push(lines);
    const m: ChunkMessage = { bytes, ends, kinds, extras };
    this.worker.postMessage(m, [bytes.buffer, ends.buffer]);
  }

  private done({ out }: ResultMessage): void {
    const lines = this.inFlight.shift()!;
    // Keep the worker busy: the next chunk goes before this one's results are handed on.
    this.send();
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!;
      const o = i * RESULT_STRIDE;
      const code = out[o + 6];
      const key = out[o + 8];
      const p: Prepared = {
        source: l.source,
        ack: l.system ? l.system.ack : l.ack,
        rejected: code === null ? undefined : { code: code!, reason: out[o + 7]! },
        eventJcs: out[o]!,
        metaJcs: out[o + 1]!,
        redactionsJcs: out[o + 2]!,
        stream: out[o + 3]!,
        level: out[o + 4]!,
        type: out[o + 5]!,
        dedupe: key === null ? undefined : { key: key!, digest: out[o + 9]! },
      };
      this.push(p);
    }
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
