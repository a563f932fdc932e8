import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { ClientCode, SealogError } from '../errors.js';
import type { FailureCount, ToMain, ToWorker, WorkerConfig } from './protocol.js';
import { HEADER_BYTES, MAIN_WAITING, R, ringCapacity, ringViews, SENT, SETTLED, used, W, WORKER_SLEEPING } from './ring.js';

export type OnFull = 'block' | 'error' | 'drop';

export interface ClientOptions {
  /** Path of sealog's Unix socket. */
  socket: string;
  /** When the ring has no room for an event: wait for the worker (default), throw E_RING_FULL, or drop and count it. */
  onFull?: OnFull;
  /** Size of the ring between this thread and the worker (default 8 MiB, rounded up to a power of two). Unacknowledged events stay in it. */
  ringBytes?: number;
  /** How long the worker lets events gather before a write (default 20 ms; a flush does not wait for it). Each write costs the worker a wake-up. */
  lingerMs?: number;
  /** Add `event_id: "<uuid>:<n>"` to object events that have none, so a resend after a reconnect is deduplicated (default true). */
  eventIds?: boolean;
  /** How long the worker retries a lost connection before reporting what it holds as not committed (default 10 s). */
  reconnectMs?: number;
}

/** What flush() reports as not committed, by code: the daemon's rejection codes, E_CONNECTION_LOST, E_DROPPED. */
export class NotCommittedError extends SealogError {
  constructor(readonly failures: FailureCount[]) {
    const n = failures.reduce((a, f) => a + f.count, 0);
    super(ClientCode.NOT_COMMITTED, `${n} event(s) not committed: ${failures.map((f) => `${f.count} ${f.code} (${f.reason})`).join('; ')}`);
  }
}

/**
 * A producer's connection to sealog. send() only serializes the event into a
 * shared ring buffer; a worker thread owns the socket, writes in large chunks
 * and reads the daemon's acks, so this thread never parses an ack.
 */
export class SealogClient {
  private readonly ctrl: Int32Array;
  private readonly data: Buffer;
  private readonly mask: number;
  private readonly capacity: number;
  /** The W counter: this thread is its only writer, so it keeps its own copy. */
  private w = 0;
  /** Events put in the ring, and those dropped (onFull 'drop') not yet reported by a flush. */
  private written = 0;
  private dropped = 0;
  private readonly idPrefix: string | undefined;
  private nextId = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  private nextFlush = 0;
  private readonly pending = new Map<number, (failures: FailureCount[]) => void>();
  private fatal: Error | undefined;
  private readonly onExit = () => void this.close().catch((err: Error) => process.emitWarning(`sealog client: events lost at exit: ${err.message}`));

  private constructor(
    private readonly worker: Worker,
    sab: SharedArrayBuffer,
    private readonly onFull: OnFull,
    eventIds: boolean,
  ) {
    ({ ctrl: this.ctrl, data: this.data, mask: this.mask, capacity: this.capacity } = ringViews(sab));
    // Touch every page now, not one page fault per 4 KiB of events on the first lap.
    this.data.fill(0);
    this.idPrefix = eventIds ? `{"event_id":"${randomUUID()}:` : undefined;
    worker.on('message', (m: ToMain) => {
      if (m.type === 'flushed') this.pending.get(m.id)?.(m.failures);
    });
    worker.on('error', (err) => this.die(err));
    worker.on('exit', () => this.die(new SealogError(ClientCode.CLOSED, 'the sealog client worker exited')));
    // A producer that ends without close(): its loop empties, then the events still in the ring are flushed.
    process.once('beforeExit', this.onExit);
  }

  static async connect(opts: ClientOptions): Promise<SealogClient> {
    const capacity = ringCapacity(opts.ringBytes ?? 8 << 20);
    const sab = new SharedArrayBuffer(HEADER_BYTES + capacity);
    const cfg: WorkerConfig = {
      sab,
      socket: opts.socket,
      eventIds: opts.eventIds ?? true,
      lingerMs: opts.lingerMs ?? 20,
      reconnectMs: opts.reconnectMs ?? 10_000,
    };
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: cfg });
    const first = await new Promise<ToMain>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    if (first.type !== 'ready') {
      await worker.terminate();
      throw new SealogError(
        first.type === 'error' ? first.code : ClientCode.CONNECT,
        first.type === 'error' ? first.message : 'sealog client worker did not start',
      );
    }
    const client = new SealogClient(worker, sab, opts.onFull ?? 'block', cfg.eventIds);
    // Idle, the worker does not hold the process open (after its listeners are on: adding one refs it again);
    // flush() and close() hold it while they wait.
    worker.unref();
    return client;
  }

  /**
   * Serializes the event into the ring; returns at once. Throws on a closed
   * client, an event that cannot fit the ring, or (onFull 'error') a full ring.
   */
  send(event: unknown): void {
    let line = JSON.stringify(event);
    if (line === undefined) throw new TypeError('sealog client: the event does not serialize to JSON');
    // Only objects get an id (anything else is rejected by the daemon and reported as such).
    if (this.idPrefix !== undefined && line.charCodeAt(0) === 123 && (event as { event_id?: unknown }).event_id === undefined) {
      line = `${this.idPrefix}${this.nextId++}"${line.length > 2 ? ',' : ''}${line.slice(1)}`;
    }
    this.put(line);
  }

  /**
   * Sends one event that is already JSON text (one object, no newline), e.g. a line a
   * logger wrote: no parse and no stringify. With event ids on, an id goes in as the
   * first member; a top-level `event_id` of the line's own comes later and wins
   * (JSON's last-member rule, which the daemon's parser follows).
   */
  sendLine(line: string): void {
    if (line.charCodeAt(0) !== 123 || line.includes('\n')) throw new TypeError('sealog client: sendLine takes one JSON object on one line');
    this.put(this.idPrefix === undefined ? line : `${this.idPrefix}${this.nextId++}"${line.length > 2 ? ',' : ''}${line.slice(1)}`);
  }

  private put(line: string): void {
    if (this.closed) throw new SealogError(ClientCode.CLOSED, 'send() after close()');
    const free = this.capacity - used(this.w, Atomics.load(this.ctrl, R));
    // UTF-8 takes at most 3 bytes per UTF-16 unit: the exact length is counted only near full.
    const bound = line.length * 3 + 1;
    const size = bound <= free ? bound : Buffer.byteLength(line) + 1;
    if (size > free && !this.makeRoom(size)) return;
    const pos = this.w & this.mask;
    let n: number;
    if (this.capacity - pos >= size) {
      n = this.data.write(line, pos);
      this.data[pos + n] = 10;
      n++;
    } else {
      // Across the end of the ring (once per lap): through a copy.
      const b = Buffer.from(`${line}\n`);
      const first = this.capacity - pos;
      b.copy(this.data, pos, 0, Math.min(first, b.length));
      if (b.length > first) b.copy(this.data, 0, first);
      n = b.length;
    }
    this.w = (this.w + n) | 0;
    this.written++;
    Atomics.store(this.ctrl, W, this.w);
    if (Atomics.load(this.ctrl, WORKER_SLEEPING) === 1) this.wake();
  }

  /**
   * Resolves once every event sent so far is committed (fsync'd) by the daemon.
   * Rejects with E_NOT_COMMITTED (a NotCommittedError, by code) if any of them
   * was rejected, dropped, or lost with the connection; each such event is
   * reported by one flush only.
   */
  flush(): Promise<void> {
    if (this.closed) return Promise.reject(new SealogError(ClientCode.CLOSED, 'flush() after close()'));
    return this.settle();
  }

  private async settle(): Promise<void> {
    if (this.fatal) throw this.fatal;
    const id = this.nextFlush++;
    const target = this.written;
    const dropped = this.dropped;
    this.dropped = 0;
    this.worker.ref();
    let failures: FailureCount[];
    try {
      failures = await new Promise<FailureCount[]>((resolve) => {
        this.pending.set(id, resolve);
        this.post({ type: 'flush', id, target });
        this.wake();
      });
    } finally {
      this.pending.delete(id);
      if (this.pending.size === 0) this.worker.unref();
    }
    if (this.fatal) throw this.fatal;
    if (dropped > 0) failures.push({ code: ClientCode.DROPPED, count: dropped, reason: 'the ring buffer was full (onFull: drop)' });
    if (failures.length > 0) throw new NotCommittedError(failures);
  }

  /** Flushes, then ends the connection and the worker. Rejects as flush() does; the worker ends either way. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    process.off('beforeExit', this.onExit);
    try {
      await this.settle();
    } finally {
      if (!this.fatal) {
        this.worker.ref();
        await new Promise<void>((resolve) => {
          this.worker.on('message', (m: ToMain) => m.type === 'closed' && resolve());
          this.worker.once('exit', () => resolve());
          this.post({ type: 'close' });
        });
      }
      await this.worker.terminate();
    }
  }

  /** Events written to the ring and settled by the worker (acknowledged or reported); ring bytes not yet handed to the socket. */
  get counts(): { written: number; settled: number; unsentBytes: number } {
    return { written: this.written, settled: Atomics.load(this.ctrl, SETTLED), unsentBytes: used(this.w, Atomics.load(this.ctrl, SENT)) };
  }

  private makeRoom(size: number): boolean {
    if (size > this.capacity)
      throw new SealogError(ClientCode.EVENT_TOO_LARGE, `event of ${size} bytes does not fit the ${this.capacity}-byte ring (ringBytes)`);
    if (this.onFull === 'drop') {
      this.dropped++;
      return false;
    }
    if (this.onFull === 'error') throw new SealogError(ClientCode.RING_FULL, `the ring buffer is full (${this.capacity} bytes unacknowledged)`);
    // 'block': this thread waits for the worker to release space (acks, or a lost connection reported).
    Atomics.store(this.ctrl, MAIN_WAITING, 1);
    try {
      for (;;) {
        if (this.fatal) throw this.fatal;
        const r = Atomics.load(this.ctrl, R);
        if (this.capacity - used(this.w, r) >= size) return true;
        this.wake();
        Atomics.wait(this.ctrl, R, r, 100);
      }
    } finally {
      Atomics.store(this.ctrl, MAIN_WAITING, 0);
    }
  }

  private wake(): void {
    Atomics.store(this.ctrl, WORKER_SLEEPING, 0);
    Atomics.notify(this.ctrl, W);
  }

  private post(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  private die(err: Error): void {
    // After close() the worker's exit is expected.
    if (!this.closed) this.fatal ??= err;
    for (const resolve of this.pending.values()) resolve([]);
  }
}
