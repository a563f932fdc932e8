import type { Ingest } from '../sources/ingest.js';
import type { AckTarget, Draft, JsonObject } from '../types.js';

/** Seals one of sealog's own audit records; resolves with its seq once it is durable. */
export type SealAudit = (type: string, event: JsonObject, level?: 'info' | 'warn' | 'error') => Promise<number>;

/**
 * The jobs' way into the log: a system record through the same pipeline as every
 * event (so it is chained, batched and committed in order), acknowledged only once
 * it is durable, which is what lets retention delete a file after its record.
 */
export function auditSealer(ingest: Ingest): SealAudit {
  return (type, event, level = 'info') =>
    new Promise<number>((resolve, reject) => {
      if (ingest.closed) {
        reject(new Error('the daemon is stopping: no more records'));
        return;
      }
      const ack: AckTarget = { committed: (_n, _l, seq) => resolve(seq), rejected: (_l, seq) => resolve(seq), duplicate: (_l, seq) => resolve(seq) };
      const draft: Draft = { source: { kind: 'sealog' }, event, redactions: [], stream: 'audit', level, type, system: true, meta: { classification: 'internal' }, ack };
      ingest.write({ bytes: Buffer.alloc(0), source: draft.source, system: draft });
    });
}
