import type { Signer, Verifier } from '../crypto/keys.js';
import { noteSigner, parseNote, signNote } from '../crypto/note.js';

/** C2SP tlog-checkpoint body: origin, tree size, base64 root, each on its own line. */
export function checkpointText(origin: string, size: number, root: Buffer): string {
  return `${origin}\n${size}\n${root.toString('base64')}\n`;
}

export function signCheckpoint(origin: string, size: number, root: Buffer, signer: Signer): string {
  return signNote(checkpointText(origin, size, root), signer);
}

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
}

/** Parses and checks a checkpoint against the pinned key(s); returns why not, as a string, when it fails. */
export function openCheckpoint(
  data: Buffer,
  ring: Verifier | readonly Verifier[],
): { checkpoint: Checkpoint; signer: Verifier } | { error: string; signature?: boolean } {
  const keys = Array.isArray(ring) ? ring : [ring as Verifier];
  const note = parseNote(data);
  if (typeof note === 'string') return { error: note };
  const lines = note.text.split('\n');
  const [origin, sizeText, rootText] = lines;
  if (lines.length < 4 || !origin || !/^(0|[1-9]\d*)$/.test(sizeText ?? '') || !rootText) return { error: 'checkpoint body is not origin/size/root' };
  const root = Buffer.from(rootText, 'base64');
  if (root.length !== 32 || root.toString('base64') !== rootText) return { error: 'checkpoint root is not a base64 SHA-256 hash' };
  const signer = noteSigner(note, keys);
  if (!signer) return { error: `checkpoint has no valid signature by ${keyNames(keys)}`, signature: true };
  return { checkpoint: { origin, size: Number(sizeText), root }, signer };
}

export const keyNames = (ring: readonly Verifier[]) => ring.map((k) => `${k.name} (${k.keyId.toString('hex')})`).join(' or ');
