import type { RejectCode } from '../errors.js';
import type { Ingest } from '../sources/ingest.js';
import type { AckTarget, JsonValue, Source } from '../types.js';

export interface IngestResult {
  committed: number;
  rejected: { line: number; code: string; reason: string }[];
  duplicates: number;
  /** The highest seq this request's input got (events or dead-letter records); null when none. */
  last_seq: number | null;
}

export interface InputLine {
  bytes: Buffer;
  /** 1-based line (NDJSON) or LogRecord (OTLP) number in the request. */
  line: number;
  oversize?: { length: number; sha256: string };
  rejectAs?: RejectCode;
}

/**
 * One HTTP request's input, through the same pipeline as the socket (parse,
 * sanitize, classify, dedupe, seal, commit): the request is its own ack target,
 * so it resolves only once every line it sent is durable, as an event, a
 * dead-letter record or a known duplicate. Writing waits while the pipeline is
 * full: the request body (capped) is all it holds meanwhile.
 */
export async function ingestLines(ingest: Ingest, lines: Iterable<InputLine>, source: (line: number) => Source): Promise<IngestResult> {
  const result: IngestResult = { committed: 0, rejected: [], duplicates: 0, last_seq: null };
  let sent = 0;
  let settled = 0;
  let allSent = false;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const settle = (n: number, seq: number | null) => {
    settled += n;
    if (seq !== null && (result.last_seq === null || seq > result.last_seq)) result.last_seq = seq;
    if (allSent && settled === sent) resolve();
  };
  const ack: AckTarget = {
    committed: (count, _through, lastSeq) => {
      result.committed += count;
      settle(count, lastSeq);
    },
    rejected: (line, seq, code, reason) => {
      result.rejected.push({ line, code, reason });
      settle(1, seq);
    },
    duplicate: (_line: number, _first: number, _id: JsonValue) => {
      result.duplicates++;
      settle(1, null);
    },
  };
  for (const l of lines) {
    while (ingest.full && !ingest.closed) await new Promise<void>((r) => ingest.whenReady(r));
    sent++;
    ingest.write({ bytes: l.bytes, source: source(l.line), ack, ...(l.oversize && { oversize: l.oversize }), ...(l.rejectAs && { rejectAs: l.rejectAs }) });
  }
  allSent = true;
  if (settled === sent) resolve();
  await done;
  result.rejected.sort((a, b) => a.line - b.line);
  return result;
}
