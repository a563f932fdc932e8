import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { ErrorCode, SealogError, SignCode } from '../errors.js';
import { generateKeys, parseSignerKey, type Signer } from '../crypto/keys.js';

// A signer's key file holds the Ed25519 signing key encrypted under a passphrase, so
// signing takes two components (21 CFR 11.200(a)(1)): the file (something held) and the
// passphrase (something known). scrypt derives the AES-256-GCM key; the GCM tag covers
// the ciphertext and, as associated data, the printed name and public key, so neither
// can be swapped in the file without the passphrase check failing.
const SCRYPT = { N: 1 << 15, r: 8, p: 1 };
const SCRYPT_MAXMEM = 64 * 1024 * 1024;
const FORMAT = 'sealog.signer-key.v1';

export interface SignerKeyFile {
  format: typeof FORMAT;
  /** The printed name (21 CFR 11.50(a)(1)). */
  name: string;
  /** The public half, in signed-note verifier-key form: what keys/signers.pub registers. */
  public: string;
  kdf: { alg: 'scrypt'; N: number; r: number; p: number; salt: string };
  cipher: { alg: 'aes-256-gcm'; iv: string; tag: string };
  ciphertext: string;
}

/** A printed name: one line of readable text, as it appears on the signature. */
export function checkPrintedName(name: string): void {
  if (!name.trim() || name !== name.trim() || name.length > 200 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new SealogError(ErrorCode.USAGE, 'the printed name must be 1-200 characters of one line, without leading or trailing spaces');
  }
}

/** The key name inside the signed-note key (no spaces or '+'): the printed name made a slug. */
export function keyNameFor(printedName: string): string {
  const slug = printedName
    .normalize('NFKD')
    .replace(/[^\x20-\x7e]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `signer-${slug || 'unnamed'}`.slice(0, 64);
}

const aad = (name: string, pub: string) => Buffer.from(JSON.stringify([FORMAT, name, pub]), 'utf8');

function deriveKey(passphrase: string, salt: Buffer, kdf: { N: number; r: number; p: number }): Buffer {
  return scryptSync(passphrase.normalize('NFC'), salt, 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: SCRYPT_MAXMEM });
}

/** A new signer: a fresh Ed25519 key, sealed under the passphrase. */
export function createSignerKey(printedName: string, passphrase: string): SignerKeyFile {
  checkPrintedName(printedName);
  if (passphrase.length < 8) throw new SealogError(ErrorCode.USAGE, 'the passphrase must be at least 8 characters');
  const keys = generateKeys(keyNameFor(printedName));
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = deriveKey(passphrase, salt, SCRYPT);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(printedName, keys.verifierKey));
  const ciphertext = Buffer.concat([cipher.update(keys.signerKey, 'utf8'), cipher.final()]);
  key.fill(0);
  return {
    format: FORMAT,
    name: printedName,
    public: keys.verifierKey,
    kdf: { alg: 'scrypt', ...SCRYPT, salt: salt.toString('base64') },
    cipher: { alg: 'aes-256-gcm', iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64') },
    ciphertext: ciphertext.toString('base64'),
  };
}

export async function writeSignerKey(path: string, file: SignerKeyFile): Promise<void> {
  try {
    await writeFile(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new SealogError(ErrorCode.KEY_EXISTS, `${path} already exists; choose another --out`);
    throw err;
  }
}

export async function readSignerKey(path: string): Promise<SignerKeyFile> {
  let parsed: SignerKeyFile;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8')) as SignerKeyFile;
  } catch (err) {
    throw new SealogError(ErrorCode.KEY_INVALID, `${path} is not a readable signer key file: ${(err as Error).message}`);
  }
  const ok =
    parsed?.format === FORMAT &&
    typeof parsed.name === 'string' &&
    typeof parsed.public === 'string' &&
    parsed.kdf?.alg === 'scrypt' &&
    [parsed.kdf.N, parsed.kdf.r, parsed.kdf.p].every((n) => Number.isInteger(n) && n > 0) &&
    parsed.kdf.N <= 1 << 20 &&
    parsed.cipher?.alg === 'aes-256-gcm' &&
    [parsed.kdf.salt, parsed.cipher.iv, parsed.cipher.tag, parsed.ciphertext].every((s) => typeof s === 'string');
  if (!ok) throw new SealogError(ErrorCode.KEY_INVALID, `${path} is not a ${FORMAT} signer key file`);
  return parsed;
}

/** Opens the key with the passphrase. A wrong passphrase and an altered file look the same: both fail the GCM tag. */
export function unlockSignerKey(file: SignerKeyFile, passphrase: string): Signer {
  const key = deriveKey(passphrase, Buffer.from(file.kdf.salt, 'base64'), file.kdf);
  let text: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(file.cipher.iv, 'base64'));
    decipher.setAAD(aad(file.name, file.public));
    decipher.setAuthTag(Buffer.from(file.cipher.tag, 'base64'));
    text = Buffer.concat([decipher.update(Buffer.from(file.ciphertext, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new SealogError(
      SignCode.PASSPHRASE,
      `the passphrase does not open the signer key of ${JSON.stringify(file.name)} (wrong passphrase, or the file was altered)`,
    );
  } finally {
    key.fill(0);
  }
  const signer = parseSignerKey(text);
  if (signer.verifierKey !== file.public) throw new SealogError(ErrorCode.KEY_INVALID, "the signer key file's public key does not match its private key");
  return signer;
}
