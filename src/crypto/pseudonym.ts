import { createHmac } from 'node:crypto';
import { ErrorCode, SealogError } from '../errors.js';

// Pseudonyms: `<kind>:<first 24 hex of HMAC-SHA256(key, DOMAIN ‖ kind ‖ 0x00 ‖ value)>`,
// for example `pii:email:3f0c9a51e2d47b6c08a1f2e3`.
//   - key: the 32-byte HMAC key of keys/hmac.key (64 hex). Without it a pseudonym cannot be
//     recomputed, so a dictionary of emails or phone numbers reverses nothing (a bare SHA-256 would).
//   - kind: the full redaction kind (`pii:email`), so one value found as two kinds gives two
//     unrelated pseudonyms (domain separation).
//   - value: normalized by the caller (e.g. an email lower-cased, a card number as digits), so
//     spellings of one value meet. Same key, kind and value: same pseudonym, which lets an
//     auditor follow one person through the trail.
//   - 24 hex = 96 bits: collisions stay out of reach for any realistic number of distinct values.
const DOMAIN = 'sealog/pseudonym/v1\u0000';
export const PSEUDONYM_HEX = 24;

export type Pseudonymizer = (kind: string, value: string) => string;

/** Parses the text of keys/hmac.key: exactly 64 hex characters (surrounding whitespace ignored). */
export function parseHmacKey(text: string, where = 'HMAC key'): Buffer {
  const t = text.trim();
  // Never echo the content: it may be the key itself, or most of it.
  if (!/^[0-9a-fA-F]{64}$/.test(t)) throw new SealogError(ErrorCode.KEY_INVALID, `${where} must hold exactly 64 hex characters (a 32-byte key)`);
  return Buffer.from(t, 'hex');
}

export function createPseudonymizer(key: Buffer): Pseudonymizer {
  if (key.length < 32) throw new SealogError(ErrorCode.KEY_INVALID, 'HMAC key must be at least 32 bytes');
  const k = Buffer.from(key); // a private copy: the caller may wipe or reuse its buffer
  return (kind, value) => `${kind}:${createHmac('sha256', k).update(DOMAIN).update(kind).update('\u0000').update(value).digest('hex').slice(0, PSEUDONYM_HEX)}`;
}
