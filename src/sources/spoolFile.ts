import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { OwnType } from '../ownRecords.js';
import type { AckTarget, JsonObject } from '../types.js';
import { isBlank } from './lineSplitter.js';
import type { FileStatus, SpoolSource } from './spool.js';

/**
 * One file's ingest: submits its lines, counts their acks, and once every line
 * is committed seals an `ingested` (or `failed`) record, then finishes the file.
 */
export class FileIngest implements AckTarget {
  private lineNo = 0;
  private outstanding = 0;
  private ended = false;
  private problem: [string, string] | undefined;
  private accepted = 0;
  private rejectedCount = 0;
  private duplicates = 0;

  constructor(
    private readonly src: SpoolSource,
    readonly name: string,
    readonly fp: string,
    readonly size: number,
    private readonly resumeAfter: number,
    private readonly status: FileStatus,
  ) {}

  line(bytes: Buffer, oversize?: { length: number; sha256: string }): void {
    const line = ++this.lineNo;
    this.status.lines = line;
    if (line <= this.resumeAfter) return; // committed before a restart
    if (!oversize && isBlank(bytes)) return;
    this.outstanding++;
    this.src.submit({ bytes, oversize, source: { kind: 'spool', file: this.name, fp: this.fp, line }, ack: this });
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
    const progress = this.src.spoolProgress;
    progress.lineCommitted(this.fp, line);
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
    const facts: JsonObject = {
      file: this.name, fp: this.fp, bytes: this.size, lines: this.lineNo,
      accepted: this.accepted, rejected: this.rejectedCount, duplicates: this.duplicates, resumed_after_line: this.resumeAfter,
    };
    const progress = this.src.spoolProgress;
    if (this.problem) {
      const [code, reason] = this.problem;
      this.src.record(OwnType.SPOOL_FAILED, 'warn', { ...facts, code, reason }, () => {
        progress.forget(this.fp);
        void this.src.finish(this.name, this.status, 'rejected');
      });
      return;
    }
    this.src.record(OwnType.SPOOL_INGESTED, 'info', facts, (seq) => {
      const done = progress.markDone({ fp: this.fp, name: this.name, seq });
      progress.advance(seq);
      void done.then(
        () => this.src.finish(this.name, this.status, 'done'),
        // The ingested record is durable, so nothing is lost: the next start replays it and finishes the file.
        (err: Error) => this.src.logger.error({ file: this.name, err: err.message }, 'could not note a spool file as done; it is finished at the next start'),
      );
    });
  }
}

/** SHA-256 of the file's first `size` bytes, read in bounded chunks; undefined if it got shorter. */
export async function fingerprint(fh: FileHandle, size: number): Promise<string | undefined> {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(1024 * 1024);
  for (let pos = 0; pos < size; ) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
    if (bytesRead === 0) return undefined;
    h.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return h.digest('hex');
}
