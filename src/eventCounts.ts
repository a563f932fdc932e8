import type { Sealed } from './types.js';

export interface Counts {
  in: number;
  committed: number;
  rejected: number;
  /** Resends of an event already committed (dedupe): settled without a record of their own. */
  duplicates: number;
  /** Taken in, not yet settled any of those ways. */
  pending: number;
}

/** Events taken in and made durable (as events or into the dead letter), per source kind. */
export class EventCounts {
  private readonly bySource = new Map<string, Counts>();
  /** Dead-letter records by reject code (codes are a fixed set: a bounded metric label). */
  private readonly byCode = new Map<string, number>();

  received(kind: string): void {
    this.of(kind).in++;
  }

  duplicate(kind: string): void {
    this.of(kind).duplicates++;
  }

  /** Called with each durable batch. */
  durable(records: Sealed[]): void {
    for (const r of records) {
      const c = this.of(r.source.kind);
      if (r.rejected) {
        c.rejected++;
        this.byCode.set(r.rejected.code, (this.byCode.get(r.rejected.code) ?? 0) + 1);
      } else c.committed++;
    }
  }

  /** All sources together. */
  totals(): Counts {
    const t = { in: 0, committed: 0, rejected: 0, duplicates: 0, pending: 0 };
    for (const c of Object.values(this.snapshot())) for (const k of ['in', 'committed', 'rejected', 'duplicates', 'pending'] as const) t[k] += c[k];
    return t;
  }

  snapshot(): Record<string, Counts> {
    const out: Record<string, Counts> = {};
    for (const [kind, c] of this.bySource) out[kind] = { ...c, pending: c.in - c.committed - c.rejected - c.duplicates };
    return out;
  }

  rejectedByCode(): Record<string, number> {
    return Object.fromEntries(this.byCode);
  }

  private of(kind: string): Counts {
    let c = this.bySource.get(kind);
    if (!c) this.bySource.set(kind, (c = { in: 0, committed: 0, rejected: 0, duplicates: 0, pending: 0 }));
    return c;
  }
}
