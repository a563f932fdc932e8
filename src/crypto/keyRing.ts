import { ErrorCode, SealogError } from '../errors.js';
import { parseVerifierKey, type Signer, type Verifier } from './keys.js';
import { noteSignedBy, parseNote, signNote } from './note.js';

// A key ring file (DIR/keys/ring.pub, or a file given to verify --key): one verifier
// key per line, blank lines and # comments skipped, and for each retired key one JSON
// line binding it to the trees it may sign:
//   {"retired":"<key>","tree_size":N,"successor":"<key>","origin":"<origin>","note":"<signed note>"}
// The note is retirementText(...) signed by the successor key, so a ring file carries
// its own proof. A copy of the log taken before the rotation and extended with the old
// key then fails verification without a witness: its checkpoints lie past tree size N.

export interface Retirement {
  retired: string;
  /** The largest tree the retired key may sign: the seq of the sealed key-transition record. */
  tree_size: number;
  successor: string;
  origin: string;
  note: string;
}

export interface KeyRing {
  keys: string[];
  retirements: Retirement[];
}

export const retirementText = (origin: string, retired: string, treeSize: number, successor: string) =>
  `sealog key retirement\n${origin}\nretired ${retired}\nsigns trees up to size ${treeSize}\nsuccessor ${successor}\n`;

/** The ring line that retires `retired` at `treeSize`, signed by its successor. */
export function retirement(origin: string, retired: string, treeSize: number, successor: Signer): Retirement {
  const note = signNote(retirementText(origin, retired, treeSize, successor.verifierKey), successor);
  return { retired, tree_size: treeSize, successor: successor.verifierKey, origin, note };
}

/** Parses a ring file's text; `where` names it in errors. Keys are not checked here (see openRing). */
export function parseRing(text: string, where: string): KeyRing {
  const ring: KeyRing = { keys: [], retirements: [] };
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (!line.startsWith('{')) {
      ring.keys.push(line);
      continue;
    }
    let r: Retirement;
    try {
      r = JSON.parse(line) as Retirement;
    } catch {
      throw new SealogError(ErrorCode.KEY_INVALID, `${where} line ${i + 1}: not a key and not a JSON key retirement`);
    }
    if (
      typeof r?.retired !== 'string' ||
      !Number.isSafeInteger(r.tree_size) ||
      r.tree_size < 0 ||
      typeof r.successor !== 'string' ||
      typeof r.origin !== 'string' ||
      typeof r.note !== 'string'
    ) {
      throw new SealogError(ErrorCode.KEY_INVALID, `${where} line ${i + 1}: a key retirement needs retired, tree_size, successor, origin and note`);
    }
    ring.retirements.push(r);
  }
  return ring;
}

export function formatRing(ring: KeyRing): string {
  return [...ring.keys, ...ring.retirements.map((r) => JSON.stringify(r))].join('\n') + '\n';
}

export interface OpenedRing {
  verifiers: Verifier[];
  /** Each retired key with the largest tree it may sign, per origin. */
  limits: { key: Verifier; treeSize: number; origin: string }[];
}

/**
 * Parses every key and checks every retirement: its note must say exactly what its
 * fields say and carry a valid signature by the successor, itself a key of the ring.
 */
export function openRing(ring: KeyRing, where: string): OpenedRing {
  const verifiers = ring.keys.map((k) => parseVerifierKey(k));
  if (!verifiers.length) throw new SealogError(ErrorCode.KEY_INVALID, `${where}: no public key in it`);
  const limits = ring.retirements.map((r) => {
    const bad = (why: string) => new SealogError(ErrorCode.KEY_INVALID, `${where}: the retirement of ${r.retired.split('+').slice(0, 2).join('+')} ${why}`);
    if (!ring.keys.includes(r.successor) || !ring.keys.includes(r.retired)) throw bad('names a key that is not in the ring');
    const note = parseNote(Buffer.from(r.note, 'utf8'));
    if (typeof note === 'string') throw bad(`has a malformed note: ${note}`);
    if (note.text !== retirementText(r.origin, r.retired, r.tree_size, r.successor)) throw bad('has a note that does not say what its fields say');
    if (!noteSignedBy(note, parseVerifierKey(r.successor))) throw bad('is not signed by its successor');
    return { key: parseVerifierKey(r.retired), treeSize: r.tree_size, origin: r.origin };
  });
  return { verifiers, limits };
}
