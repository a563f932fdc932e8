import { jcs } from '../crypto/canonical.js';
import type { Signer } from '../crypto/keys.js';
import type { JsonObject } from '../types.js';
import { findSigner, type RegisteredSigner } from './registry.js';

// sealog's own record of an electronic signature (DESIGN §13, 21 CFR 11.50 and 11.70): OwnType.SIGNATURE.

/** What a signature means. */
export const MEANINGS = ['authorship', 'review', 'approval', 'responsibility'] as const;
export type Meaning = (typeof MEANINGS)[number];
/** Records one signature may name: bounds the request, the record and the check. */
export const MAX_SIGNED_RECORDS = 1000;

export interface SignedRef {
  seq: number;
  hash: string;
}

/** The event of a sealog.signature record. */
export interface SignatureEvent {
  signer: { name: string; key_id: string };
  meaning: Meaning;
  signed_at: string;
  records: SignedRef[];
  reason: string | null;
  /** base64 Ed25519 by the signer over JCS of every other field. */
  signature: string;
}

/**
 * The bytes a signer signs: JCS of the event without its signature. The record hashes are in
 * it, so a signature cannot be moved to another record (11.70): any other record has another hash.
 */
export function signedBytes(e: Omit<SignatureEvent, 'signature'>): Buffer {
  const { signer, meaning, signed_at, records, reason } = e;
  return Buffer.from(jcs({ signer, meaning, signed_at, records, reason }), 'utf8');
}

export function signRecords(
  signer: Signer,
  printedName: string,
  meaning: Meaning,
  records: SignedRef[],
  reason: string | null,
  now = new Date(),
): SignatureEvent {
  const unsigned = { signer: { name: printedName, key_id: signer.keyId.toString('hex') }, meaning, signed_at: now.toISOString(), records, reason };
  return { ...unsigned, signature: signer.sign(signedBytes(unsigned)).toString('base64') };
}

const HEX64 = /^[0-9a-f]{64}$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** The event has the shape of DESIGN §13 (and nothing more), or why not. */
export function shapeProblem(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return 'the signature is not an object';
  const s = e as Record<string, unknown>;
  const extra = Object.keys(s).filter((k) => !['signer', 'meaning', 'signed_at', 'records', 'reason', 'signature'].includes(k));
  if (extra.length) return `unexpected field(s) ${extra.join(', ')}`;
  const signer = s.signer as Record<string, unknown> | undefined;
  if (
    typeof signer !== 'object' ||
    signer === null ||
    typeof signer.name !== 'string' ||
    typeof signer.key_id !== 'string' ||
    !/^[0-9a-f]{8}$/.test(signer.key_id) ||
    Object.keys(signer).length !== 2
  ) {
    return 'signer must be {"name","key_id"} (key id: 8 hex)';
  }
  if (!MEANINGS.includes(s.meaning as Meaning)) return `meaning must be one of ${MEANINGS.join(', ')}`;
  if (typeof s.signed_at !== 'string' || !ISO.test(s.signed_at)) return 'signed_at must be an ISO 8601 UTC time';
  if (s.reason !== null && (typeof s.reason !== 'string' || s.reason.length > 1000)) return 'reason must be null or a string of at most 1000 characters';
  if (typeof s.signature !== 'string' || Buffer.from(s.signature, 'base64').length !== 64) return 'signature must be a base64 Ed25519 signature';
  const records = s.records;
  if (!Array.isArray(records) || records.length === 0 || records.length > MAX_SIGNED_RECORDS) return `records must list 1 to ${MAX_SIGNED_RECORDS} records`;
  for (const r of records as Record<string, unknown>[]) {
    if (
      typeof r !== 'object' ||
      r === null ||
      !Number.isSafeInteger(r.seq) ||
      (r.seq as number) < 0 ||
      typeof r.hash !== 'string' ||
      !HEX64.test(r.hash) ||
      Object.keys(r).length !== 2
    ) {
      return 'each signed record must be {"seq","hash"} (hash: 64 lowercase hex)';
    }
  }
  if (new Set((records as SignedRef[]).map((r) => r.seq)).size !== records.length) return 'a record is named twice';
  return undefined;
}

export type SignatureProblem = { code: 'shape' | 'unregistered' | 'signature'; message: string };

/**
 * Checks a signature on its own terms: its shape, a signer registered under that printed
 * name, and the signature under that key. Whether the named records are in the log with
 * those hashes is the caller's part (it has the log).
 */
export function checkSignature(e: unknown, registry: readonly RegisteredSigner[]): { signer: RegisteredSigner } | SignatureProblem {
  const shape = shapeProblem(e);
  if (shape) return { code: 'shape', message: shape };
  const s = e as SignatureEvent;
  const signer = findSigner(registry, s.signer.name, s.signer.key_id);
  if (!signer) return { code: 'unregistered', message: `signer ${JSON.stringify(s.signer.name)} (key ${s.signer.key_id}) is not registered in signers.pub` };
  if (!signer.key.verify(signedBytes(s), Buffer.from(s.signature, 'base64'))) {
    return {
      code: 'signature',
      message: `the signature of ${JSON.stringify(s.signer.name)} does not verify over the signed fields (the signature record was altered, or the signature copied from another record)`,
    };
  }
  return { signer };
}

export const asJson = (e: SignatureEvent) => e as unknown as JsonObject;
