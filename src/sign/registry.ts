import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseVerifierKey, type Verifier } from '../crypto/keys.js';
import { ErrorCode, SealogError } from '../errors.js';
import { writeFileDurable } from '../store/fsutil.js';
import { checkPrintedName } from './signerKey.js';

// keys/signers.pub: the signers whose signatures this log accepts, one a line:
//   <verifier key> <printed name>
// (the verifier key has no spaces; the printed name is the rest of the line). '#' comments.

export interface RegisteredSigner {
  name: string;
  key: Verifier;
}

export const signersPath = (data: string) => join(data, 'keys', 'signers.pub');

export function parseRegistry(text: string, where: string): RegisteredSigner[] {
  const out: RegisteredSigner[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const sp = line.indexOf(' ');
    if (sp < 0) throw new SealogError(ErrorCode.KEY_INVALID, `${where} line ${i + 1}: expected "<verifier key> <printed name>"`);
    try {
      out.push({ key: parseVerifierKey(line.slice(0, sp)), name: line.slice(sp + 1).trim() });
    } catch (err) {
      throw new SealogError(ErrorCode.KEY_INVALID, `${where} line ${i + 1}: ${(err as Error).message}`);
    }
  });
  return out;
}

/** The registry at `path`; none registered when the file does not exist. */
export async function loadRegistry(path: string): Promise<RegisteredSigner[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return parseRegistry(text, path);
}

/** The registered signer with this printed name and key id, if any. */
export function findSigner(registry: readonly RegisteredSigner[], name: string, keyIdHex: string): RegisteredSigner | undefined {
  return registry.find((s) => s.name === name && s.key.keyId.toString('hex') === keyIdHex);
}

/** Adds a signer (idempotent for the same key and name; a key already registered under another name is refused). */
export async function registerSigner(path: string, publicKey: string, printedName: string): Promise<boolean> {
  checkPrintedName(printedName);
  const key = parseVerifierKey(publicKey);
  const registry = await loadRegistry(path);
  const same = registry.find((s) => s.key.text === key.text);
  if (same) {
    if (same.name === printedName) return false;
    throw new SealogError(ErrorCode.KEY_EXISTS, `this key is already registered for ${JSON.stringify(same.name)}`);
  }
  const existing = await readFile(path, 'utf8').catch(() => '# sealog signers: <verifier key> <printed name>\n');
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileDurable(path, `${existing}${existing.endsWith('\n') ? '' : '\n'}${key.text} ${printedName}\n`, 0o644);
  return true;
}
