import { sha256 } from '../crypto/hash.js';
import type { Serialized, Sealed, Source } from '../types.js';

export interface ChainHead {
  nextSeq: number;
  prev: string; // hex hash of record nextSeq-1, 64 zeros before the first
}

// `,"hash":"` + 64 hex + `"}` + "\n", replacing the record text's closing brace.
const SUFFIX_BYTES = 9 + 64 + 2 + 1;

/**
 * seal: assigns seq, ts and prev, and computes hash = SHA-256(0x00 ‖ JCS(record without hash)).
 * The record's own keys, and source's, are written in their sorted (JCS) order by hand
 * around the parts the front serialized in its worker. One buffer holds 0x00 ‖ text
 * for hashing and then, with the hash member spliced in last, the stored line.
 */
export function createSealer(head: ChainHead, now: () => string): (p: Serialized) => Sealed {
  let seq = head.nextSeq;
  let prev = head.prev;
  return (p) => {
    const text =
      `{"event":${p.eventJcs},"level":${JSON.stringify(p.level)},"meta":${p.metaJcs},"prev":"${prev}",` +
      `"redactions":${p.redactionsJcs},"seq":${seq},"source":${sourceJcs(p.source)},` +
      `"stream":${JSON.stringify(p.stream)},"ts":"${now()}","type":${JSON.stringify(p.type)}}`;
    const textBytes = Buffer.byteLength(text, 'utf8');
    const buf = Buffer.allocUnsafe(1 + textBytes - 1 + SUFFIX_BYTES);
    buf[0] = 0x00;
    buf.write(text, 1, 'utf8');
    const hash = sha256(buf.subarray(0, 1 + textBytes));
    const hex = hash.toString('hex');
    buf.write(`,"hash":"${hex}"}\n`, textBytes, 'latin1');
    const sealed: Sealed = { seq, hash, line: buf.subarray(1), source: p.source, ack: p.ack, rejected: p.rejected };
    seq++;
    prev = hex;
    return sealed;
  };
}

/**
 * JCS of a Source: its keys are few and known, so they are written in sorted order
 * by hand (a serializer per record costs more than the rest of seal). The unit test
 * holds it to jcs() with every field set, and fails to compile when Source grows one.
 */
export function sourceJcs(s: Source): string {
  let t = '{';
  if (s.conn !== undefined) t += `"conn":${s.conn},`;
  if (s.continues !== undefined) t += `"continues":${JSON.stringify(s.continues)},`;
  if (s.file !== undefined) t += `"file":${JSON.stringify(s.file)},`;
  if (s.fp !== undefined) t += `"fp":${JSON.stringify(s.fp)},`;
  t += `"kind":${JSON.stringify(s.kind)},`;
  if (s.line !== undefined) t += `"line":${s.line},`;
  if (s.owner !== undefined) t += `"owner":{"gid":${s.owner.gid},"uid":${s.owner.uid}},`;
  if (s.peer !== undefined) t += `"peer":{"gid":${s.peer.gid},"pid":${s.peer.pid},"uid":${s.peer.uid}},`;
  if (s.token !== undefined) t += `"token":${JSON.stringify(s.token)},`;
  return `${t.slice(0, -1)}}`;
}
