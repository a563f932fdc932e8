import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';
import { RejectCode } from '../errors.js';
import { OwnType } from '../ownRecords.js';
import type { AckTarget, JsonObject, RawLine, Source } from '../types.js';
import type { SplitLine } from './boundedBytes.js';
import { isBlank } from './lineSplitter.js';
import { continuing, type SpoolProgress } from './spoolProgress.js';

/** Per-file progress, for the daemon's logs and status. */
export interface FileStatus {
  file: string;
  fp?: string;
  state: 'reading' | 'committing' | 'done' | 'rejected';
  bytes: number;
  size: number;
  lines: number;
}

/** What a file's ingest needs from the spool: where lines and records go, and what to do once the file is settled. */
export interface FileHost {
  submit(raw: RawLine): void;
  /** Seals one of sealog's own records about the file; `then` runs once it is durable. */
  record(type: OwnType, level: 'info' | 'warn', event: JsonObject, then: (seq: number) => void): void;
  /** Every line and the file's own record are durable: move, rest or delete the file. */
  settled(outcome: 'done' | 'rejected', seq: number): void;
  readonly progress: SpoolProgress;
  readonly log: Logger;
}

/** Which part of which file: `end` bytes, fingerprinted as `fp`, continuing a finished prefix of it when `continues` is set. */
export interface FilePart {
  name: string;
  fp: string;
  end: number;
  /** Lines committed before (a restart, or the finished prefix this part continues). */
  resumeAfter: number;
  continues?: string;
  /** The file owner's uid/gid, from fstat of the opened descriptor (who wrote it, as sockets record the peer). */
  owner: { uid: number; gid: number };
  ino: number;
}

/**
 * One file's ingest: submits its lines, counts their acks, and once every line
 * is committed seals an `ingested` (or `failed`) record, then hands the file back.
 */
export class FileIngest implements AckTarget {
  private lineNo = 0;
  private outstanding = 0;
  private ended = false;
  private problem: [string, string] | undefined;
  private accepted = 0;
  private rejectedCount = 0;
  private duplicates = 0;
  private broken: JsonObject | undefined;

  constructor(
    private readonly host: FileHost,
    readonly part: FilePart,
    private readonly status: FileStatus,
  ) {}

  get name(): string {
    return this.part.name;
  }

  line(bytes: Buffer, oversize?: { length: number; sha256: string }, rejectAs?: RejectCode): void {
    const line = ++this.lineNo;
    this.status.lines = line;
    if (line <= this.part.resumeAfter) return; // committed before a restart, or part of the finished prefix
    if (!oversize && !rejectAs && isBlank(bytes)) return;
    this.outstanding++;
    const { name, fp, continues, owner } = this.part;
    const source: Source = { kind: 'spool', file: name, fp, line, owner, ...(continues ? { continues } : {}) };
    this.host.submit({ bytes, oversize, source, ack: this, ...(rejectAs ? { rejectAs } : {}) });
  }

  /** A .json document that stops being JSON at `broken.offset`: the rest (if any) is dead-lettered as one more line, and the file's record says where. */
  brokenAt(broken: { offset: number; reason: string }, rest: SplitLine | undefined): void {
    this.broken = { invalid_from_byte: broken.offset, invalid_reason: broken.reason };
    if (rest) this.line(rest.bytes, rest.oversize, RejectCode.JSON_DOCUMENT);
  }

  committed(count: number, throughLine: number, lastSeq: number): void {
    this.accepted += count;
    this.settle(count, throughLine, lastSeq);
  }

  rejected(line: number, seq: number): void {
    this.rejectedCount++;
    this.settle(1, line, seq);
  }

  /** A line repeating an event committed earlier (same event_id): settled, not sealed again. */
  duplicate(line: number, firstSeq: number): void {
    this.duplicates++;
    this.settle(1, line, firstSeq);
  }

  private settle(n: number, line: number, seq: number): void {
    this.outstanding -= n;
    const { progress } = this.host;
    progress.lineCommitted(this.part.fp, line);
    if (this.part.continues) progress.lineCommitted(continuing(this.part.continues), line);
    progress.advance(seq);
    this.maybeComplete();
  }

  endOfInput(problem: [string, string] | undefined): void {
    this.ended = true;
    this.problem = problem;
    this.status.state = 'committing';
    this.maybeComplete();
  }

  private maybeComplete(): void {
    if (!this.ended || this.outstanding > 0) return;
    this.ended = false; // once
    const { name, fp, end, continues, owner, resumeAfter, ino } = this.part;
    const facts: JsonObject = {
      file: name,
      fp,
      bytes: end,
      lines: this.lineNo,
      owner,
      accepted: this.accepted,
      rejected: this.rejectedCount,
      duplicates: this.duplicates,
      resumed_after_line: resumeAfter,
      ...(continues ? { continues } : {}),
      ...this.broken,
    };
    const { progress, log } = this.host;
    if (this.problem) {
      const [code, reason] = this.problem;
      this.host.record(OwnType.SPOOL_FAILED, 'warn', { ...facts, code, reason }, (seq) => {
        progress.forget(fp, continues);
        this.host.settled('rejected', seq);
      });
      return;
    }
    this.host.record(OwnType.SPOOL_INGESTED, 'info', facts, (seq) => {
      const done = progress.markDone({ fp, name, seq, bytes: end, lines: this.lineNo, ino }, continues);
      progress.advance(seq);
      void done.then(
        () => this.host.settled('done', seq),
        // The ingested record is durable, so nothing is lost: the next start replays it and finishes the file.
        (err: Error) => log.error({ file: name, err: err.message }, 'could not note a spool file as done; it is finished at the next start'),
      );
    });
  }
}

/**
 * SHA-256 of the file's first `size` bytes, read in bounded chunks; undefined if it got shorter.
 * With `throughNewline`, of the part up to and including its last newline instead (a file still
 * being written is ingested only as far as its last whole line); `end` says where that is.
 */
export async function fingerprint(fh: FileHandle, size: number, throughNewline = false): Promise<{ fp: string; end: number } | undefined> {
  const h = createHash('sha256');
  let atNewline = { fp: createHash('sha256').digest('hex'), end: 0 };
  const buf = Buffer.allocUnsafe(1024 * 1024);
  for (let pos = 0; pos < size; ) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
    if (bytesRead === 0) return undefined;
    const chunk = buf.subarray(0, bytesRead);
    const nl = throughNewline ? chunk.lastIndexOf(0x0a) : -1;
    if (nl >= 0) {
      h.update(chunk.subarray(0, nl + 1));
      atNewline = { fp: h.copy().digest('hex'), end: pos + nl + 1 };
      h.update(chunk.subarray(nl + 1));
    } else h.update(chunk);
    pos += bytesRead;
  }
  return throughNewline ? atNewline : { fp: h.digest('hex'), end: size };
}
