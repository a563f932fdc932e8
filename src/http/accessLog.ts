import type { Logger } from '../log.js';
import { OwnType, type SealOwn } from '../ownRecords.js';
import type { JsonObject } from '../types.js';

export interface AccessEntry {
  at: string;
  /** The name of the token that read (its `sealog token create --name`). */
  caller: string;
  role: string;
  method: string;
  route: string;
  /** The query as asked (after validation), so "who searched for what" is answerable. */
  query?: JsonObject;
  /** Path parameters (a record's seq, a report's standard). */
  params?: JsonObject;
  status: number;
}

/** Entries per sealed record at most: one record stays small however busy the API is. */
const MAX_BATCH = 500;

/**
 * Who read what through the API, sealed into the trail itself (Part 11 wants reads of
 * records by auditors attributable too). Batched: one `sealog.http.access` audit record
 * per flush interval or per MAX_BATCH reads, so a busy reader costs one record, not one
 * per request. At most one flush is in flight: reads that come meanwhile wait in memory,
 * and past 10 × MAX_BATCH waiting the oldest are counted as dropped in the next record
 * (memory stays bounded even if the log stalls; the count says what is missing).
 */
export class AccessLog {
  private pending: AccessEntry[] = [];
  private dropped = 0;
  private flushing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly seal: SealOwn,
    flushMs: number,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.flush(), flushMs).unref();
  }

  note(entry: AccessEntry): void {
    this.pending.push(entry);
    if (this.pending.length > 10 * MAX_BATCH) {
      this.pending.shift();
      this.dropped++;
    }
    if (this.pending.length >= MAX_BATCH) void this.flush();
  }

  /** Seals what is pending; resolves once it is durable. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => (this.pending.length ? this.flush() : undefined));
    if (!this.pending.length) return Promise.resolve();
    const reads = this.pending.splice(0, MAX_BATCH);
    const dropped = this.dropped;
    this.dropped = 0;
    const event = { action: 'http.access', reads: reads as unknown as JsonObject[], ...(dropped && { dropped }) };
    this.flushing = this.seal(OwnType.HTTP_ACCESS, event)
      .then(
        () => undefined,
        (err: Error) => this.log.warn({ err: err.message, reads: reads.length }, 'HTTP access log: reads could not be sealed'),
      )
      .finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
