import type { AckTarget, Sealed } from './types.js';

/**
 * Tells each client what of its input a committed batch made durable: a line per
 * rejected input, then one commit line per client for the batch.
 */
export function deliverAcks(records: Sealed[]): void {
  const batches = new Map<AckTarget, { count: number; line: number; seq: number }>();
  for (const r of records) {
    if (!r.ack) continue;
    if (r.rejected) {
      r.ack.rejected(r.source.line ?? 0, r.seq, r.rejected.code, r.rejected.reason);
      continue;
    }
    const b = batches.get(r.ack);
    if (b) {
      b.count++;
      b.line = r.source.line ?? 0;
      b.seq = r.seq;
    } else batches.set(r.ack, { count: 1, line: r.source.line ?? 0, seq: r.seq });
  }
  for (const [target, b] of batches) target.committed(b.count, b.line, b.seq);
}
