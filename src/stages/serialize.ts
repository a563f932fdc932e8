import { hash } from 'node:crypto';
import { jcsFast } from '../crypto/canonical.js';
import type { Draft, Packed, Serialized } from '../types.js';

/** The dedupe key of an event, or undefined when it has none we can trust (missing, not a string/number, redacted). */
export function dedupeKey(d: Pick<Draft, 'event' | 'redactions' | 'rejected' | 'system' | 'source'>): string | undefined {
  if (d.rejected || d.system || d.source.kind === 'sealog') return undefined;
  const id = d.event.event_id;
  if (typeof id === 'string' ? id.length === 0 : typeof id !== 'number') return undefined;
  // A redacted id stands for many values: it identifies nothing.
  if (d.redactions.some((r) => r.path === 'event.event_id')) return undefined;
  return typeof id === 'string' ? `s${id}` : `n${id}`;
}

/** The event_id a dedupe key was made from (for the duplicate ack). */
export function eventIdOf(key: string): string | number {
  return key[0] === 's' ? key.slice(1) : Number(key.slice(1));
}

/** Digest of the canonical event text: the same id on a different event is not a resend. */
export function eventDigest(eventJcs: string): string {
  return hash('sha256', eventJcs, 'base64').slice(0, 22);
}

/** serialize: a finished draft as seal takes it, canonical text of its parts, defaults filled in. */
export function serialize(d: Draft, withDedupe: boolean): Serialized {
  const eventJcs = jcsFast(d.event);
  const key = withDedupe ? dedupeKey(d) : undefined;
  return {
    source: d.source,
    ack: d.ack,
    rejected: d.rejected,
    eventJcs,
    metaJcs: d.meta ? jcsFast(d.meta) : '{}',
    redactionsJcs: d.redactions.length ? jcsFast(d.redactions) : '[]',
    stream: d.stream ?? 'application',
    level: d.level ?? 'info',
    type: d.type ?? 'event',
    dedupe: key === undefined ? undefined : { key, digest: eventDigest(eventJcs) },
  };
}

/** Bytes of a record's prev (hex SHA-256) and ts (ISO 8601 UTC with microseconds): seal writes them into the blanks a Packed leaves. */
export const PREV_BYTES = 64;
export const TS_BYTES = 27;
const PREV_BLANK = ' '.repeat(PREV_BYTES);
const TS_BLANK = ' '.repeat(TS_BYTES);

// level, stream and type take a handful of values: each one's JSON text is made once, not
// per record (bounded, as they come from the event and classify's rules).
const QUOTED_MAX = 1024;
const quotedTexts = new Map<string, string>();
function quoted(s: string): string {
  let q = quotedTexts.get(s);
  if (q === undefined) {
    q = JSON.stringify(s);
    if (quotedTexts.size < QUOTED_MAX) quotedTexts.set(s, q);
  }
  return q;
}

/** A buffer that grows as results are packed into it; the worker transfers it whole. */
export class PackWriter {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    // Its own ArrayBuffer (not the pool's), so it can be transferred.
    this.buf = Buffer.allocUnsafeSlow(Math.max(size, 1024));
  }

  /** Appends s as UTF-8; returns the position after it. */
  write(s: string): number {
    const need = this.pos + s.length * 3;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(need, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.pos);
      this.buf = grown;
    }
    return (this.pos += this.buf.write(s, this.pos, 'utf8'));
  }
}

/**
 * Appends the record's parts that s decides (see Packed) to w; cuts[at..at+4) get the
 * positions of prev, mid, ts and the end. The keys are written in their JCS order around
 * the blanks, so the record is canonical once seal fills them in.
 */
export function packInto(w: PackWriter, s: Serialized, cuts: Uint32Array, at: number): void {
  // One string written once (a write per part costs more than the parts): its cuts are
  // character offsets, which are byte offsets when every character took one byte.
  const a = `{"event":${s.eventJcs},"level":${quoted(s.level)},"meta":${s.metaJcs},"prev":"`;
  const b = `${PREV_BLANK}","redactions":${s.redactionsJcs},"seq":`;
  const c = `,"stream":${quoted(s.stream)},"ts":"`;
  const d = `${TS_BLANK}","type":${quoted(s.type)}}`;
  const start = w.pos;
  const end = w.write(`${a}${b}${c}${d}`);
  if (end - start === a.length + b.length + c.length + d.length) {
    cuts[at] = start + a.length;
    cuts[at + 1] = cuts[at]! + b.length;
    cuts[at + 2] = cuts[at + 1]! + c.length;
  } else {
    cuts[at] = start + Buffer.byteLength(a, 'utf8');
    cuts[at + 1] = cuts[at]! + Buffer.byteLength(b, 'utf8');
    cuts[at + 2] = cuts[at + 1]! + Buffer.byteLength(c, 'utf8');
  }
  cuts[at + 3] = end;
}

/** A Serialized of its own as a Packed (the inline path and sealog's own records, not the hot path). */
export function pack(s: Serialized): Packed {
  const w = new PackWriter(s.eventJcs.length + s.metaJcs.length + s.redactionsJcs.length + 256);
  const cuts = new Uint32Array(4);
  packInto(w, s, cuts, 0);
  return {
    source: s.source,
    ack: s.ack,
    rejected: s.rejected,
    dedupe: s.dedupe,
    buf: w.buf,
    start: 0,
    prev: cuts[0]!,
    mid: cuts[1]!,
    ts: cuts[2]!,
    end: cuts[3]!,
  };
}
