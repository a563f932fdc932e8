import { jcsFast } from '../crypto/canonical.js';
import { sha256 } from '../crypto/hash.js';
import type { Draft, Sealed } from '../types.js';

export interface ChainHead {
  nextSeq: number;
  prev: string; // hex hash of record nextSeq-1, 64 zeros before the first
}

// `,"hash":"` + 64 hex + `"}` + "\n", replacing the record text's closing brace.
const SUFFIX_BYTES = 9 + 64 + 2 + 1;

/**
 * seal: assigns seq, ts and prev, and computes hash = SHA-256(0x00 ‖ JCS(record without hash)).
 * The record's own keys are written in their sorted (JCS) order by hand; only
 * event, meta, source and redactions need the serializer. One buffer holds 0x00 ‖ text
 * for hashing and then, with the hash member spliced in last, the stored line.
 */
export function createSealer(head: ChainHead, now: () => string): (draft: Draft) => Sealed {
  let seq = head.nextSeq;
  let prev = head.prev;
  return (d) => {
    const text =
      `{"event":${d.eventJcs ?? jcsFast(d.event)},"level":${JSON.stringify(d.level ?? 'info')},"meta":${d.meta ? jcsFast(d.meta) : '{}'},"prev":"${prev}",` +
      `"redactions":${d.redactions.length ? jcsFast(d.redactions) : '[]'},"seq":${seq},"source":${jcsFast(d.source)},` +
      `"stream":${JSON.stringify(d.stream ?? 'application')},"ts":"${now()}","type":${JSON.stringify(d.type ?? 'event')}}`;
    const textBytes = Buffer.byteLength(text, 'utf8');
    const buf = Buffer.allocUnsafe(1 + textBytes - 1 + SUFFIX_BYTES);
    buf[0] = 0x00;
    buf.write(text, 1, 'utf8');
    const hash = sha256(buf.subarray(0, 1 + textBytes));
    const hex = hash.toString('hex');
    buf.write(`,"hash":"${hex}"}\n`, textBytes, 'latin1');
    const sealed: Sealed = { seq, hash, line: buf.subarray(1), source: d.source, ack: d.ack, rejected: d.rejected };
    seq++;
    prev = hex;
    return sealed;
  };
}
