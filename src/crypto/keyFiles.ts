import { mkdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { openNew, syncPath, writeFileDurable } from '../store/fsutil.js';
import { formatRing, parseRing, retirement, type KeyRing } from './keyRing.js';
import { signNote } from './note.js';
import { ErrorCode, SealogError } from '../errors.js';
import type { Layout } from '../store/layout.js';
import { generateKeys, parseSignerKey, type Signer } from './keys.js';
import { parseHmacKey } from './pseudonym.js';

/** Writes a new key set (all 0600), refusing to replace an existing one unless forced. */
export async function writeKeys(l: Layout, name: string, force = false): Promise<{ verifierKey: string }> {
  await mkdir(l.keys, { recursive: true, mode: 0o700 });
  const keys = generateKeys(name);
  // Never through a link planted at a key's path: a new file, or (forced) a temp file renamed over it.
  const write = async (path: string, text: string) => {
    if (force) return writeFileDurable(path, text, 0o600);
    const fh = await openNew(path, 0o600);
    try {
      await fh.writeFile(text);
    } finally {
      await fh.close();
    }
  };
  try {
    await write(l.signingKey, `${keys.signerKey}\n`);
    await write(l.hmacKey, `${keys.hmacKey}\n`);
    await write(l.publicKey, `${keys.verifierKey}\n`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new SealogError(
        ErrorCode.KEY_EXISTS,
        `keys already exist in ${l.keys}; use --force to replace them (old checkpoints then need the old public key)`,
      );
    }
    throw err;
  }
  return { verifierKey: keys.verifierKey };
}

export async function keysExist(l: Layout): Promise<boolean> {
  return stat(l.signingKey).then(
    () => true,
    () => false,
  );
}

/** Loads the signing key, refusing one that others can read, as ssh does. */
export async function loadSigner(l: Pick<Layout, 'signingKey'>): Promise<Signer> {
  let st;
  try {
    st = await stat(l.signingKey);
  } catch {
    throw new SealogError(ErrorCode.KEY_MISSING, `no signing key at ${l.signingKey}; run sealog keygen`);
  }
  if (st.mode & 0o077) {
    throw new SealogError(ErrorCode.KEY_INVALID, `${l.signingKey} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
  }
  return parseSignerKey((await readFile(l.signingKey, 'utf8')).trim());
}

/**
 * Loads the HMAC pseudonymization key (64 hex), refusing a missing, malformed or
 * group/other-readable one: with it, anyone can test guesses against the pseudonyms.
 * Error messages never include the file's content.
 */
export async function loadHmacKey(l: Layout): Promise<Buffer> {
  let st;
  try {
    st = await stat(l.hmacKey);
  } catch {
    throw new SealogError(
      ErrorCode.KEY_MISSING,
      `no HMAC key at ${l.hmacKey}; restore it from your key backup (a new key changes every pseudonym; \`sealog keygen --force\` makes a whole new key set)`,
    );
  }
  if (st.mode & 0o077) {
    throw new SealogError(ErrorCode.KEY_INVALID, `${l.hmacKey} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
  }
  return parseHmacKey(await readFile(l.hmacKey, 'utf8'), l.hmacKey);
}

/** The log's key ring (keyRing.ts): every public key it was signed with (keys/ring.pub), or just signing.pub before any rotation. */
export async function loadRing(l: Layout): Promise<KeyRing> {
  const ring = await readFile(l.keyRing, 'utf8').then(
    (t) => parseRing(t, l.keyRing),
    () => undefined,
  );
  return ring ?? parseRing(await readFile(l.publicKey, 'utf8'), l.publicKey);
}

/** The text both keys sign: which key retires, which takes over, for which log. */
export const transitionText = (origin: string, oldKey: string, newKey: string) => `sealog key transition\n${origin}\nold ${oldKey}\nnew ${newKey}\n`;

export interface PendingRotation {
  next: Signer;
  oldKey: string;
  newKey: string;
  /** The transition note signed by the old and the new key. */
  note: string;
}

/**
 * `sealog rotate-key`: a new key pair and the transition note signed by the old key
 * and the new one, left beside the current key for the daemon to take over (at its
 * start, or at its next requests pickup while it runs). The note is written last: it
 * is what makes the rotation pending.
 */
export async function prepareRotation(l: Layout, origin: string, name?: string): Promise<PendingRotation> {
  if (
    await stat(l.transitionNote).then(
      () => true,
      () => false,
    )
  ) {
    throw new SealogError(
      ErrorCode.KEY_EXISTS,
      `a key rotation is already pending (${l.transitionNote}); the daemon finishes it at its next start or requests pickup`,
    );
  }
  const old = await loadSigner(l);
  const keys = generateKeys(name ?? old.name);
  const next = parseSignerKey(keys.signerKey);
  await writeFileDurable(l.nextKey, `${keys.signerKey}\n`, 0o600);
  await writeFileDurable(l.nextPub, `${keys.verifierKey}\n`, 0o600);
  const note = coSign(transitionText(origin, old.verifierKey, keys.verifierKey), [old, next]);
  await writeFileDurable(l.transitionNote, note, 0o600);
  return { next, oldKey: old.verifierKey, newKey: keys.verifierKey, note };
}

/** A rotation sealog rotate-key prepared and the daemon has not finished, if any. */
export async function pendingRotation(l: Layout): Promise<PendingRotation | undefined> {
  const note = await readFile(l.transitionNote, 'utf8').catch(() => undefined);
  if (note === undefined) return undefined;
  const m = /\nold (\S+)\nnew (\S+)\n/.exec(note);
  if (!m) throw new SealogError(ErrorCode.KEY_INVALID, `${l.transitionNote} is not a key transition note`);
  // A crash after the new key replaced signing.key leaves no next.key: the current key is the new one.
  const nextExists = await stat(l.nextKey).then(
    () => true,
    () => false,
  );
  const next = nextExists ? await loadSigner({ ...l, signingKey: l.nextKey }) : await loadSigner(l);
  if (next.verifierKey !== m[2]) throw new SealogError(ErrorCode.KEY_INVALID, `the pending rotation's new key does not match ${l.transitionNote}`);
  return { next, oldKey: m[1]!, newKey: m[2]!, note };
}

/**
 * After the transition record (sealed at `transitionSeq`) is durable: the new key joins
 * the ring and replaces the old one (whose private half is gone for good: nothing may
 * sign with a retired key), and the ring binds the old key to the trees up to that size,
 * signed by the new key. The note goes last, so a crash in between finishes here at the next start.
 */
export async function finishRotation(l: Layout, p: PendingRotation, origin: string, transitionSeq: number): Promise<void> {
  const ring = await loadRing(l);
  for (const k of [p.oldKey, p.newKey]) if (!ring.keys.includes(k)) ring.keys.push(k);
  // A crash can seal the transition twice: the first one (the smaller size) stands.
  if (!ring.retirements.some((r) => r.retired === p.oldKey && r.origin === origin)) ring.retirements.push(retirement(origin, p.oldKey, transitionSeq, p.next));
  await writeFileDurable(l.keyRing, formatRing(ring), 0o600);
  if (
    await stat(l.nextKey).then(
      () => true,
      () => false,
    )
  )
    await rename(l.nextKey, l.signingKey);
  if (
    await stat(l.nextPub).then(
      () => true,
      () => false,
    )
  )
    await rename(l.nextPub, l.publicKey);
  await syncPath(l.keys);
  await unlink(l.transitionNote);
  await syncPath(l.keys);
}

function coSign(text: string, signers: Signer[]): string {
  const sigs = signers.map((s) => signNote(text, s).slice(text.length + 1));
  return `${text}\n${sigs.join('')}`;
}
