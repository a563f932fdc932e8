import type { ClauseDef, ClauseStatus, Evidence } from '../model.js';

// Judgments the standards share. Each says what the trail shows and, as plainly, what it
// cannot show. A clause that rests on integrity is not_met whenever verification failed.

type Judged = { status: ClauseStatus; evidence: string[] };
const n = (x: number) => x.toLocaleString('en-US');
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

export const clause = (id: string, title: string, judge: (e: Evidence) => Judged): ClauseDef => ({ id, title, judge });

/** Outside what a logging system can evidence: said plainly, never marked met. */
export const outside = (id: string, title: string, what: string): ClauseDef =>
  clause(id, title, () => ({ status: 'not_applicable', evidence: [`sealog cannot evidence this: ${what}`] }));

export function integrityLine(e: Evidence): string {
  const i = e.integrity;
  if (i.verdict === 'failed')
    return `integrity FAILED (${i.scope}): ${i.failure?.code}: ${i.failure?.message}${i.failure?.seq !== undefined ? ` at seq ${i.failure.seq}` : ''}`;
  return `integrity intact (${i.scope}): ${n(i.records_checked)} records re-hashed, hash chain and Merkle root recomputed against the checkpoint of tree size ${n(i.sealed_through)}${i.key_pinned ? ' signed by the pinned key' : ' (key NOT pinned: checked against the key in the data directory)'}`;
}

/** Rests on the verifier's verdict alone. */
export function integrity(e: Evidence, also: string[] = []): Judged {
  if (e.integrity.verdict === 'failed') return { status: 'not_met', evidence: [integrityLine(e), ...also] };
  return { status: e.integrity.key_pinned ? 'met' : 'partial', evidence: [integrityLine(e), ...also] };
}

/** Met only where integrity is intact; `inner` judges the rest. */
export function withIntegrity(e: Evidence, inner: Judged): Judged {
  if (e.integrity.verdict === 'failed') return { status: 'not_met', evidence: [integrityLine(e), ...inner.evidence] };
  return inner;
}

export function auditTrail(e: Evidence): Judged {
  return integrity(e, [
    `${n(e.counts.records)} records in the period, each with a gap-free seq, a receive time stamped by sealog (ts, µs, UTC), and prev/hash chaining it to the record before`,
    'records are append-only: a change is a new record; retention removes whole segments only and seals a removal record naming each (verified)',
    `${n(e.retention.removals.length)} retention removal(s) and ${n(e.retention.holds_placed.length)} legal hold(s) placed in the period`,
  ]);
}

export function attributable(e: Evidence): Judged {
  const a = e.attributability;
  const ev = [
    `${n(a.records)} producer records: who ${n(a.who)} (${pct(a.records ? a.who / a.records : 0)}), when ${n(a.when)}, where ${n(a.where)}; all three: ${n(a.all_three)} (${pct(a.share_all_three)})`,
    `socket records with the sender's pid/uid/gid from the kernel: ${n(e.peer_credentials.with_peer)} of ${n(e.peer_credentials.socket_records)}`,
  ];
  if (!a.records) return { status: 'not_applicable', evidence: ['no producer records in the period', ...ev] };
  return {
    status: a.share_all_three >= 0.95 ? 'met' : a.share_all_three > 0 || a.who > 0 ? 'partial' : 'not_met',
    evidence: [...ev, 'threshold for met: 95 % of records carry who, when and where'],
  };
}

export function contemporaneous(e: Evidence): Judged {
  const c = e.coverage;
  const ev = [
    `every record is stamped with its receive time by sealog; the period's records run from ${c.first?.ts ?? '-'} to ${c.last?.ts ?? '-'}`,
    `${c.gaps.length} gap(s) in ingest longer than ${c.gap_threshold_seconds} s${c.gaps.length ? `, longest ${n(c.gaps[0]!.seconds)} s after seq ${c.gaps[0]!.after_seq}` : ''}`,
    `${c.ts_out_of_order} record(s) stamped earlier than the record before them (clock steps)`,
  ];
  return { status: c.ts_out_of_order === 0 ? 'met' : 'partial', evidence: ev };
}

export function complete(e: Evidence): Judged {
  const r = e.counts.rejected;
  return withIntegrity(e, {
    status: 'met',
    evidence: [
      `seq is gap-free across the whole log (verified); nothing is dropped: ${n(r.total)} rejected input(s) sealed as dead letters${
        r.total
          ? ` (${Object.entries(r.by_code)
              .map(([k, v]) => `${k} ${n(v)}`)
              .join(', ')})`
          : ''
      }`,
      `segments removed by retention: ${e.integrity.removed_segments.length}, each named by a sealed removal record (verified)`,
    ],
  });
}

export function retention(e: Evidence): Judged {
  const t = e.retention;
  return withIntegrity(e, {
    status: 'met',
    evidence: [
      `${t.removals.length} segment removal(s) in the period${t.removals.length ? `: ${t.removals.map((x) => `segment ${x.segment} (seq ${x.first_seq}..${x.last_seq}, ${x.disposition}) at seq ${x.seq}`).join('; ')}` : ''}`,
      `${t.holds_placed.length} legal hold(s) placed, ${t.holds_released.length} released in the period; ${t.active_holds.length} active now${t.active_holds.length ? `: ${t.active_holds.map((h) => h.id).join(', ')}` : ''}`,
      'retention never removes a segment holding a record under an active hold',
    ],
  });
}

export function sweeps(e: Evidence): Judged {
  const s = e.sweeps;
  const ev = [`${s.total} integrity sweep(s) sealed in the period: ${s.passed} passed, ${s.failed} found damage; ${s.full} full`];
  if (!s.total) return { status: 'partial', evidence: [...ev, "no sweep ran in the period (integrity.schedule); this report's own verification stands in"] };
  return { status: s.failed ? 'not_met' : 'met', evidence: ev };
}

export function signatures(e: Evidence): Judged {
  const s = e.signatures;
  if (!s.length) return { status: 'not_applicable', evidence: ['no electronic signatures were sealed in the period'] };
  if (e.integrity.verdict === 'failed') return { status: 'not_met', evidence: [integrityLine(e)] };
  return {
    status: 'met',
    evidence: [
      `${s.length} signature(s), each checked by verify: registered signer, valid Ed25519 signature over the printed name, time, meaning and the hashes of the signed records`,
      ...s.slice(0, 20).map((x) => `seq ${x.seq}: ${x.signer}, ${x.meaning}, ${x.signed_at}, over record(s) ${x.records.map((r) => r.seq).join(', ')}`),
    ],
  };
}

export function twoComponents(e: Evidence): Judged {
  if (!e.signatures.length) return { status: 'not_applicable', evidence: ['no electronic signatures were sealed in the period'] };
  return {
    status: 'partial',
    evidence: [
      "each signature needs the signer's key file and its passphrase (scrypt, AES-256-GCM): two distinct components",
      'sealog cannot evidence that a passphrase was not shared, nor the identity checks before a signer was registered',
    ],
  };
}

export function redaction(e: Evidence): Judged {
  const r = e.redactions;
  return {
    status: 'met',
    evidence: [
      `${n(r.total)} value(s) redacted in ${n(r.records)} record(s): ${
        Object.entries(r.by_kind)
          .map(([k, v]) => `${k} ${n(v)}`)
          .join(', ') || 'none'
      }`,
      'personal data is pseudonymized with a keyed HMAC (not a bare hash); secrets are removed; each change is listed in the record',
    ],
  };
}

export function keys(e: Evidence): Judged {
  return {
    status: e.integrity.key_pinned ? 'met' : 'partial',
    evidence: [
      `key ring: ${e.log.key_ring.map((k) => k.split('+').slice(0, 2).join('+')).join(', ') || 'none'}${e.integrity.key_pinned ? ' (pinned by the caller)' : ' (NOT pinned)'}`,
      `${e.key_rotations.length} key rotation(s) in the period, each a transition record signed by the old and the new key (verified)`,
    ],
  };
}

export function copies(e: Evidence): Judged {
  return withIntegrity(e, {
    status: 'met',
    evidence: [
      'this report in JSON (programs) and HTML (people, prints on A4); the stored lines themselves with sealog query --format jsonl or lz4 -dc; inclusion proofs with sealog prove',
    ],
  });
}

export function availability(e: Evidence): Judged {
  return withIntegrity(e, {
    status: 'met',
    evidence: [
      `${n(e.counts.records)} records of the period read back and checked for this report; every record of the log is readable with sealog query and lz4 -dc | jq`,
    ],
  });
}

export function incidents(e: Evidence): Judged {
  const failed = e.sweeps.records.filter((s) => !s.ok);
  return {
    status: e.integrity.verdict === 'failed' || failed.length ? 'not_met' : 'met',
    evidence: [
      `${e.recoveries.length} crash recovery record(s) (a torn tail cut and kept) in the period`,
      failed.length ? `sweeps that found damage: ${failed.map((s) => `seq ${s.seq}: ${s.failure}`).join('; ')}` : 'no sweep found damage in the period',
      integrityLine(e),
    ],
  };
}

export { n as fmt };
