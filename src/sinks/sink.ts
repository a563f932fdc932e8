// What a sink is (DESIGN §11). One sink is one file in src/sinks/ that implements this;
// the runner (runner.ts) feeds it committed records by its durable cursor.

/** One thing to deliver, in log order: a record, or a checkpoint right after the record that completes it. */
export type Delivery = { kind: 'record'; seq: number; line: Buffer; hash: string; stream: string } | { kind: 'checkpoint'; size: number; note: Buffer };

export interface Sink {
  readonly type: string;
  /**
   * Delivers the batch; resolves only when the destination has acknowledged every item
   * (the cursor then moves past them), rejects when it cannot (the runner retries the
   * whole batch with backoff, so a delivery must be idempotent at the destination).
   */
  deliver(batch: Delivery[]): Promise<void>;
  /** Releases connections; called once, after the last deliver settled. */
  close(): Promise<void>;
}
