import { VerifyCode } from '../errors.js';
import { OwnType } from '../ownRecords.js';
import { segmentName } from '../store/layout.js';
import { fail, type Finding } from './findings.js';

export interface RemovedSegment {
  segment: number;
  first_seq: number;
  last_seq: number;
  tree_size: number;
  root: string;
  /** The seq of the sealed record that says so. */
  record_seq?: number;
}

/** Removal records by the segment they name: the seq of the record and the hash of the signed manifest it names. */
export type Removals = Map<number, { seq: number; manifestSha: string }>;

/** Collects sealog's own removal records; a producer cannot write one (its records' source is never sealog). */
export function noteRemoval(r: Record<string, any>, removals: Removals): void {
  if (r.type !== OwnType.RETENTION_REMOVED || r.source?.kind !== 'sealog' || r.stream !== 'audit') return;
  const e = r.event as { segment?: unknown; manifest_sha256?: unknown };
  // A crash between sealing and deleting can seal the same removal twice; the first one counts.
  if (Number.isInteger(e.segment) && typeof e.manifest_sha256 === 'string' && !removals.has(e.segment as number)) {
    removals.set(e.segment as number, { seq: r.seq as number, manifestSha: e.manifest_sha256 });
  }
}

/**
 * Every removed segment must be named, with the hash of its signed manifest, by a removal
 * record in the log; anything else is a segment deleted behind sealog's back. A removal
 * record for a segment still present is a removal a crash interrupted (finished at the next run).
 */
export function checkRemovals(removed: RemovedSegment[], removals: Removals, tombstoneSha: Map<number, string>, partial: boolean, warnings: Finding[]): void {
  for (const r of removed) {
    const rec = removals.get(r.segment);
    if (rec && rec.manifestSha === tombstoneSha.get(r.segment)) {
      r.record_seq = rec.seq;
      continue;
    }
    // A partial check may not have read the segment that holds the record.
    if (partial && !rec) continue;
    fail({
      code: VerifyCode.REMOVED_UNRECORDED,
      message: rec
        ? `segment ${segmentName(r.segment)} is missing and the removal record at seq ${rec.seq} names a different signed manifest`
        : `segment ${segmentName(r.segment)} (seq ${r.first_seq}..${r.last_seq}) is missing: a signed manifest for it is kept, but no removal record in the log names it`,
      segment: segmentName(r.segment),
      seq: r.first_seq,
    });
  }
  const gone = new Set(removed.map((r) => r.segment));
  for (const [segment, rec] of removals) {
    if (!gone.has(segment) && !partial) {
      warnings.push({
        code: VerifyCode.REMOVAL_PENDING,
        message: `the removal record at seq ${rec.seq} names segment ${segmentName(segment)}, which is still present (a removal interrupted by a crash; the next retention run finishes it)`,
        seq: rec.seq,
        segment: segmentName(segment),
      });
    }
  }
}
