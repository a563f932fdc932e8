import { hash } from 'node:crypto';

// crypto.hash() (one call, no Hash object) is ~1.5x faster than createHash() for record-sized inputs.
const LEAF = Buffer.from([0x00]);
const NODE = Buffer.from([0x01]);

export function sha256(data: Buffer): Buffer {
  return hash('sha256', data, 'buffer') as unknown as Buffer;
}

/** RFC 9162 leaf hash: SHA-256(0x00 ‖ data). */
export function leafHash(data: Buffer | string): Buffer {
  return sha256(Buffer.concat([LEAF, typeof data === 'string' ? Buffer.from(data, 'utf8') : data]));
}

/** RFC 9162 interior node hash: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return sha256(Buffer.concat([NODE, left, right], 65));
}

export function sha256Hex(data: Buffer | string): string {
  return hash('sha256', data, 'hex');
}

export const ZERO_HASH_HEX = '0'.repeat(64);
