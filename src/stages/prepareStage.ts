import { Duplex } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config.js';
import { SealogError } from '../errors.js';
import type { Draft, Prepared, RawLine } from '../types.js';

/** Lines per message to the worker: enough to make a message's cost vanish per line, few enough to keep latency low. */
const CHUNK_LINES = 256;
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
 * go over in chunks and come back as text, in order. Backpressure: with
 * MAX_IN_FLIGHT chunks at the worker and the next one full, or with the results
 * not taken downstream, input waits.
 */
export class PrepareStage extends Duplex {
  private readonly worker: Worker;
  private collecting: RawLine[] = [];
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
    super({ objectMode: true, writableHighWaterMark: 1, readableHighWaterMark: CHUNK_LINES });
    const key = new Uint8Array(hmacKey); // a copy for the worker; the caller zeroes its own
    const workerData: WorkerInit = { cfg, hmacKey: key };
    this.worker = new Worker(new URL('./prepareWorker.js', import.meta.url), { workerData, transferList: [key.buffer] });
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

  /** Takes a reloaded config in the worker; resolves with its error text, or undefined. */
  reload(cfg: Config): Promise<string | undefined> {
    return new Promise((resolve) => {
      this.reloads.push((r) => resolve(r.reloaded ? undefined : r.error));
      this.worker.postMessage({ reload: cfg });
    });
  }

  override _write(raw: RawLine, _enc: BufferEncoding, cb: () => void): void {
    this.collecting.push(raw);
    if (this.collecting.length >= CHUNK_LINES) this.send();
    else if (this.inFlight.length === 0 && !this.flushQueued) {
      // The rest of this burst of writes comes synchronously: send them together.
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        if (this.inFlight.length === 0) this.send();
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
    this.send();
    this.finalCb = cb;
    this.finishIfIdle();
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.stopping = true;
    void this.worker.terminate();
    cb(err);
  }

  private get atWorkerLimit(): boolean {
    return this.collecting.length >= CHUNK_LINES && this.inFlight.length >= MAX_IN_FLIGHT;
  }

  private release(): void {
    if (!this.held) return;
    const cb = this.held;
    this.held = undefined;
    cb();
  }

  private send(): void {
    if (this.collecting.length === 0 || this.inFlight.length >= MAX_IN_FLIGHT) return;
    const lines = this.collecting;
    this.collecting = [];
    let total = 0;
    for (const l of lines) total += l.bytes.length;
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
