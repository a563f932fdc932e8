import { VerifyCode } from '../errors.js';
import { recordHashes } from '../sign/recordHashes.js';
import { loadRegistry, signersPath, type RegisteredSigner } from '../sign/registry.js';
import { OwnType } from '../ownRecords.js';
import { checkSignature, type SignatureEvent } from '../sign/signature.js';
import { layout } from '../store/layout.js';
import type { Finding } from './findings.js';

/** An electronic signature found in the log and checked. */
export interface CheckedSignature {
  seq: number;
  signer: string;
  key_id: string;
  meaning: string;
  signed_at: string;
  reason: string | null;
  records: { seq: number; hash: string }[];
}

/** A sealog.signature record as the verifier met it. */
export interface FoundSignature {
  seq: number;
  event: unknown;
}

/** Collects sealog's own signature records; a producer's record of that type is not one (its source is never sealog). */
export function noteSignature(r: Record<string, any>, out: FoundSignature[]): void {
  if (r.type === OwnType.SIGNATURE && r.source?.kind === 'sealog' && r.stream === 'audit') out.push({ seq: r.seq as number, event: r.event });
}

/**
 * Every signature record, after the chain is known good: a signer registered under that
 * printed name, a valid signature, and each signed record earlier in the log with the hash
 * the signature names. A signed record that retention removed is a warning: the signature
 * still checks, the record no longer can.
 */
export async function checkSignatures(
  found: FoundSignature[],
  o: { data: string; frameCap: number; signers?: RegisteredSigner[] },
): Promise<{ checked: CheckedSignature[]; failure?: Finding; warnings: Finding[] }> {
  const warnings: Finding[] = [];
  const checked: CheckedSignature[] = [];
  if (!found.length) return { checked, warnings };
  const registry = o.signers ?? (await loadRegistry(signersPath(o.data)));
  if (!o.signers)
    warnings.push({
      code: VerifyCode.SIGNERS_NOT_PINNED,
      message: `signatures were checked against ${signersPath(o.data)}, not a signer registry you pinned (--signers)`,
    });
  const wanted = new Set(
    found
      .flatMap((f) => (Array.isArray((f.event as SignatureEvent)?.records) ? (f.event as SignatureEvent).records.map((r) => r?.seq) : []))
      .filter(Number.isSafeInteger),
  );
  const log = await recordHashes(layout(o.data), wanted, o.frameCap);
  for (const f of found) {
    const e = f.event as SignatureEvent;
    const who = typeof e?.signer?.name === 'string' ? `${JSON.stringify(e.signer.name)} (key ${e.signer.key_id})` : 'an unnamed signer';
    const failure = (message: string): Finding => ({
      code: VerifyCode.SIGNATURE_INVALID,
      message: `signature record at seq ${f.seq} by ${who}: ${message}`,
      seq: f.seq,
    });
    const ok = checkSignature(e, registry);
    if ('code' in ok) return { checked, warnings, failure: failure(ok.message) };
    for (const r of e.records) {
      if (r.seq >= f.seq) return { checked, warnings, failure: failure(`it names record ${r.seq}, which is not before it`) };
      const hash = log.hashes.get(r.seq);
      if (hash === undefined && log.removed.has(r.seq)) {
        warnings.push({
          code: VerifyCode.SIGNED_RECORD_REMOVED,
          message: `signature at seq ${f.seq} by ${who} names record ${r.seq}, removed by retention: its hash can no longer be compared`,
          seq: f.seq,
        });
        continue;
      }
      if (hash !== r.hash)
        return {
          checked,
          warnings,
          failure: failure(
            hash === undefined
              ? `signed record ${r.seq} is not in the log`
              : `signed record ${r.seq} has hash ${hash}, not the ${r.hash} that was signed (the record was altered)`,
          ),
        };
    }
    checked.push({
      seq: f.seq,
      signer: e.signer.name,
      key_id: e.signer.key_id,
      meaning: e.meaning,
      signed_at: e.signed_at,
      reason: e.reason,
      records: e.records,
    });
  }
  return { checked, warnings };
}
