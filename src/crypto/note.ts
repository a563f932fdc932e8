import type { Signer, Verifier } from './keys.js';

// C2SP signed-note: text ending in "\n", a blank line, then lines of
// "— <key name> <base64(4-byte key id ‖ signature)>\n". The signature covers the text.

const DASH = '\u2014 ';

export interface NoteSignature {
  name: string;
  keyId: Buffer;
  signature: Buffer;
}

export interface Note {
  text: string;
  signatures: NoteSignature[];
}

export function signNote(text: string, signer: Signer): string {
  if (!text.endsWith('\n')) throw new Error('note text must end in a newline');
  const sig = signer.sign(Buffer.from(text, 'utf8'));
  return `${text}\n${DASH}${signer.name} ${Buffer.concat([signer.keyId, sig]).toString('base64')}\n`;
}

/** Parses a signed note, or returns an error string saying why it is not one. */
export function parseNote(data: Buffer): Note | string {
  const s = data.toString('utf8');
  if (!Buffer.from(s, 'utf8').equals(data)) return 'note is not valid UTF-8';
  if (/[\u0000-\u0009\u000b-\u001f]/.test(s)) return 'note contains control characters';
  const split = s.lastIndexOf('\n\n');
  if (split < 0 || !s.endsWith('\n')) return 'note has no signature block';
  const text = s.slice(0, split + 1);
  const signatures: NoteSignature[] = [];
  for (const line of s.slice(split + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) return 'malformed signature line';
    const blob = Buffer.from(m[2]!, 'base64');
    if (blob.length < 5 || blob.toString('base64') !== m[2]) return 'malformed signature encoding';
    signatures.push({ name: m[1]!, keyId: blob.subarray(0, 4), signature: blob.subarray(4) });
  }
  if (signatures.length === 0) return 'note has no signatures';
  return { text, signatures };
}

/** True when a signature by this verifier's name and key id is present and valid. */
export function noteSignedBy(note: Note, verifier: Verifier): boolean {
  const mine = note.signatures.filter((s) => s.name === verifier.name && s.keyId.equals(verifier.keyId));
  return mine.length > 0 && mine.every((s) => verifier.verify(Buffer.from(note.text, 'utf8'), s.signature));
}

/** The first key of a ring whose signature on the note is present and valid. */
export function noteSigner(note: Note, ring: readonly Verifier[]): Verifier | undefined {
  return ring.find((v) => noteSignedBy(note, v));
}
