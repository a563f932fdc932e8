import type { Signer, Verifier } from '../crypto/keys.js';
import { noteSignedBy, parseNote, signNote } from '../crypto/note.js';

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

/** Parses and checks a checkpoint against a pinned key; returns why not, as a string, when it fails. */
export function openCheckpoint(data: Buffer, verifier: Verifier): { checkpoint: Checkpoint } | { error: string; signature?: boolean } {
  const note = parseNote(data);
  if (typeof note === 'string') return { error: note };
  const lines = note.text.split('\n');
  const [origin, sizeText, rootText] = lines;
  if (lines.length < 4 || !origin || !/^(0|[1-9]\d*)$/.test(sizeText ?? '') || !rootText) return { error: 'checkpoint body is not origin/size/root' };
  const root = Buffer.from(rootText, 'base64');
  if (root.length !== 32 || root.toString('base64') !== rootText) return { error: 'checkpoint root is not a base64 SHA-256 hash' };
  if (!noteSignedBy(note, verifier)) return { error: `checkpoint has no valid signature by ${verifier.name}`, signature: true };
  return { checkpoint: { origin, size: Number(sizeText), root } };
}
