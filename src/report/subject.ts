import { loadHmacKey } from '../crypto/keyFiles.js';
import { pseudonymFor } from '../read/filter.js';
import type { Layout } from '../store/layout.js';
import type { SubjectAccess } from './model.js';

const MAX_SEQS = 10_000;

/** The HMAC pseudonym of `KIND:VALUE` under the log's key: what the trail holds instead of the value. */
export async function subjectPseudonym(l: Layout, spec: string): Promise<string> {
  const key = await loadHmacKey(l);
  try {
    return pseudonymFor(spec, key);
  } finally {
    key.fill(0);
  }
}

/** GDPR Art. 15: the period's records that hold one person's pseudonym. */
export class SubjectCollector {
  private readonly needle: Buffer;
  private readonly s: Omit<SubjectAccess, 'subject_kind'>;

  constructor(pseudonym: string) {
    this.needle = Buffer.from(pseudonym);
    this.s = { pseudonym, records: 0, by_type: {}, first: null, last: null, seqs: [] };
  }

  add(r: Record<string, any>, line: Buffer): void {
    if (!line.includes(this.needle)) return;
    const s = this.s;
    s.records++;
    s.by_type[r.type] = (s.by_type[r.type] ?? 0) + 1;
    const at = { seq: r.seq as number, ts: r.ts as string };
    s.first ??= at;
    s.last = at;
    if (s.seqs.length < MAX_SEQS) s.seqs.push(r.seq);
  }

  finish(kind: string): SubjectAccess {
    return { subject_kind: kind, ...this.s };
  }
}
