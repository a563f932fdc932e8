import { OwnType } from '../ownRecords.js';

// What the records of a period say, counted in one pass over them: the evidence a report's
// clauses rest on. Pure: records in, figures out (the caller reads and checks the records).

type Counter = Record<string, number>;

export interface PeriodFacts {
  counts: {
    records: number;
    by_stream: Counter;
    by_type: Counter;
    by_level: Counter;
    by_source: Counter;
    /** Inputs sealed as dead letters (stream "rejected"), by reject code. */
    rejected: { total: number; by_code: Counter };
  };
  redactions: { records: number; total: number; by_kind: Counter };
  retention: {
    removals: { seq: number; ts: string; segment: number; first_seq: number; last_seq: number; records: number; disposition: string }[];
    holds_placed: { seq: number; ts: string; id: string; reason: string }[];
    holds_released: { seq: number; ts: string; id: string; reason: string }[];
  };
  sweeps: {
    total: number;
    passed: number;
    failed: number;
    full: number;
    records: { seq: number; ts: string; mode: string; ok: boolean; segments: number; failure?: string }[];
  };
  key_rotations: { seq: number; ts: string; old_key: string; new_key: string }[];
  /** Signature records in the period (their checking is the verifier's). */
  signature_records: { seq: number; ts: string; signer: string; meaning: string; records: number }[];
  recoveries: { seq: number; ts: string; reason: string }[];
  coverage: {
    first: { seq: number; ts: string } | null;
    last: { seq: number; ts: string } | null;
    /** Receive-time gaps between consecutive records longer than the threshold, longest first (at most 20). */
    gaps: { after_seq: number; from: string; to: string; seconds: number }[];
    gap_threshold_seconds: number;
    /** Records whose ts is earlier than the record before them (a clock step back). */
    ts_out_of_order: number;
  };
  /** ALCOA+ attributes of the producers' records (sealog's own and dead letters excluded). */
  attributability: { records: number; who: number; when: number; where: number; all_three: number; share_all_three: number; original: number };
  /** Socket records carrying the sender's pid/uid/gid as the kernel reported them. */
  peer_credentials: { socket_records: number; with_peer: number };
}

const MAX_GAPS = 20;
const bump = (c: Counter, k: unknown) => {
  const key = typeof k === 'string' ? k : String(k);
  c[key] = (c[key] ?? 0) + 1;
};

export class FactsCollector {
  private readonly f: PeriodFacts;
  private prevMs: number | undefined;

  constructor(gapThresholdSeconds: number) {
    this.f = {
      counts: { records: 0, by_stream: {}, by_type: {}, by_level: {}, by_source: {}, rejected: { total: 0, by_code: {} } },
      redactions: { records: 0, total: 0, by_kind: {} },
      retention: { removals: [], holds_placed: [], holds_released: [] },
      sweeps: { total: 0, passed: 0, failed: 0, full: 0, records: [] },
      key_rotations: [],
      signature_records: [],
      recoveries: [],
      coverage: { first: null, last: null, gaps: [], gap_threshold_seconds: gapThresholdSeconds, ts_out_of_order: 0 },
      attributability: { records: 0, who: 0, when: 0, where: 0, all_three: 0, share_all_three: 0, original: 0 },
      peer_credentials: { socket_records: 0, with_peer: 0 },
    };
  }

  add(r: Record<string, any>): void {
    const f = this.f;
    const c = f.counts;
    c.records++;
    bump(c.by_stream, r.stream);
    bump(c.by_type, r.type);
    bump(c.by_level, r.level);
    bump(c.by_source, r.source?.kind);
    if (r.stream === 'rejected') {
      c.rejected.total++;
      bump(c.rejected.by_code, r.event?.code ?? 'unknown');
    }
    const redactions = Array.isArray(r.redactions) ? r.redactions : [];
    if (redactions.length) f.redactions.records++;
    for (const x of redactions) {
      f.redactions.total++;
      bump(f.redactions.by_kind, typeof x === 'object' && x ? x.kind : 'unspecified');
    }
    this.coverage(r);
    if (r.source?.kind === 'sealog') this.own(r);
    else if (r.stream !== 'rejected') this.attributes(r);
    if (r.source?.kind === 'socket') {
      f.peer_credentials.socket_records++;
      if (r.source.peer) f.peer_credentials.with_peer++;
    }
  }

  finish(): PeriodFacts {
    const a = this.f.attributability;
    a.share_all_three = a.records ? a.all_three / a.records : 0;
    return this.f;
  }

  private coverage(r: Record<string, any>): void {
    const cov = this.f.coverage;
    const at = { seq: r.seq as number, ts: r.ts as string };
    cov.first ??= at;
    const ms = Date.parse(r.ts);
    if (this.prevMs !== undefined && cov.last) {
      if (ms < this.prevMs) cov.ts_out_of_order++;
      const seconds = (ms - this.prevMs) / 1000;
      if (seconds > cov.gap_threshold_seconds) {
        cov.gaps.push({ after_seq: cov.last.seq, from: cov.last.ts, to: at.ts, seconds: Math.round(seconds) });
        cov.gaps.sort((x, y) => y.seconds - x.seconds);
        if (cov.gaps.length > MAX_GAPS) cov.gaps.pop();
      }
    }
    this.prevMs = ms;
    cov.last = at;
  }

  private attributes(r: Record<string, any>): void {
    const a = this.f.attributability;
    const alcoa = (r.meta?.alcoa ?? {}) as Record<string, unknown>;
    a.records++;
    const who = alcoa.who !== undefined;
    const when = alcoa.when !== undefined;
    const where = alcoa.where !== undefined;
    if (who) a.who++;
    if (when) a.when++;
    if (where) a.where++;
    if (who && when && where) a.all_three++;
    if (alcoa.original === true) a.original++;
  }

  private own(r: Record<string, any>): void {
    const e = (r.event ?? {}) as Record<string, any>;
    const at = { seq: r.seq as number, ts: r.ts as string };
    const f = this.f;
    switch (r.type) {
      case OwnType.RETENTION_REMOVED:
        f.retention.removals.push({ ...at, segment: e.segment, first_seq: e.first_seq, last_seq: e.last_seq, records: e.records, disposition: e.disposition });
        break;
      case OwnType.HOLD_PLACED:
        f.retention.holds_placed.push({ ...at, id: e.id, reason: e.reason });
        break;
      case OwnType.HOLD_RELEASED:
        f.retention.holds_released.push({ ...at, id: e.id, reason: e.reason });
        break;
      case OwnType.INTEGRITY_SWEEP:
        f.sweeps.total++;
        if (e.ok) f.sweeps.passed++;
        else f.sweeps.failed++;
        if (e.mode === 'full') f.sweeps.full++;
        f.sweeps.records.push({
          ...at,
          mode: e.mode,
          ok: !!e.ok,
          segments: e.segments_checked,
          ...(e.failure && { failure: `${e.failure.code}: ${e.failure.message}` }),
        });
        if (f.sweeps.records.length > 50) f.sweeps.records.shift();
        break;
      case OwnType.KEY_TRANSITION:
        f.key_rotations.push({ ...at, old_key: e.old_key, new_key: e.new_key });
        break;
      case OwnType.SIGNATURE:
        f.signature_records.push({ ...at, signer: e.signer?.name, meaning: e.meaning, records: Array.isArray(e.records) ? e.records.length : 0 });
        break;
      case OwnType.RECOVERY:
        f.recoveries.push({ ...at, reason: e.reason });
        break;
    }
  }
}
