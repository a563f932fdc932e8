import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { ErrorCode, SealogError } from '../errors.js';
import type { Layout } from '../store/layout.js';
import { generateKeys, parseSignerKey, type Signer } from './keys.js';

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
