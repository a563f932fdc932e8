import type { OpenedRing } from '../crypto/keyRing.js';
import { parseVerifierKey, type Verifier } from '../crypto/keys.js';
import { noteSignedBy, parseNote } from '../crypto/note.js';
import { VerifyCode } from '../errors.js';
import { OwnType } from '../ownRecords.js';
import type { Finding } from './findings.js';

// Key rotations as verify sees them: the transition records sealed in the log, the
// retirements a pinned key ring carries, and what each retired key may still sign.

/** A key rotation sealed in the log: from `seq` on, `old` signs nothing. */
export interface KeyTransition {
  seq: number;
  old: string;
  new: string;
}

/** A checkpoint or manifest, with the key that signed it. */
export interface SignedFile {
  size: number;
  signer: Verifier;
  file: string;
  what: string;
}

/**
 * A key transition record: the note inside must be the transition text for exactly the
 * two keys it names, signed by both. Returns why not, or '' (also for other records).
 */
export function noteTransition(r: Record<string, any>, out: KeyTransition[]): string {
  if (r.type !== OwnType.KEY_TRANSITION || r.source?.kind !== 'sealog' || r.stream !== 'audit') return '';
  const e = r.event as { old_key?: unknown; new_key?: unknown; note?: unknown };
  if (typeof e.old_key !== 'string' || typeof e.new_key !== 'string' || typeof e.note !== 'string')
    return 'key transition record lacks old_key, new_key or note';
  let oldKey: Verifier, newKey: Verifier;
  try {
    oldKey = parseVerifierKey(e.old_key);
    newKey = parseVerifierKey(e.new_key);
  } catch (err) {
    return `key transition record names a malformed key: ${(err as Error).message}`;
  }
  const note = parseNote(Buffer.from(e.note, 'utf8'));
  if (typeof note === 'string') return `key transition note: ${note}`;
  if (!note.text.startsWith('sealog key transition\n') || !note.text.endsWith(`\nold ${e.old_key}\nnew ${e.new_key}\n`))
    return 'key transition note does not name the keys of its record';
  if (!noteSignedBy(note, oldKey) || !noteSignedBy(note, newKey)) return 'key transition note is not signed by both the old and the new key';
  // A crash can seal the same transition twice; the first one retires the key.
  if (!out.some((t) => t.old === e.old_key)) out.push({ seq: r.seq as number, old: e.old_key, new: e.new_key });
  return '';
}

interface RetiredLimit {
  key: Verifier;
  /** The largest tree the key may sign. */
  treeSize: number;
  why: string;
}

/**
 * What each retired key may sign: up to its transition record's seq (a checkpoint covering
 * the transition is past it), or up to the size the pinned key ring binds it to, whichever
 * is smaller. The ring's bound holds when the log lacks the transition: a fork of a copy
 * taken before the rotation, extended with the old key.
 */
export function retiredLimits(transitions: KeyTransition[], ring: OpenedRing['limits'], origin: string | undefined): RetiredLimit[] {
  return [
    ...transitions.map((t) => ({ key: parseVerifierKey(t.old), treeSize: t.seq, why: `retired at seq ${t.seq} by the key transition record` })),
    ...ring
      .filter((r) => r.origin === origin)
      .map((r) => ({ key: r.key, treeSize: r.treeSize, why: `retired at tree size ${r.treeSize} by the pinned key ring` })),
  ];
}

/** No checkpoint or manifest may be signed by a retired key past its bound: the first that is, as a finding. */
export function retiredSignature(limits: RetiredLimit[], signed: SignedFile[]): Finding | undefined {
  for (const r of limits) {
    const late = signed.find((s) => s.size > r.treeSize && s.signer.keyId.equals(r.key.keyId) && s.signer.name === r.key.name);
    if (late) {
      return {
        code: VerifyCode.RETIRED_KEY,
        message: `${late.what} of tree size ${late.size} is signed by ${r.key.name} (${r.key.keyId.toString('hex')}), a key ${r.why}`,
        seq: r.treeSize,
        file: late.file,
      };
    }
  }
  return undefined;
}
