import { jcs } from '../crypto/canonical.js';
import type { Signer, Verifier } from '../crypto/keys.js';
import { noteSigner, parseNote, signNote } from '../crypto/note.js';
import { keyNames } from './checkpoint.js';

/**
 * What a segment held when it was closed, signed as a note whose text is one
 * JCS line. A cache for the daemon's restart (peaks) and a cross-check for
 * the verifier, which re-derives every field from the records.
 */
export interface Manifest {
  origin: string;
  segment: number;
  first_seq: number;
  last_seq: number;
  records: number;
  prev: string;
  last_hash: string;
  tree_size: number;
  root: string; // base64, as in checkpoints
  peaks: string[]; // hex, oldest first
  bytes: number;
  sha256: string;
}

export function signManifest(m: Manifest, signer: Signer): string {
  return signNote(`${jcs(m)}\n`, signer);
}

export function openManifest(
  data: Buffer,
  ring: Verifier | readonly Verifier[],
): { manifest: Manifest; signer: Verifier } | { error: string; signature?: boolean } {
  const keys = Array.isArray(ring) ? ring : [ring as Verifier];
  const note = parseNote(data);
  if (typeof note === 'string') return { error: note };
  let m: Manifest;
  try {
    m = JSON.parse(note.text) as Manifest;
  } catch {
    return { error: 'manifest text is not JSON' };
  }
  if (typeof m !== 'object' || m === null || !Number.isInteger(m.segment) || !Number.isInteger(m.tree_size) || !Array.isArray(m.peaks)) {
    return { error: 'manifest lacks required fields' };
  }
  const signer = noteSigner(note, keys);
  if (!signer) return { error: `manifest has no valid signature by ${keyNames(keys)}`, signature: true };
  return { manifest: m, signer };
}

/** The same check without a pinned key: the daemon reading its own manifest at restart. */
export function readOwnManifest(data: Buffer): Manifest | undefined {
  const note = parseNote(data);
  if (typeof note === 'string') return undefined;
  try {
    return JSON.parse(note.text) as Manifest;
  } catch {
    return undefined;
  }
}
