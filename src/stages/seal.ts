import { leafHash } from '../crypto/hash.js';
import type { Prepared, Sealed, Source } from '../types.js';
import { PREV_BYTES, TS_BYTES, pack } from './serialize.js';

export interface ChainHead {
  nextSeq: number;
  prev: string; // hex hash of record nextSeq-1, 64 zeros before the first
}

// `,"hash":"` + 64 hex + `"}` + "\n", replacing the record text's closing brace.
const HASH_KEY = Buffer.from(',"hash":"', 'latin1');
const SUFFIX_BYTES = HASH_KEY.length + 64 + 2 + 1;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** Lines are written end to end into slabs of this size: no buffer per record, and a batch's lines are one range to compress. */
const SLAB = 1 << 20;

/**
 * seal: assigns seq, ts and prev, and computes hash = SHA-256(0x00 ‖ JCS(record without hash)).
 * The front packed the record's own parts as bytes in their sorted (JCS) order (Packed);
 * seal copies them into the line, fills in prev and ts, writes seq and source between
 * them, hashes the text in place and splices the hash member in place of its closing brace.
 */
export function createSealer(head: ChainHead, now: () => string): (p: Prepared) => Sealed {
  let seq = head.nextSeq;
  // Where the previous record's hash is, as hex: copied into the next record's prev.
  let prevBuf = Buffer.from(head.prev, 'latin1');
  let prevAt = 0;
  let slab = Buffer.alloc(0);
  let pos = 0;
  return (p) => {
    const k = 'buf' in p ? p : pack(p);
    const ts = now();
    if (ts.length !== TS_BYTES) throw new Error(`seal: a timestamp must have ${TS_BYTES} characters: ${ts}`);
    const middle = `${seq},"source":${sourceJcs(k.source)}`;
    const head = k.mid - k.start;
    const tail = k.end - k.mid;
    const most = head + middle.length * 3 + tail + SUFFIX_BYTES;
    if (pos + most > slab.length) {
      slab = Buffer.allocUnsafeSlow(Math.max(SLAB, most));
      pos = 0;
    }
    const start = pos;
    k.buf.copy(slab, start, k.start, k.mid);
    prevBuf.copy(slab, start + k.prev - k.start, prevAt, prevAt + PREV_BYTES);
    const mid = start + head + slab.write(middle, start + head, 'utf8');
    k.buf.copy(slab, mid, k.mid, k.end);
    slab.write(ts, mid + k.ts - k.mid, 'latin1');
    const bodyEnd = mid + tail; // just after the closing brace
    const hash = leafHash(slab.subarray(start, bodyEnd));
    let w = bodyEnd - 1;
    HASH_KEY.copy(slab, w);
    w += HASH_KEY.length;
    prevBuf = slab;
    prevAt = w;
    for (let i = 0; i < 32; i++) {
      const b = hash[i]!;
      slab[w++] = HEX[b >> 4]!;
      slab[w++] = HEX[b & 15]!;
    }
    slab[w++] = 0x22; // "
    slab[w++] = 0x7d; // }
    slab[w++] = 0x0a; // \n
    pos = w;
    const sealed: Sealed = { seq, hash, line: slab.subarray(start, w), source: k.source, ack: k.ack, rejected: k.rejected };
    seq++;
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
