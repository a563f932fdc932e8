import type { Clock } from '../clock.js';
import { leafHashHexInto } from '../crypto/hash.js';
import type { Packed, Sealed, Source } from '../types.js';
import { PREV_BYTES, TS_BYTES } from './serialize.js';

export interface ChainHead {
  nextSeq: number;
  prev: string; // hex hash of record nextSeq-1, 64 zeros before the first
}

// `,"hash":"` + 64 hex + `"}` + "\n", replacing the record text's closing brace.
const HASH_KEY = Buffer.from(',"hash":"', 'latin1');
const SUFFIX_BYTES = HASH_KEY.length + 64 + 2 + 1;
const SOURCE_KEY = Buffer.from(',"source":', 'latin1');
/**
 * Lines are written end to end into slabs of this size: no buffer per record, and a batch's
 * lines are one range to compress. Several batches (1 MiB by default) fit in one, so few
 * batches straddle two slabs, which costs a copy of the batch for LZ4.
 */
const SLAB = 4 << 20;
/** Records' hashes are written end to end into buffers of this size, never used again (a hash outlives its line: the tree holds it). */
const DIGESTS = 32 << 10;

/**
 * seal: assigns seq, ts and prev, and computes hash = SHA-256(0x00 ‖ JCS(record without hash)).
 * The front packed the record's own parts as bytes in their sorted (JCS) order (Packed);
 * seal copies them into the line, fills in prev and ts, writes seq and source between
 * them, hashes the text in place and splices the hash member in place of its closing brace.
 * Everything is written as bytes straight into the slab: a string per record, and a
 * Buffer.write to copy it, cost more here than the hash.
 */
export function createSealer(head: ChainHead, now: Clock, slabs = new Slabs()): (p: Packed) => Sealed {
  let seq = head.nextSeq;
  // Where the previous record's hash is, as hex: copied into the next record's prev.
  let prevBuf: Buffer = Buffer.from(head.prev, 'latin1');
  let prevAt = 0;
  let slab: Buffer = Buffer.alloc(0);
  let pos = 0;
  let digests: Buffer = Buffer.alloc(0);
  let digestAt = 0;
  // A connection's lines have sources that differ in `line` alone: when a source equals the
  // previous record's but for it, the bytes either side of the number are copied from that
  // record's (in this slab) rather than written key by key. Where they are: its source text
  // is srcBuf[srcAt..srcEnd), with the line number's digits at [srcLineAt..srcRestAt).
  let srcOf: Source | undefined; // a source with the previous record's text but for line, if it had a line
  let srcBuf: Buffer = slab;
  let srcAt = 0;
  let srcLineAt = 0;
  let srcRestAt = 0;
  let srcEnd = 0;
  const writeTs = now.write;
  return (k) => {
    const ts = writeTs ? '' : now();
    if (!writeTs && ts.length !== TS_BYTES) throw new Error(`seal: a timestamp must have ${TS_BYTES} characters: ${ts}`);
    const head = k.mid - k.start;
    const tail = k.end - k.mid;
    const s = k.source;
    const same = srcOf !== undefined && s.line !== undefined && sameButLine(s, srcOf);
    // The same source's text but for the line number (MIDDLE_BYTES has room for a number's).
    const most = head + MIDDLE_BYTES + (same ? srcEnd - srcAt : sourceStringBytes(s)) + tail + SUFFIX_BYTES;
    if (pos + most > slab.length) {
      if (pos > 0) slabs.filled(slab, seq - 1);
      slab = slabs.next(most);
      pos = 0;
    }
    const start = pos;
    copyRange(k.buf, k.start, k.mid, slab, start);
    const prevTo = start + k.prev - k.start;
    // The previous line is almost always in this slab: copyWithin makes no view to copy from.
    if (prevBuf === slab) slab.copyWithin(prevTo, prevAt, prevAt + PREV_BYTES);
    else prevBuf.copy(slab, prevTo, prevAt, prevAt + PREV_BYTES);
    let m = writeNumber(slab, start + head, seq);
    m = putBytes(slab, m, SOURCE_KEY);
    let mid: number;
    if (same && srcBuf === slab) {
      slab.copyWithin(m, srcAt, srcLineAt); // `{` … `"line":`
      const lineAt = m + srcLineAt - srcAt;
      const restAt = writeNumber(slab, lineAt, s.line!);
      slab.copyWithin(restAt, srcRestAt, srcEnd); // what follows the number, through `}`
      mid = restAt + srcEnd - srcRestAt;
      srcLineAt = lineAt;
      srcRestAt = restAt;
    } else if (s.line !== undefined) {
      srcLineAt = putBytes(slab, writeSourceHead(slab, m, s), LINE);
      srcRestAt = writeNumber(slab, srcLineAt, s.line);
      mid = writeSourceRest(slab, comma(slab, srcRestAt), s);
      srcOf = s;
      srcBuf = slab;
    } else {
      mid = writeSourceJcs(slab, m, s);
      srcOf = undefined;
    }
    srcAt = m;
    srcEnd = mid;
    copyRange(k.buf, k.mid, k.end, slab, mid);
    if (writeTs) writeTs(slab, mid + k.ts - k.mid);
    else putAscii(slab, mid + k.ts - k.mid, ts);
    const bodyEnd = mid + tail; // just after the closing brace
    const hexAt = bodyEnd - 1 + HASH_KEY.length;
    if (digestAt + 32 > digests.length) {
      digests = Buffer.allocUnsafeSlow(DIGESTS);
      digestAt = 0;
    }
    leafHashHexInto(slab, start, bodyEnd, hexAt, digests, digestAt);
    const hash = Buffer.from(digests.buffer, digestAt, 32); // allocUnsafeSlow: its own ArrayBuffer, from offset 0
    digestAt += 32;
    putBytes(slab, bodyEnd - 1, HASH_KEY); // after the hash: it takes the closing brace's place
    prevBuf = slab;
    prevAt = hexAt;
    let w = hexAt + 64;
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
 * The slabs, used again once every line in them is committed. At full speed seal fills tens
 * of MB of slabs a second, and V8 answers that much new ArrayBuffer memory with major GCs
 * of the main thread, a pause in every ack waiting. A line is read by batch and compress
 * before its commit, never after: nothing may keep one past onCommit.
 */
export class Slabs {
  /** Full slabs whose lines are not all committed, oldest first, with the seq of their last line. */
  private readonly full: { slab: Buffer; lastSeq: number }[] = [];
  private readonly spare: Buffer[] = [];

  /** A slab for at least `bytes`: a spare one when there is one. */
  next(bytes: number): Buffer {
    return bytes > SLAB ? Buffer.allocUnsafeSlow(bytes) : (this.spare.pop() ?? Buffer.allocUnsafeSlow(SLAB));
  }

  /** `slab` takes no more lines; its last is `lastSeq`'s. */
  filled(slab: Buffer, lastSeq: number): void {
    if (slab.length === SLAB) this.full.push({ slab, lastSeq });
  }

  /** Every record through `seq` is committed (and onCommit has run): the slabs they filled are free. */
  committed(seq: number): void {
    while (this.full.length > 0 && this.full[0]!.lastSeq <= seq) {
      const { slab } = this.full.shift()!;
      if (this.spare.length < 2) this.spare.push(slab);
    }
  }
}

/** src[from..to) into dst at `at`: one view and a memmove, without Buffer.copy's argument checks. */
function copyRange(src: Buffer, from: number, to: number, dst: Buffer, at: number): void {
  dst.set(new Uint8Array(src.buffer, src.byteOffset + from, to - from), at);
}

/** A short constant, byte by byte: cheaper than a copy call for a few bytes. */
function putBytes(buf: Buffer, at: number, bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) buf[at++] = bytes[i]!;
  return at;
}

/** A string known to be ASCII (a timestamp, a number's text), byte by byte. */
function putAscii(buf: Buffer, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
  return at;
}

/** A number as JCS writes it (ECMAScript's Number to String): digit by digit when it is a safe non-negative integer, the usual case. */
function writeNumber(buf: Buffer, at: number, n: number): number {
  if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER && Number.isInteger(n))) return putAscii(buf, at, String(n));
  let end = at + 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) end++;
  for (let i = end - 1, x = n; i >= at; i--, x = Math.floor(x / 10)) buf[i] = 0x30 + (x % 10);
  return end;
}

/** A string as JCS writes it (JSON.stringify's escaping): byte by byte when it needs no escape and is ASCII, the usual case. */
function writeString(buf: Buffer, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return at + buf.write(JSON.stringify(s), at, 'utf8');
  }
  buf[at] = 0x22;
  at = putAscii(buf, at + 1, s);
  buf[at] = 0x22;
  return at + 1;
}

// What seq, `,"source":` and a source's keys and numbers take at most (a number's text is at
// most 24 characters), and what its strings may (6 bytes per UTF-16 unit: a \u00XX escape).
const MIDDLE_BYTES = 512;
const sourceStringBytes = (s: Source) =>
  6 * ((s.continues?.length ?? 0) + (s.file?.length ?? 0) + (s.fp?.length ?? 0) + s.kind.length + (s.token?.length ?? 0));

const key = (k: string) => Buffer.from(`"${k}":`, 'latin1');
const CONN = key('conn');
const CONTINUES = key('continues');
const FILE = key('file');
const FP = key('fp');
const KIND = key('kind');
const LINE = key('line');
const OWNER_GID = Buffer.from('"owner":{"gid":', 'latin1');
const PEER_GID = Buffer.from('"peer":{"gid":', 'latin1');
const PID = Buffer.from(',"pid":', 'latin1');
const UID = Buffer.from(',"uid":', 'latin1');
const TOKEN = key('token');

/**
 * JCS of a Source, written into buf at `at` (returns where it ends): its keys are few and
 * known, so they are written in sorted order by hand. The unit test holds it to jcs() with
 * every field set, and fails to compile when Source grows one.
 */
export function writeSourceJcs(buf: Buffer, at: number, s: Source): number {
  at = writeSourceHead(buf, at, s);
  if (s.line !== undefined) at = comma(buf, writeNumber(buf, putBytes(buf, at, LINE), s.line));
  return writeSourceRest(buf, at, s);
}

/** `{` and the members that sort before line, each with its comma. */
function writeSourceHead(buf: Buffer, at: number, s: Source): number {
  buf[at++] = 0x7b; // {
  if (s.conn !== undefined) at = comma(buf, writeNumber(buf, putBytes(buf, at, CONN), s.conn));
  if (s.continues !== undefined) at = comma(buf, writeString(buf, putBytes(buf, at, CONTINUES), s.continues));
  if (s.file !== undefined) at = comma(buf, writeString(buf, putBytes(buf, at, FILE), s.file));
  if (s.fp !== undefined) at = comma(buf, writeString(buf, putBytes(buf, at, FP), s.fp));
  return comma(buf, writeString(buf, putBytes(buf, at, KIND), s.kind));
}

/** The members that sort after line, each with its comma, then the last comma made the closing brace. */
function writeSourceRest(buf: Buffer, at: number, s: Source): number {
  if (s.owner !== undefined) {
    at = writeNumber(buf, putBytes(buf, at, OWNER_GID), s.owner.gid);
    at = writeNumber(buf, putBytes(buf, at, UID), s.owner.uid);
    buf[at++] = 0x7d; // }
    at = comma(buf, at);
  }
  if (s.peer !== undefined) {
    at = writeNumber(buf, putBytes(buf, at, PEER_GID), s.peer.gid);
    at = writeNumber(buf, putBytes(buf, at, PID), s.peer.pid);
    at = writeNumber(buf, putBytes(buf, at, UID), s.peer.uid);
    buf[at++] = 0x7d; // }
    at = comma(buf, at);
  }
  if (s.token !== undefined) at = comma(buf, writeString(buf, putBytes(buf, at, TOKEN), s.token));
  buf[at - 1] = 0x7d; // the last member's comma becomes the closing brace
  return at;
}

/** Whether two sources have the same JCS text but for line: every other field compared by value. */
function sameButLine(a: Source, b: Source): boolean {
  return (
    a.kind === b.kind &&
    a.conn === b.conn &&
    a.file === b.file &&
    a.fp === b.fp &&
    a.continues === b.continues &&
    a.token === b.token &&
    (a.peer === undefined
      ? b.peer === undefined
      : b.peer !== undefined && a.peer.pid === b.peer.pid && a.peer.uid === b.peer.uid && a.peer.gid === b.peer.gid) &&
    (a.owner === undefined ? b.owner === undefined : b.owner !== undefined && a.owner.uid === b.owner.uid && a.owner.gid === b.owner.gid)
  );
}

function comma(buf: Buffer, at: number): number {
  buf[at] = 0x2c;
  return at + 1;
}
