import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadRing } from '../crypto/keyFiles.js';
import { parseVerifierKey } from '../crypto/keys.js';
import { ErrorCode, SealogError } from '../errors.js';
import { readActiveHolds } from '../jobs/holds.js';
import type { RegisteredSigner } from '../sign/registry.js';
import { layout, listCheckpoints } from '../store/layout.js';
import { verifyLog, type Verdict } from '../verify/verifier.js';
import { catalogues } from './clauses/index.js';
import { FactsCollector } from './facts.js';
import type { ClauseStatus, Evidence, IntegritySummary, ReportJson, Standard } from './model.js';
import { STANDARDS } from './model.js';
import type { Finding } from '../read/trail.js';
import { periodRecords } from './period.js';
import { subjectPseudonym, SubjectCollector } from './subject.js';

export interface ReportOptions {
  data: string;
  standard: Standard;
  /** The period on the records' receive time, ms since the epoch: from ≤ ts < to. */
  from?: number;
  to?: number;
  /** Public keys the caller pins (verifier-key texts); without them, the data directory's ring, and the report says so. */
  keys?: string[];
  /** GDPR subject access: `KIND:VALUE`, found through its HMAC pseudonym (needs keys/hmac.key). */
  subject?: string;
  signers?: RegisteredSigner[];
  /** Receive-time gaps longer than this are listed (default 3600 s). */
  gapSeconds?: number;
  frameCap?: number;
  threads?: number;
  now?: () => Date;
  /** What a reader should tell its user but is no failure (an index ignored and rebuilt); default stderr. */
  onWarning?(message: string): void;
}

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * A compliance report (DESIGN §13): the whole log verified, the period's records counted
 * through the query engine (so the figures equal what sealog query finds), and each clause
 * of the standard judged on that evidence.
 */
export async function buildReport(o: ReportOptions): Promise<ReportJson> {
  if (!STANDARDS.includes(o.standard)) throw new SealogError(ErrorCode.USAGE, `unknown standard ${JSON.stringify(o.standard)}; one of ${STANDARDS.join(', ')}`);
  if (o.from !== undefined && o.to !== undefined && o.from >= o.to) throw new SealogError(ErrorCode.USAGE, 'the period is empty: --from must be before --to');
  const l = layout(o.data);
  const frameCap = o.frameCap ?? 1024 * 1024 * 1024;
  const ring = o.keys?.length
    ? o.keys
    : await loadRing(l).then(
        (r) => r.keys,
        () => [],
      );
  if (!ring.length) throw new SealogError(ErrorCode.KEY_MISSING, `no public key given and none in ${l.keys}`);
  const verdict = await verifyLog({
    data: o.data,
    keys: ring.map(parseVerifierKey),
    keyPinned: !!o.keys?.length,
    strict: false,
    frameCap,
    threads: o.threads ?? 1,
    signers: o.signers,
  });

  const facts = new FactsCollector(o.gapSeconds ?? 3600);
  const pseudonym = o.subject ? await subjectPseudonym(l, o.subject) : undefined;
  const subject = pseudonym ? new SubjectCollector(pseudonym) : undefined;
  let stopped: Finding | undefined;
  const reading = periodRecords(o.data, { from: o.from, to: o.to, frameCap, onStop: (f) => (stopped = f), onWarning: o.onWarning });
  for await (const { record, line } of reading) {
    facts.add(record);
    subject?.add(record, line);
  }
  const f = facts.finish();
  const inPeriod = new Map(f.signature_records.map((s) => [s.seq, s.ts]));
  const evidence: Evidence = {
    standard: o.standard,
    period: { from: o.from === undefined ? null : new Date(o.from).toISOString(), to: o.to === undefined ? null : new Date(o.to).toISOString() },
    log: { origin: verdict.origin ?? null, tree_size: verdict.treeSize, checkpoint: await newestCheckpoint(l), key_ring: ring },
    integrity: summarize(verdict),
    counts: f.counts,
    redactions: f.redactions,
    retention: {
      ...f.retention,
      active_holds: (await readActiveHolds(l)).map((h) => ({ id: h.id, reason: h.reason, ...(h.placed_seq !== undefined && { placed_seq: h.placed_seq }) })),
    },
    sweeps: f.sweeps,
    key_rotations: f.key_rotations,
    recoveries: f.recoveries,
    coverage: f.coverage,
    attributability: f.attributability,
    peer_credentials: f.peer_credentials,
    signatures: verdict.signatures.filter((s) => inPeriod.has(s.seq)).map((s) => ({ ...s, ts: inPeriod.get(s.seq)! })),
    ...(subject && { subject: subject.finish(o.subject!.slice(0, o.subject!.indexOf(':'))) }),
    reading: stopped ? { complete: false, stopped_at: { ...stopped } } : { complete: true },
    generated: { at: (o.now?.() ?? new Date()).toISOString(), sealog_version: VERSION, node: process.version },
  };
  const catalogue = catalogues[o.standard];
  const clauses = catalogue.clauses.map((c) => ({ id: c.id, title: c.title, ...c.judge(evidence) }));
  const summary: Record<ClauseStatus, number> = { met: 0, partial: 0, not_met: 0, not_applicable: 0 };
  for (const c of clauses) summary[c.status]++;
  // The DESIGN §13 members first, in its order.
  const { standard, period, log, integrity, counts, signatures, generated, ...rest } = evidence;
  return { standard, title: catalogue.title, period, log, integrity, counts, clauses, signatures, generated, summary, ...rest };
}

function summarize(v: Verdict): IntegritySummary {
  return {
    verdict: v.ok ? 'intact' : 'failed',
    scope: 'whole log',
    records_checked: v.records,
    segments_checked: v.segments,
    tree_size: v.treeSize,
    root: v.ok ? v.root : null,
    sealed_through: v.sealedThrough,
    key_pinned: v.keyPinned,
    origin_pinned: v.originPinned,
    failure: v.failure ? { ...v.failure } : null,
    warnings: v.warnings.map((w) => ({ code: w.code, message: w.message })),
    removed_segments: v.removed.map((r) => ({
      segment: r.segment,
      first_seq: r.first_seq,
      last_seq: r.last_seq,
      ...(r.record_seq !== undefined && { record_seq: r.record_seq }),
    })),
    signatures_checked: v.signatures.length,
  };
}

/** The newest checkpoint on disk: the one the report covers (verify checked it, or the verdict says it failed). */
async function newestCheckpoint(l: ReturnType<typeof layout>): Promise<ReportJson['log']['checkpoint']> {
  const all = await listCheckpoints(l);
  const last = all[all.length - 1];
  if (!last) return null;
  const note = await readFile(join(l.checkpoints, last.name), 'utf8');
  const [, size, root] = note.split('\n');
  return { tree_size: Number(size), root: root ?? '', note };
}
