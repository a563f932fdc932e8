// The JetStream wire format of DESIGN §11, written by the jetstream sink and read by
// `sealog collect`: one message per record (body = the stored line) and one per checkpoint
// (body = the signed note). The subject and headers route; only the body is evidence.

import { isUtf8 } from 'node:buffer';

/** The default first subject token; a site running several trails on one NATS (or a test) picks another. */
export const SUBJECT_ROOT = 'sealog';
export const H_MSG_ID = 'Nats-Msg-Id';
export const H_ORIGIN = 'Sealog-Origin';
export const H_SEQ = 'Sealog-Seq';
export const H_HASH = 'Sealog-Hash';
/** Checkpoints carry their tree size here (Sealog-Seq is for records). */
export const H_TREE_SIZE = 'Sealog-Tree-Size';

/** The origin with every character outside [A-Za-z0-9_-] replaced by `_`. */
export const originToken = (origin: string) => origin.replace(/[^A-Za-z0-9_-]/g, '_');

export const recordSubject = (root: string, origin: string, stream: string) => `${root}.${originToken(origin)}.records.${originToken(stream)}`;
export const checkpointSubject = (root: string, origin: string) => `${root}.${originToken(origin)}.checkpoints`;
export const recordMsgId = (origin: string, seq: number) => `${origin}/${seq}`;
export const checkpointMsgId = (origin: string, size: number) => `${origin}/checkpoint/${size}`;

/** What a message claims to be, before anything about it is verified. */
export type Item =
  | { kind: 'record'; origin: string; seq: number; body: Buffer; subject: string; headers: Record<string, string> }
  | { kind: 'checkpoint'; origin: string; size: number; body: Buffer; subject: string; headers: Record<string, string> }
  | { kind: 'bad'; reason: string; body: Buffer; subject: string; headers: Record<string, string> };

const MAX_HEADER_CHARS = 1024;
const DIGITS = /^(0|[1-9]\d{0,14})$/;

/**
 * Reads the routing of one message, with every field bounded: a body over `maxBody`
 * bytes, a subject that does not match its origin header, or a missing or malformed
 * header makes it `bad` (quarantined with that reason).
 */
export function classify(root: string, subject: string, get: (name: string) => string | undefined, body: Uint8Array, maxBody: number): Item {
  const headers: Record<string, string> = {};
  for (const h of [H_MSG_ID, H_ORIGIN, H_SEQ, H_HASH, H_TREE_SIZE]) {
    const v = get(h);
    // Bounded, and without control characters (PostgreSQL text cannot hold U+0000).
    if (v) headers[h] = v.slice(0, MAX_HEADER_CHARS).replace(/[\u0000-\u001f]/g, '?');
  }
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const bad = (reason: string): Item => ({
    kind: 'bad',
    reason,
    body: buf.subarray(0, Math.min(buf.length, maxBody)),
    subject: subject.slice(0, MAX_HEADER_CHARS).replace(/[\u0000-\u001f]/g, '?'),
    headers,
  });
  if (buf.length > maxBody) return bad(`message body of ${buf.length} bytes is over the ${maxBody}-byte limit`);
  if (!isText(buf)) return bad('message body is not UTF-8 text without U+0000');
  const origin = headers[H_ORIGIN];
  if (!origin || origin.length >= MAX_HEADER_CHARS) return bad(`missing or overlong ${H_ORIGIN} header`);
  const parts = subject.split('.');
  if (parts[0] !== root || parts[1] !== originToken(origin)) return bad(`subject ${subject} does not belong to origin ${origin}`);
  if (parts[2] === 'records' && parts.length === 4) {
    const seq = headers[H_SEQ];
    if (!seq || !DIGITS.test(seq)) return bad(`missing or malformed ${H_SEQ} header`);
    return { kind: 'record', origin, seq: Number(seq), body: buf, subject, headers };
  }
  if (parts[2] === 'checkpoints' && parts.length === 3) {
    const size = headers[H_TREE_SIZE];
    if (!size || !DIGITS.test(size)) return bad(`missing or malformed ${H_TREE_SIZE} header`);
    return { kind: 'checkpoint', origin, size: Number(size), body: buf, subject, headers };
  }
  return bad(`subject ${subject} is neither a record nor a checkpoint subject`);
}

/** Valid UTF-8 without NUL: what a record line or a signed note is, and what PostgreSQL text can hold. */
export function isText(buf: Buffer): boolean {
  return !buf.includes(0) && isUtf8(buf);
}

/** A body as PostgreSQL text: as is when it is text, else base64 with a prefix saying so. */
export const bodyText = (buf: Buffer) => (isText(buf) ? buf.toString('utf8') : `base64:${buf.toString('base64')}`);
