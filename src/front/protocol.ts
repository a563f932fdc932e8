import type { Config } from '../config.js';
import { type PackedExtras, PackWriter } from '../stages/serialize.js';
import type { Draft, Packed, RawLine, Source } from '../types.js';

// The one place that knows the messages between FrontStage (main thread) and the front's
// worker. Lines go over in chunks: their bytes end to end (transferred, not copied) and
// what else a line carries, which is rare, by index. Results come back the same way, as
// the records' parts in their stored bytes, never the event object; the main thread joins
// them to the lines it kept (source, ack).

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
  /**
   * The lines' source kinds: one string when every line has the same (the usual chunk), else
   * one per line. postMessage copies each string of an array apart, ~0.1 µs a line each way.
   */
  kinds: string | string[];
  extras: [number, Pick<RawLine, 'oversize' | 'unterminated' | 'rejectAs' | 'system'>][];
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
  const kind = lines[0]?.source.kind ?? 'socket';
  let mixed = false;
  const extras: LinesMessage['extras'] = [];
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    l.bytes.copy(bytes, at);
    at += l.bytes.length;
    ends[i] = at;
    if (l.source.kind !== kind) mixed = true;
    if (l.oversize || l.unterminated || l.rejectAs || l.system) {
      // The ack target stays here: it is the source's object, not data.
      const system = l.system && ({ ...l.system, ack: undefined } satisfies Draft);
      extras.push([i, { oversize: l.oversize, unterminated: l.unterminated, rejectAs: l.rejectAs, system }]);
    }
  }
  const kinds = mixed ? lines.map((l) => l.source.kind) : kind;
  return { message: { type: 'lines', bytes, ends, kinds, extras }, transfer: [bytes.buffer as ArrayBuffer, ends.buffer] };
}

/** The worker's side: the lines back, each with what the front needs (no ack: that stays on the main thread). */
export function decodeLines(m: LinesMessage): RawLine[] {
  const bytes = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
  const lines: RawLine[] = new Array(m.ends.length);
  const { kinds } = m;
  let extra = 0;
  let start = 0;
  for (let i = 0; i < m.ends.length; i++) {
    const end = m.ends[i]!;
    const kind = (typeof kinds === 'string' ? kinds : kinds[i]) as Source['kind'];
    const raw: RawLine = { bytes: bytes.subarray(start, end), source: { kind } };
    start = end;
    if (extra < m.extras.length && m.extras[extra]![0] === i) Object.assign(raw, m.extras[extra++]![1]);
    if (raw.system) raw.system.source = raw.source;
    lines[i] = raw;
  }
  return lines;
}

/**
 * The worker's answer to one LinesMessage: each line's record parts packed end to end
 * in `bytes` (packInto), line i's ending at cuts[4i+3] (and starting where line i-1's
 * ended); what only some lines carry (a rejection, a dedupe key) by index in `extras`.
 */
export interface ResultsMessage {
  type: 'results';
  bytes: Uint8Array;
  cuts: Uint32Array;
  extras: [number, PackedExtras][];
}

/** Packs line by line (packInto's contract) into w, positions from cuts[at]. */
export type PackLine = (raw: RawLine, w: PackWriter, cuts: Uint32Array, at: number) => PackedExtras | undefined;

/**
 * The results of one LinesMessage, each line's packed by `pack` straight into the message's
 * bytes; `transfer` is what postMessage moves instead of copying.
 */
export function encodeResults(lines: RawLine[], pack: PackLine, sizeHint: number): { message: ResultsMessage; transfer: ArrayBuffer[] } {
  const w = new PackWriter(sizeHint);
  const cuts = new Uint32Array(lines.length * 4);
  const extras: ResultsMessage['extras'] = [];
  for (let i = 0; i < lines.length; i++) {
    const extra = pack(lines[i]!, w, cuts, i * 4);
    if (extra) extras.push([i, extra]);
  }
  return { message: { type: 'results', bytes: w.buf, cuts, extras }, transfer: [w.buf.buffer as ArrayBuffer, cuts.buffer] };
}

// decodeResult is called for each line of a message in turn: the message's bytes as a Buffer, made once.
let lastMessage: ResultsMessage | undefined;
let lastBytes: Buffer = Buffer.alloc(0);
let lastExtra = 0;

/** Line i's Packed: the worker's bytes joined to the line as the main thread kept it (its source and ack target). */
export function decodeResult(m: ResultsMessage, i: number, line: RawLine): Packed {
  if (m !== lastMessage) {
    lastMessage = m;
    lastBytes = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
    lastExtra = 0;
  }
  const o = i * 4;
  const { cuts, extras } = m;
  // Lines are asked for in order; the search from the start is for a caller that does not.
  if (lastExtra >= extras.length || extras[lastExtra]![0] > i) lastExtra = 0;
  while (lastExtra < extras.length && extras[lastExtra]![0] < i) lastExtra++;
  const extra = lastExtra < extras.length && extras[lastExtra]![0] === i ? extras[lastExtra]![1] : undefined;
  return {
    source: line.source,
    ack: line.system ? line.system.ack : line.ack,
    rejected: extra?.rejected,
    dedupe: extra?.dedupe,
    buf: lastBytes,
    start: i === 0 ? 0 : cuts[o - 1]!,
    prev: cuts[o]!,
    mid: cuts[o + 1]!,
    ts: cuts[o + 2]!,
    end: cuts[o + 3]!,
  };
}
