import { hash } from 'node:crypto';
import { type ByteSink, grown, jcsInto } from '../crypto/canonical.js';
import type { Draft, Packed } from '../types.js';

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

/** Digest of the canonical event text (or its UTF-8 bytes): the same id on a different event is not a resend. */
export function eventDigest(eventJcs: string | Uint8Array): string {
  return hash('sha256', eventJcs, 'base64').slice(0, 22);
}

/** Bytes of a record's prev (hex SHA-256) and ts (ISO 8601 UTC with microseconds): seal writes them into the blanks a Packed leaves. */
export const PREV_BYTES = 64;
export const TS_BYTES = 27;

// The record's own keys, in their JCS order around its parts and the blanks (see Packed).
const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const EVENT_KEY = ascii('{"event":');
const LEVEL_KEY = ascii(',"level":');
const META_KEY = ascii(',"meta":');
const PREV_OPEN = ascii(',"prev":"');
const REDACTIONS_KEY = ascii(`${' '.repeat(PREV_BYTES)}","redactions":`);
const SEQ_KEY = ascii(',"seq":');
const STREAM_KEY = ascii(',"stream":');
const TS_OPEN = ascii(',"ts":"');
const TYPE_KEY = ascii(`${' '.repeat(TS_BYTES)}","type":`);
const CLOSE = ascii('}');
const EMPTY_OBJECT = ascii('{}');
const EMPTY_ARRAY = ascii('[]');

/** A buffer that grows as records are packed into it; the worker transfers it whole. */
export class PackWriter implements ByteSink {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    // Its own ArrayBuffer (not the pool's), so it can be transferred.
    this.buf = Buffer.allocUnsafeSlow(Math.max(size, 1024));
  }

  put(bytes: Uint8Array): void {
    this.buf = grown(this.buf, this.pos, this.pos + bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }
}

/** What a record carries besides its bytes; most carry nothing. */
export type PackedExtras = Pick<Packed, 'rejected' | 'dedupe'>;

/**
 * serialize: a finished draft's record parts (see Packed) appended to w, canonical text
 * written straight into it; cuts[at..at+4) get the positions of prev, mid, ts and the end.
 * The keys are written in their JCS order around the blanks, so the record is canonical
 * once seal fills them in. Returns the rejection and dedupe key, if any.
 */
export function packInto(w: PackWriter, d: Draft, withDedupe: boolean, cuts: Uint32Array, at: number): PackedExtras | undefined {
  w.put(EVENT_KEY);
  const eventStart = w.pos;
  jcsInto(w, d.event);
  const eventEnd = w.pos;
  w.put(LEVEL_KEY);
  jcsInto(w, d.level ?? 'info');
  w.put(META_KEY);
  if (d.meta) jcsInto(w, d.meta);
  else w.put(EMPTY_OBJECT);
  w.put(PREV_OPEN);
  cuts[at] = w.pos;
  w.put(REDACTIONS_KEY);
  if (d.redactions.length) jcsInto(w, d.redactions);
  else w.put(EMPTY_ARRAY);
  w.put(SEQ_KEY);
  cuts[at + 1] = w.pos;
  w.put(STREAM_KEY);
  jcsInto(w, d.stream ?? 'application');
  w.put(TS_OPEN);
  cuts[at + 2] = w.pos;
  w.put(TYPE_KEY);
  jcsInto(w, d.type ?? 'event');
  w.put(CLOSE);
  cuts[at + 3] = w.pos;
  const key = withDedupe ? dedupeKey(d) : undefined;
  // The digest of the event's canonical bytes, where they were just written.
  const dedupe = key === undefined ? undefined : { key, digest: eventDigest(w.buf.subarray(eventStart, eventEnd)) };
  return d.rejected || dedupe ? { rejected: d.rejected, dedupe } : undefined;
}

/** serialize for one draft on its own: its record parts in a buffer of their own (the inline path, sealog's own records, tests). */
export function serialize(d: Draft, withDedupe: boolean): Packed {
  const w = new PackWriter(512);
  const cuts = new Uint32Array(4);
  const extras = packInto(w, d, withDedupe, cuts, 0);
  return {
    source: d.source,
    ack: d.ack,
    rejected: extras?.rejected,
    dedupe: extras?.dedupe,
    buf: w.buf,
    start: 0,
    prev: cuts[0]!,
    mid: cuts[1]!,
    ts: cuts[2]!,
    end: cuts[3]!,
  };
}
