import type { PendingRotation } from './crypto/keyFiles.js';
import type { TornTail } from './store/recovery.js';
import type { AckTarget, Draft, JsonObject } from './types.js';

// sealog's own records: what the daemon itself writes into the log (a cut torn tail,
// a key transition, a retention removal, a hold, a sweep, a spool file's fate, a signature,
// the HTTP access log). Their
// type names are defined here, once, and imported by the writer and the verifier alike;
// every one is built by ownDraft and takes one path into the log: Ingest.audit, the
// same pipeline as every event, resolved once durable.
// This module imports types only: the verifier's threads load it without the writer.

export const OwnType = {
  /** Recovery cut a torn tail off the newest segment at start. */
  RECOVERY: 'sealog.recovery',
  /** A signing key handed over to the next (the verifier follows the chain of keys through it). */
  KEY_TRANSITION: 'sealog.key.transition',
  /** Retention removed (or archived) a closed segment; the verifier accepts the gap only with it. */
  RETENTION_REMOVED: 'sealog.retention.removed',
  HOLD_PLACED: 'sealog.hold.placed',
  HOLD_RELEASED: 'sealog.hold.released',
  INTEGRITY_SWEEP: 'sealog.integrity.sweep',
  SPOOL_INGESTED: 'sealog.spool.ingested',
  SPOOL_FAILED: 'sealog.spool.failed',
  SPOOL_DUPLICATE: 'sealog.spool.duplicate',
  /** Something a producer put in place of sealog's own spool folder (done/, rejected/), moved aside. */
  SPOOL_PLANTED: 'sealog.spool.planted',
  /** A file written in place that was written to after it was idle and moved out of the spool. */
  SPOOL_GROWN_AFTER_MOVE: 'sealog.spool.grown_after_move',
  /** An electronic signature over named records (DESIGN §13); the verifier checks each. */
  SIGNATURE: 'sealog.signature',
  /** A batch of the HTTP API's access log. */
  HTTP_ACCESS: 'sealog.http.access',
} as const;
export type OwnType = (typeof OwnType)[keyof typeof OwnType];

/** The type classify gives a dead-letter record (a rejected input line; not one of sealog's own). */
export const REJECTED_TYPE = 'sealog.rejected';

export type OwnLevel = 'info' | 'warn' | 'error';

/** Seals one of sealog's own records; resolves with its seq once it is durable. */
export type SealOwn = (type: OwnType, event: JsonObject, level?: OwnLevel) => Promise<number>;

/** The one shape of an own record: from sealog, on the audit stream, already classified (parse and classify pass it through). */
export function ownDraft(type: OwnType, event: JsonObject, level: OwnLevel, ack?: AckTarget): Draft {
  return { source: { kind: 'sealog' }, event, redactions: [], stream: 'audit', level, type, system: true, meta: { classification: 'internal' }, ack };
}

/** What recovery cut off at start, sealed before any input. */
export function tornTailEvent(t: TornTail): JsonObject {
  return { action: 'recovery.torn_tail_cut', segment: t.segment, offset: t.offset, bytes: t.bytes, sha256: t.sha256, reason: t.reason, saved_as: t.savedAs };
}

/** A key rotation's transition: the old key, the new one, and the note the old key signed. */
export function keyTransitionEvent(r: PendingRotation): JsonObject {
  return { action: 'key.transition', old_key: r.oldKey, new_key: r.newKey, note: r.note };
}
