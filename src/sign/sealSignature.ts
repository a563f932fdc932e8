import { SignCode } from '../errors.js';
import { OwnType, type SealOwn } from '../ownRecords.js';
import type { Layout } from '../store/layout.js';
import { recordHashes } from './recordHashes.js';
import { loadRegistry, signersPath } from './registry.js';
import { asJson, checkSignature, type SignatureEvent } from './signature.js';

export type SignAnswer = { ok: true; seq: number } | { error: { code: string; message: string } };

/** The missing or mismatched records of a signature, checked against the log. */
export async function recordProblem(l: Layout, e: SignatureEvent, frameCap: number): Promise<string | undefined> {
  const found = await recordHashes(l, new Set(e.records.map((r) => r.seq)), frameCap);
  for (const r of e.records) {
    const hash = found.hashes.get(r.seq);
    if (hash === undefined) return found.removed.has(r.seq) ? `record ${r.seq} was removed by retention` : `record ${r.seq} is not in the log`;
    if (hash !== r.hash) return `record ${r.seq} has hash ${hash}, not the ${r.hash} the signature names`;
  }
  return undefined;
}

/**
 * The daemon's side of `sealog sign` (control socket command "sign"): the signed event
 * is checked as verify will check it (registered signer, valid signature, the records in
 * the log with those hashes), then sealed as sealog's own audit record, answered once durable.
 */
export function signatureHandler(l: Layout, frameCap: number, seal: SealOwn): (req: Record<string, unknown>) => Promise<SignAnswer> {
  return async (req) => {
    const fail = (code: string, message: string): SignAnswer => ({ error: { code, message } });
    const checked = checkSignature(req.signature, await loadRegistry(signersPath(l.data)));
    if ('code' in checked) {
      const code = checked.code === 'shape' ? SignCode.REQUEST_INVALID : checked.code === 'unregistered' ? SignCode.SIGNER_UNKNOWN : SignCode.SIGNATURE_INVALID;
      return fail(code, checked.message);
    }
    const e = req.signature as SignatureEvent;
    const missing = await recordProblem(l, e, frameCap);
    if (missing) return fail(SignCode.SIGNED_RECORD, missing);
    return { ok: true, seq: await seal(OwnType.SIGNATURE, asJson(e)) };
  };
}
