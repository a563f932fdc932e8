import type { CheckedSignature } from '../verify/signatures.js';
import type { PeriodFacts } from './facts.js';

// The report's JSON (DESIGN §13), the one shape the CLI, the HTTP API and the HTML render from.

export const STANDARDS = ['part11', 'annex11', 'alcoa', 'hipaa', 'soc2', 'gdpr'] as const;
export type Standard = (typeof STANDARDS)[number];
export type ClauseStatus = 'met' | 'partial' | 'not_met' | 'not_applicable';

export interface IntegritySummary {
  verdict: 'intact' | 'failed';
  /** What was verified: the whole log, always (a period's records chain to everything before them). */
  scope: 'whole log';
  records_checked: number;
  segments_checked: number;
  tree_size: number;
  root: string | null;
  sealed_through: number;
  key_pinned: boolean;
  origin_pinned: boolean;
  failure: { code: string; message: string; seq?: number; segment?: string; offset?: number; file?: string } | null;
  warnings: { code: string; message: string }[];
  removed_segments: { segment: number; first_seq: number; last_seq: number; record_seq?: number }[];
  signatures_checked: number;
}

export interface ClauseResult {
  id: string;
  title: string;
  status: ClauseStatus;
  evidence: string[];
}

export interface SubjectAccess {
  subject_kind: string;
  pseudonym: string;
  records: number;
  by_type: Record<string, number>;
  first: { seq: number; ts: string } | null;
  last: { seq: number; ts: string } | null;
  /** The seqs of the records that hold the pseudonym (at most 10,000). */
  seqs: number[];
}

export interface ReportJson {
  standard: Standard;
  title: string;
  period: { from: string | null; to: string | null };
  log: { origin: string | null; tree_size: number; checkpoint: { tree_size: number; root: string; note: string } | null; key_ring: string[] };
  integrity: IntegritySummary;
  counts: PeriodFacts['counts'];
  redactions: PeriodFacts['redactions'];
  retention: PeriodFacts['retention'] & { active_holds: { id: string; reason: string; placed_seq?: number }[] };
  sweeps: PeriodFacts['sweeps'];
  key_rotations: PeriodFacts['key_rotations'];
  recoveries: PeriodFacts['recoveries'];
  coverage: PeriodFacts['coverage'];
  attributability: PeriodFacts['attributability'];
  peer_credentials: PeriodFacts['peer_credentials'];
  clauses: ClauseResult[];
  /** Electronic signatures sealed in the period, each checked by the verifier. */
  signatures: (CheckedSignature & { ts: string })[];
  subject?: SubjectAccess;
  /** Whether every record of the period could be read and checked; damage stops the count where it is. */
  reading: { complete: true } | { complete: false; stopped_at: { code: string; message: string; seq?: number; segment: string; offset: number } };
  summary: Record<ClauseStatus, number>;
  generated: { at: string; sealog_version: string; node: string };
}

/** What a clause is judged on: the report without its clauses. */
export type Evidence = Omit<ReportJson, 'clauses' | 'summary' | 'title'>;

export interface ClauseDef {
  id: string;
  title: string;
  judge(e: Evidence): { status: ClauseStatus; evidence: string[] };
}

export interface Catalogue {
  standard: Standard;
  title: string;
  clauses: ClauseDef[];
}
