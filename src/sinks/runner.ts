import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';
import type { Status } from '../status.js';
import { loadCursor, saveCursor, type Cursor } from './cursor.js';
import type { LogTail, TailRecord } from './logTail.js';
import type { Delivery, Sink } from './sink.js';

export interface RunnerOptions {
  name: string;
  sink: Sink;
  tail: LogTail;
  cursorFile: string;
  /** The seq through which records are durable (the store's commit point). */
  committedThrough(): number;
  batchRecords: number;
  maxLagRecords: number;
  maxLagSeconds: number;
  status: Status;
  log: Logger;
}

const IDLE_MS = 250;
const MAX_BACKOFF_MS = 10_000;

/**
 * Runs one sink beside the pipeline, never in it: reads what is committed after the
 * sink's cursor, delivers it in batches, and moves the durable cursor only after the
 * destination acknowledged. A failing destination is retried with backoff while the
 * log keeps growing (it is the buffer); status shows the lag and the last error, and
 * turns degraded past the configured lag.
 */
export class SinkRunner {
  /** What the cursor file holds (retention's floor). */
  private cursor: Cursor = { seq: -1, checkpoint: 0 };
  /** What the destination acknowledged: where the next batch starts; written to the cursor file behind the loop. */
  private acked: Cursor = { seq: -1, checkpoint: 0 };
  private saving: Promise<void> | undefined;
  private saveAgain = false;
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private lastError: { message: string; at: string } | undefined;
  private lastAckAt = 0;
  /** Receive time of the oldest record read and not yet acknowledged. */
  private oldestUnackedTs: number | undefined;
  private delivered = 0;
  /** Deliveries that failed (each retried with backoff) since the daemon started. */
  private failures = 0;
  /** Set by stop(): deliver until nothing is left or this time passes. */
  private drainUntil: number | undefined;

  constructor(private readonly o: RunnerOptions) {}

  async start(): Promise<void> {
    this.cursor = this.acked = await loadCursor(this.o.cursorFile);
    this.loop = this.run();
  }

  /** New records committed: look now rather than at the next idle tick. */
  wake(): void {
    this.wakeUp?.();
  }

  /**
   * Delivers what is committed (the final checkpoint included) for up to `graceMs`, then
   * stops; the cursor keeps the rest for the next start.
   */
  async stop(graceMs = 2000): Promise<void> {
    this.drainUntil = Date.now() + graceMs;
    this.wake();
    await Promise.race([this.loop, sleep(graceMs + 1000)]);
    this.stopped = true;
    this.wake();
    await this.saving;
    if (this.acked !== this.cursor) {
      await saveCursor(this.o.cursorFile, this.acked).then(
        () => void (this.cursor = this.acked),
        (err: Error) =>
          this.o.log.warn({ sink: this.o.name, error: err.message }, 'sink: cannot save the cursor; the next start sends again from the last one saved'),
      );
    }
    await this.o.sink.close().catch(() => {});
  }

  get acknowledged(): number {
    return this.cursor.seq;
  }

  report() {
    const committed = this.o.committedThrough();
    const lagRecords = Math.max(0, committed - this.cursor.seq);
    const lagSeconds = lagRecords && this.oldestUnackedTs ? Math.max(0, (Date.now() - this.oldestUnackedTs) / 1000) : 0;
    return {
      type: this.o.sink.type,
      cursor: this.cursor.seq,
      checkpoint: this.cursor.checkpoint,
      committed,
      lag_records: lagRecords,
      lag_seconds: Math.round(lagSeconds * 10) / 10,
      delivered: this.delivered,
      failures: this.failures,
      last_ack: this.lastAckAt ? new Date(this.lastAckAt).toISOString() : null,
      last_error: this.lastError?.message ?? null,
      last_error_at: this.lastError?.at ?? null,
    };
  }

  private async run(): Promise<void> {
    let backoff = 100;
    let batch: Delivery[] | undefined;
    let next: Cursor | undefined;
    while (!this.stopped) {
      if (this.drainUntil !== undefined && (Date.now() > this.drainUntil || this.lastError)) break;
      try {
        if (!batch) ({ batch, next } = await this.nextBatch());
        if (!batch.length) {
          if (this.drainUntil !== undefined) break;
          this.health();
          await this.idle();
          batch = undefined;
          continue;
        }
        await this.o.sink.deliver(batch);
        this.acked = next!;
        this.persist();
        this.delivered += batch.length;
        this.lastAckAt = Date.now();
        this.oldestUnackedTs = undefined;
        if (this.lastError) this.o.log.info({ sink: this.o.name, cursor: this.acked.seq }, 'sink: delivering again');
        this.lastError = undefined;
        batch = undefined;
        backoff = 100;
      } catch (err) {
        const message = (err as Error).message;
        this.failures++;
        if (this.lastError?.message !== message)
          this.o.log.warn({ sink: this.o.name, error: message, cursor: this.acked.seq }, 'sink: delivery failed; retrying with backoff (local commits go on)');
        this.lastError = { message, at: new Date().toISOString() };
        this.health();
        await this.idle(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
      this.health();
    }
  }

  /**
   * Writes the acknowledged position to the cursor file, the latest one when several
   * batches were acknowledged meanwhile; the loop does not wait for the fsync. The file
   * never says more than the destination acknowledged, so a crash only sends again what
   * the destination drops as a duplicate.
   */
  private persist(): void {
    if (this.saving) {
      this.saveAgain = true;
      return;
    }
    this.saving = (async () => {
      do {
        this.saveAgain = false;
        const c = this.acked;
        try {
          await saveCursor(this.o.cursorFile, c);
          this.cursor = c;
        } catch (err) {
          // Tried again after the next batch, and at stop.
          this.o.log.warn({ sink: this.o.name, error: (err as Error).message }, 'sink: cannot save the cursor');
          break;
        }
      } while (this.saveAgain);
      this.saving = undefined;
    })();
  }

  /** The records after the acknowledged position, with each checkpoint placed after the record that completes it. */
  private async nextBatch(): Promise<{ batch: Delivery[]; next: Cursor }> {
    const through = this.o.committedThrough();
    const from = this.acked;
    const records: TailRecord[] = from.seq < through ? await this.o.tail.read(from.seq + 1, through, this.o.batchRecords) : [];
    if (records.length && records[0]!.seq !== from.seq + 1) {
      this.o.log.error(
        { sink: this.o.name, from: from.seq + 1, to: records[0]!.seq - 1 },
        'sink: records were removed by retention before this sink sent them',
      );
    }
    const lastSeq = records.length ? records[records.length - 1]!.seq : from.seq;
    const cps = await this.o.tail.checkpoints(from.checkpoint, lastSeq + 1);
    const batch: Delivery[] = [];
    let c = 0;
    for (const r of records) {
      while (c < cps.length && cps[c]!.size <= r.seq) batch.push({ kind: 'checkpoint', ...cps[c++]! });
      batch.push({ kind: 'record', ...r });
    }
    while (c < cps.length) batch.push({ kind: 'checkpoint', ...cps[c++]! });
    if (records.length) this.oldestUnackedTs = tsOf(records[0]!.line);
    return { batch, next: { seq: lastSeq, checkpoint: cps.length ? cps[cps.length - 1]!.size : from.checkpoint } };
  }

  private idle(ms = IDLE_MS): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wakeUp = ms === IDLE_MS ? done : undefined; // a backoff is not cut short by new commits
      if (this.stopped) done();
    });
  }

  private health(): void {
    const r = this.report();
    const over =
      r.lag_records > this.o.maxLagRecords
        ? `${r.lag_records} records behind (limit ${this.o.maxLagRecords})`
        : r.lag_seconds > this.o.maxLagSeconds
          ? `${r.lag_seconds} s behind (limit ${this.o.maxLagSeconds} s)`
          : '';
    this.o.status.setHealth(
      `sink:${this.o.name}`,
      over ? 'degraded' : 'ok',
      over ? `sink ${this.o.name} is ${over}${r.last_error ? `; last error: ${r.last_error}` : ''}` : '',
    );
  }
}

const TS_KEY = Buffer.from(',"ts":"');

/** The receive time of a canonical record line (the last top-level "ts" member, as in logTail's streamOf). */
function tsOf(line: Buffer): number | undefined {
  const at = line.lastIndexOf(TS_KEY);
  if (at < 0) return undefined;
  const start = at + TS_KEY.length;
  const ms = Date.parse(line.subarray(start, line.indexOf(0x22, start)).toString('latin1'));
  return Number.isNaN(ms) ? undefined : ms;
}
