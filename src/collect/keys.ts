import { readFileSync } from 'node:fs';
import { parseVerifierKey, type Verifier } from '../crypto/keys.js';
import { ErrorCode, SealogError } from '../errors.js';

/**
 * The pinned keys of `--keys FILE`: one verifier key per line (blank lines and # comments
 * skipped), the key name being the origin it speaks for. An origin may have several
 * (a rotated key and its successor). Nothing is ever taken from the data being checked.
 */
export function loadOriginKeys(file: string): Map<string, Verifier[]> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SealogError(ErrorCode.USAGE, `cannot read the keys file ${file}: ${(err as Error).message}`);
  }
  const keys = new Map<string, Verifier[]>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    let v: Verifier;
    try {
      v = parseVerifierKey(line);
    } catch (err) {
      throw new SealogError(ErrorCode.KEY_INVALID, `${file} line ${i + 1}: ${(err as Error).message}`);
    }
    keys.set(v.name, [...(keys.get(v.name) ?? []), v]);
  });
  if (!keys.size) throw new SealogError(ErrorCode.USAGE, `${file} pins no key`);
  return keys;
}
