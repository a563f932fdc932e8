import { jcs } from '../crypto/canonical.js';
import { leafHash } from '../crypto/hash.js';
import type { Draft, Sealed } from '../types.js';

export interface ChainHead {
  nextSeq: number;
  prev: string; // hex hash of record nextSeq-1, 64 zeros before the first
}

/**
 * seal: assigns seq, ts and prev, and computes hash = SHA-256(0x00 ‖ JCS(record without hash)).
 * The stored line is that JCS text with `"hash"` appended last, so we serialize once.
 */
export function createSealer(head: ChainHead, now: () => string): (draft: Draft) => Sealed {
  let seq = head.nextSeq;
  let prev = head.prev;
  return (d) => {
    const record = {
      seq,
      ts: now(),
      stream: d.stream ?? 'application',
      level: d.level ?? 'info',
      type: d.type ?? 'event',
      source: d.source,
      event: d.event,
      redactions: d.redactions,
      prev,
    };
    const text = jcs(record);
    const hash = leafHash(text);
    const hex = hash.toString('hex');
    const line = Buffer.from(`${text.slice(0, -1)},"hash":"${hex}"}\n`, 'utf8');
    const sealed: Sealed = { seq, hash, line, source: d.source, ack: d.ack, rejected: d.rejected };
    seq++;
    prev = hex;
    return sealed;
  };
}
