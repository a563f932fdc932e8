import type { RejectCode } from './errors.js';

// Shapes that travel between the pipeline's stages.

/** Where an event came from; lands in the record as `source`. */
export interface Source {
  kind: 'socket' | 'spool' | 'sealog' | 'http' | 'otlp';
  /** Socket: the connection's number; HTTP: the request's number in this run. */
  conn?: number;
  file?: string;
  /** A spool file's content fingerprint (SHA-256 hex). */
  fp?: string;
  line?: number;
  /** A socket sender's pid, uid and gid as the kernel reports them (SO_PEERCRED). */
  peer?: { pid: number; uid: number; gid: number };
  /** A spool file's owner uid and gid (fstat of the descriptor sealog read it through). */
  owner?: { uid: number; gid: number };
  /** A spool file written in place that grew after it was ingested: the fingerprint of the finished part these lines continue. */
  continues?: string;
  /** HTTP: the name of the bearer token that sent it (who, for ALCOA+ attributability). */
  token?: string;
}

/** Where a committed record's acknowledgement goes, if anywhere. Owned by the source. */
export interface AckTarget {
  /** `count` accepted lines of this client, up to `throughLine`, are durable; the last is `lastSeq`. */
  committed(count: number, throughLine: number, lastSeq: number): void;
  /** A rejected line's dead-letter record is durable at `seq`. */
  rejected(line: number, seq: number, code: string, reason: string): void;
  /** Line `line` repeats an event (same event_id and content) committed earlier at `firstSeq`, which is durable. */
  duplicate(line: number, firstSeq: number, eventId: JsonValue): void;
}

/** A framed input line, as a source hands it to `parse`. */
export interface RawLine {
  bytes: Buffer;
  source: Source;
  ack?: AckTarget;
  /** Set when the line exceeded the size limit: `bytes` then holds only its head. */
  oversize?: { length: number; sha256: string };
  /** The input ended before this line's newline: if it does not parse, it was cut short. */
  unterminated?: boolean;
  /** Set when the source already knows the line must be rejected, and why. */
  rejectAs?: RejectCode;
  /** A record sealog itself writes (e.g. a spool file's completion): it skips parse and classify. */
  system?: Draft;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };

export interface Redaction {
  path: string;
  kind: string;
}

/** An event on its way to being sealed. */
export interface Draft {
  source: Source;
  ack?: AckTarget;
  event: JsonObject;
  /** Set when the input was rejected: the event is then the dead-letter entry. */
  rejected?: { code: string; reason: string };
  redactions: Redaction[];
  stream?: string;
  level?: string;
  type?: string;
  /** Regulated metadata: data classification, GAMP category, ALCOA+ facts. */
  meta?: JsonObject;
  /** sealog's own record: stream, level and type are already decided. */
  system?: boolean;
}

/**
 * A draft serialized for sealing (serialize.ts): the record's own parts already in their
 * stored bytes, so seal copies them into the line instead of encoding text (the front's
 * worker sends these bytes back, never the event object). buf[start, end) holds, UTF-8,
 * with blanks where seal writes what only it knows:
 *   `{"event":…,"level":…,"meta":…,"prev":"` ‖ 64 blanks (prev, at `prev`) ‖ `","redactions":…,"seq":`
 *   (seal inserts seq and source at `mid`) ‖ `,"stream":…,"ts":"` ‖ 27 blanks (ts, at `ts`) ‖ `","type":…}`
 */
export interface Packed {
  source: Source;
  ack?: AckTarget;
  rejected?: { code: string; reason: string };
  dedupe?: { key: string; digest: string };
  buf: Buffer;
  start: number;
  prev: number;
  mid: number;
  ts: number;
  end: number;
}

/** A sealed record: its stored line (with trailing newline) and what the store needs. */
export interface Sealed {
  seq: number;
  hash: Buffer;
  line: Buffer;
  source: Source;
  ack?: AckTarget;
  rejected?: { code: string; reason: string };
}

export interface Batch {
  records: Sealed[];
  bytes: number;
}

export interface Frame {
  records: Sealed[];
  /** One LZ4 frame holding every record line of the batch. */
  data: Buffer;
  rawBytes: number;
}
