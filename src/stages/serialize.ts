import { hash } from 'node:crypto';
import { type ByteSink, grown, jcsFast, jcsFromText, jcsInto } from '../crypto/canonical.js';
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

// The record's own keys in their JCS order around its parts and the blanks (see Packed), in
// as few pieces as there are parts: level, stream and type take a handful of values, so each
// one's piece (with the keys around it) is made once, not per record. They come from the
// event and classify's rules: the cache is bounded in values and in each value's length.
const PIECES_MAX = 1024;
const PIECE_MAX_CHARS = 128;
const PREV_BLANK = ' '.repeat(PREV_BYTES);
const TS_BLANK = ' '.repeat(TS_BYTES);
const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const EVENT_KEY = utf8('{"event":');
const PREV_OPEN = ',"prev":"';
const PREV = utf8(`${PREV_OPEN}${PREV_BLANK}","redactions":`);
const SEQ_KEY = ',"seq":';
const TS_TAIL = `${TS_BLANK}","type":`;
const EMPTY_OBJECT = utf8('{}');
const EMPTY_ARRAY = utf8('[]');

/** A value's JSON text with the record's keys before and after it. */
class Pieces {
  private readonly made = new Map<string, Uint8Array>();
  private readonly beforeBytes: Uint8Array;
  private readonly afterBytes: Uint8Array;
  constructor(
    private readonly before: string,
    private readonly after: string,
  ) {
    this.beforeBytes = utf8(before);
    this.afterBytes = utf8(after);
  }

  put(w: PackWriter, value: string): void {
    let p = this.made.get(value);
    if (p === undefined) {
      if (value.length > PIECE_MAX_CHARS || this.made.size >= PIECES_MAX) {
        w.put(this.beforeBytes);
        jcsInto(w, value);
        return w.put(this.afterBytes);
      }
      p = utf8(`${this.before}${jcsFast(value)}${this.after}`);
      this.made.set(value, p);
    }
    w.put(p);
  }
}
const levelPieces = new Pieces(',"level":', ',"meta":');
const streamPieces = new Pieces(`${SEQ_KEY},"stream":`, `,"ts":"${TS_TAIL}`);
const typePieces = new Pieces('', '}');

/** A buffer that grows as records are packed into it; the worker transfers it whole. */
export class PackWriter implements ByteSink {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    // Its own ArrayBuffer (not the pool's), so it can be transferred.
    this.buf = Buffer.allocUnsafeSlow(Math.max(size, 1024));
  }

  put(bytes: Uint8Array): void {
    if (this.pos + bytes.length > this.buf.length) this.buf = grown(this.buf, this.pos, this.pos + bytes.length);
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
 * `text`: the JSON text d.event was parsed from, when d.event is exactly what JSON.parse made
 * of it; its canonical bytes then come from the text (jcsFromText), not from a walk of the object.
 */
export function packInto(w: PackWriter, d: Draft, withDedupe: boolean, cuts: Uint32Array, at: number, text?: Uint8Array): PackedExtras | undefined {
  w.put(EVENT_KEY);
  const eventStart = w.pos;
  if (text === undefined || !jcsFromText(w, text)) jcsInto(w, d.event);
  const eventEnd = w.pos;
  levelPieces.put(w, d.level ?? 'info');
  if (d.meta) jcsInto(w, d.meta);
  else w.put(EMPTY_OBJECT);
  cuts[at] = w.pos + PREV_OPEN.length;
  w.put(PREV);
  if (d.redactions.length) jcsInto(w, d.redactions);
  else w.put(EMPTY_ARRAY);
  cuts[at + 1] = w.pos + SEQ_KEY.length;
  streamPieces.put(w, d.stream ?? 'application');
  cuts[at + 2] = w.pos - TS_TAIL.length;
  typePieces.put(w, d.type ?? 'event');
  cuts[at + 3] = w.pos;
  const key = withDedupe ? dedupeKey(d) : undefined;
  // The digest of the event's canonical bytes, where they were just written.
  const dedupe = key === undefined ? undefined : { key, digest: eventDigest(w.buf.subarray(eventStart, eventEnd)) };
  return d.rejected || dedupe ? { rejected: d.rejected, dedupe } : undefined;
}

/** serialize for one draft on its own: its record parts in a buffer of their own (the inline path, sealog's own records, tests). */
export function serialize(d: Draft, withDedupe: boolean, text?: Uint8Array): Packed {
  const w = new PackWriter(512);
  const cuts = new Uint32Array(4);
  const extras = packInto(w, d, withDedupe, cuts, 0, text);
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
