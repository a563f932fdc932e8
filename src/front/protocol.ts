import type { Config } from '../config.js';
import type { Draft, RawLine, Serialized, Source } from '../types.js';

// The one place that knows the messages between FrontStage (main thread) and the front's
// worker. Lines go over in chunks: their bytes end to end (transferred, not copied) and
// what else a line carries, which is rare, by index. Results come back as strings only,
// never the event object; the main thread joins them to the lines it kept (source, ack).

/** The worker's start-up data. */
export interface FrontInit {
  cfg: Config;
  /** A copy of the HMAC key for the worker's pseudonymizer; transferred, zeroed there once used. */
  hmacKey: Uint8Array;
}

/** Lines for the worker, as encodeLines makes them. */
export interface LinesMessage {
  type: 'lines';
  bytes: Uint8Array;
  ends: Uint32Array;
  kinds: string[];
  extras: [number, Pick<RawLine, 'oversize' | 'unterminated' | 'rejectAs' | 'system'>][];
}

/** The serialized form of each line of one LinesMessage, in order, as encodeResults makes it. */
export interface ResultsMessage {
  type: 'results';
  out: (string | null)[];
}

export type ToWorker = LinesMessage | { type: 'reload'; cfg: Config };

export type ToMain =
  | ResultsMessage
  | { type: 'ready' }
  /** The worker could not build its front (a bad pattern or schema): the start is refused with this code. */
  | { type: 'failed'; error: string; code?: string }
  | { type: 'reloaded'; ok: boolean; error?: string };

/** Packs lines into one message; `transfer` is what postMessage moves instead of copying. */
export function encodeLines(lines: RawLine[], totalBytes: number): { message: LinesMessage; transfer: ArrayBuffer[] } {
  // Its own ArrayBuffer (not the pool's), so it can be transferred rather than copied again.
  const bytes = Buffer.allocUnsafeSlow(totalBytes);
  const ends = new Uint32Array(lines.length);
  const kinds: string[] = new Array(lines.length);
  const extras: LinesMessage['extras'] = [];
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    l.bytes.copy(bytes, at);
    at += l.bytes.length;
    ends[i] = at;
    kinds[i] = l.source.kind;
    if (l.oversize || l.unterminated || l.rejectAs || l.system) {
      // The ack target stays here: it is the source's object, not data.
      const system = l.system && ({ ...l.system, ack: undefined } satisfies Draft);
      extras.push([i, { oversize: l.oversize, unterminated: l.unterminated, rejectAs: l.rejectAs, system }]);
    }
  }
  return { message: { type: 'lines', bytes, ends, kinds, extras }, transfer: [bytes.buffer as ArrayBuffer, ends.buffer] };
}

/** The worker's side: the lines back, each with what the front needs (no ack: that stays on the main thread). */
export function decodeLines(m: LinesMessage): RawLine[] {
  const bytes = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
  const lines: RawLine[] = new Array(m.kinds.length);
  let extra = 0;
  let start = 0;
  for (let i = 0; i < m.kinds.length; i++) {
    const end = m.ends[i]!;
    const raw: RawLine = { bytes: bytes.subarray(start, end), source: { kind: m.kinds[i] as Source['kind'] } };
    start = end;
    if (extra < m.extras.length && m.extras[extra]![0] === i) Object.assign(raw, m.extras[extra++]![1]);
    if (raw.system) raw.system.source = raw.source;
    lines[i] = raw;
  }
  return lines;
}

// A result is these strings, in this order, one run per line: the positions are known here only.
const EVENT = 0;
const META = 1;
const REDACTIONS = 2;
const STREAM = 3;
const LEVEL = 4;
const TYPE = 5;
const REJECT_CODE = 6;
const REJECT_REASON = 7;
const DEDUPE_KEY = 8;
const DEDUPE_DIGEST = 9;
const STRIDE = 10;

/** The worker's answer to one LinesMessage: the text parts of each line's Serialized. */
export function encodeResults(results: Serialized[]): ResultsMessage {
  const out: (string | null)[] = new Array(results.length * STRIDE);
  for (let i = 0; i < results.length; i++) {
    const p = results[i]!;
    const o = i * STRIDE;
    out[o + EVENT] = p.eventJcs;
    out[o + META] = p.metaJcs;
    out[o + REDACTIONS] = p.redactionsJcs;
    out[o + STREAM] = p.stream;
    out[o + LEVEL] = p.level;
    out[o + TYPE] = p.type;
    out[o + REJECT_CODE] = p.rejected?.code ?? null;
    out[o + REJECT_REASON] = p.rejected?.reason ?? null;
    out[o + DEDUPE_KEY] = p.dedupe?.key ?? null;
    out[o + DEDUPE_DIGEST] = p.dedupe?.digest ?? null;
  }
  return { type: 'results', out };
}

/** Line i's Serialized: the worker's text joined to the line as the main thread kept it (its source and ack target). */
export function decodeResult({ out }: ResultsMessage, i: number, line: RawLine): Serialized {
  const o = i * STRIDE;
  const code = out[o + REJECT_CODE];
  const key = out[o + DEDUPE_KEY];
  return {
    source: line.source,
    ack: line.system ? line.system.ack : line.ack,
    rejected: code === null ? undefined : { code: code!, reason: out[o + REJECT_REASON]! },
    eventJcs: out[o + EVENT]!,
    metaJcs: out[o + META]!,
    redactionsJcs: out[o + REDACTIONS]!,
    stream: out[o + STREAM]!,
    level: out[o + LEVEL]!,
    type: out[o + TYPE]!,
    dedupe: key === null ? undefined : { key: key!, digest: out[o + DEDUPE_DIGEST]! },
  };
}
