import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { ErrorCode, SealogError } from '../errors.js';
import type { Layout } from '../store/layout.js';
import { generateKeys, parseSignerKey, type Signer } from './keys.js';
import { parseHmacKey } from './pseudonym.js';

/** Writes a new key set (all 0600), refusing to replace an existing one unless forced. */
export async function writeKeys(l: Layout, name: string, force = false): Promise<{ verifierKey: string }> {
  await mkdir(l.keys, { recursive: true, mode: 0o700 });
  const keys = generateKeys(name);
  const flag = force ? 'w' : 'wx';
  try {
    await writeFile(l.signingKey, `${keys.signerKey}\n`, { mode: 0o600, flag });
    await writeFile(l.hmacKey, `${keys.hmacKey}\n`, { mode: 0o600, flag });
    await writeFile(l.publicKey, `${keys.verifierKey}\n`, { mode: 0o600, flag });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new SealogError(ErrorCode.KEY_EXISTS, `keys already exist in ${l.keys}; use --force to replace them (old checkpoints then need the old public key)`);
    }
    throw err;
  }
  return { verifierKey: keys.verifierKey };
}

export async function keysExist(l: Layout): Promise<boolean> {
  return stat(l.signingKey).then(() => true, () => false);
}

/** Loads the signing key, refusing one that others can read, as ssh does. */
export async function loadSigner(l: Layout): Promise<Signer> {
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
    throw new SealogError(ErrorCode.KEY_MISSING, `no HMAC key at ${l.hmacKey}; restore it from your key backup (a new key changes every pseudonym; \`sealog keygen --force\` makes a whole new key set)`);
  }
  if (st.mode & 0o077) {
    throw new SealogError(ErrorCode.KEY_INVALID, `${l.hmacKey} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
  }
  return parseHmacKey(await readFile(l.hmacKey, 'utf8'), l.hmacKey);
}
